import type { CommandOutcome } from './command';
import { fetchDocker } from './docker-api';
import type { DockerPortRequest } from './host-context';
import { isObject, parseJsonArray, str, type JsonObject } from './json-fields';

/** Running containers inspected at most (one GET each), in the order the API lists them. */
const MAX_INSPECTED_CONTAINERS = 256;

/**
 * The running containers' inspect answers from the Docker Engine API: GET /containers/json,
 * then GET /containers/ID/json for each (the list has the ports Docker published, not the
 * ones a container asked for). Resolves to a JSON array, or to the reason there is none;
 * never rejects.
 */
export async function fetchDockerContainers(socketPath: string, timeoutMs: number): Promise<CommandOutcome> {
  const list = await fetchDocker(socketPath, '/containers/json', timeoutMs);
  if (!list.ok) return list;
  let containers: unknown;
  try {
    containers = JSON.parse(list.stdout);
  } catch {
    return list; // parseDockerPortRequests says what is wrong with it
  }
  if (!Array.isArray(containers)) return list;
  const ids = containers
    .slice(0, MAX_INSPECTED_CONTAINERS)
    .map((c) => (isObject(c) ? str(c, 'Id') : null))
    .filter((id): id is string => id !== null && /^[0-9a-zA-Z_.-]+$/.test(id));
  const inspected = await Promise.all(
    ids.map(async (id) => {
      const one = await fetchDocker(socketPath, `/containers/${id}/json`, timeoutMs);
      if (!one.ok) return null;
      try {
        const full: unknown = JSON.parse(one.stdout);
        return isObject(full) ? full : null;
      } catch {
        return null;
      }
    }),
  );
  return { ok: true, stdout: JSON.stringify(inspected.filter((c) => c !== null)) };
}

/**
 * The ports the containers asked Docker to publish (HostConfig.PortBindings: `-p`, compose
 * `ports:`), each with whether Docker did (NetworkSettings.Ports has a binding for it) and
 * the container's networks: a container only on --internal networks asks in vain.
 */
export function parseDockerPortRequests(text: string): DockerPortRequest[] {
  const out: DockerPortRequest[] = [];
  for (const c of parseJsonArray(text, 'Docker API GET /containers/ID/json')) {
    const name = str(c, 'Name')?.replace(/^\//, '');
    const host = c['HostConfig'];
    const settings = c['NetworkSettings'];
    if (name === undefined || !isObject(host) || !isObject(settings)) continue;
    const bindings = host['PortBindings'];
    if (!isObject(bindings)) continue;
    const published = isObject(settings['Ports']) ? (settings['Ports'] as JsonObject) : {};
    const networks = isObject(settings['Networks']) ? Object.keys(settings['Networks']).sort() : [];
    for (const [key, list] of Object.entries(bindings)) {
      const m = /^(\d+)\/(\w+)$/.exec(key);
      if (m === null || !Array.isArray(list)) continue;
      const done = published[key];
      for (const b of list.filter(isObject)) {
        out.push({
          container: name,
          containerPort: Number(m[1]),
          protocol: m[2]!,
          hostIp: str(b, 'HostIp') ?? '',
          hostPort: Number(str(b, 'HostPort') || 0),
          published: Array.isArray(done) && done.length > 0,
          networks,
        });
      }
    }
  }
  return out;
}
