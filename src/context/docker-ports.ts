import type { CommandOutcome } from './command';
import { fetchDocker } from './docker-api';
import type { DockerPortRequest } from './host-context';
import { isObject, parseJsonArray, str, type JsonObject } from './json-fields';

/** Running containers inspected at most (one GET each), in the order the API lists them. */
const MAX_INSPECTED_CONTAINERS = 256;
/** Inspects at once: a node's context is collected at every window of `watch`. */
const INSPECTS_AT_ONCE = 8;

/**
 * The running containers' inspect answers from the Docker Engine API: GET /containers/json,
 * then GET /containers/ID/json for each that may have asked for a port in vain (the list has
 * the ports Docker published, not the ones a container asked for), eight at a time. Resolves
 * to a JSON array, or to the reason there is none; never rejects.
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
    .filter((c) => isObject(c) && mayAskInVain(c))
    .slice(0, MAX_INSPECTED_CONTAINERS)
    .map((c) => str(c as JsonObject, 'Id'))
    .filter((id): id is string => id !== null && /^[0-9a-zA-Z_.-]+$/.test(id));
  const inspected: JsonObject[] = [];
  for (let at = 0; at < ids.length; at += INSPECTS_AT_ONCE) {
    const batch = await Promise.all(ids.slice(at, at + INSPECTS_AT_ONCE).map((id) => inspect(socketPath, id, timeoutMs)));
    for (const c of batch) if (c !== null) inspected.push(c);
  }
  return { ok: true, stdout: JSON.stringify(inspected) };
}

/**
 * A listed container worth inspecting: its own network namespace (not host, none or
 * container:X), and not every port it shows published (a container on --internal networks
 * alone shows none at all, whatever it asked for).
 */
function mayAskInVain(c: JsonObject): boolean {
  const host = c['HostConfig'];
  const mode = isObject(host) ? (str(host, 'NetworkMode') ?? '') : '';
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return false;
  const ports = Array.isArray(c['Ports']) ? c['Ports'].filter(isObject) : [];
  return ports.length === 0 || ports.some((p) => p['PublicPort'] === undefined);
}

/** What a port request needs of one container's inspect answer (not its environment or mounts), or null. */
async function inspect(socketPath: string, id: string, timeoutMs: number): Promise<JsonObject | null> {
  const one = await fetchDocker(socketPath, `/containers/${id}/json`, timeoutMs);
  if (!one.ok) return null;
  try {
    const full: unknown = JSON.parse(one.stdout);
    if (!isObject(full)) return null;
    const host = isObject(full['HostConfig']) ? full['HostConfig'] : {};
    const settings = isObject(full['NetworkSettings']) ? full['NetworkSettings'] : {};
    return {
      Name: full['Name'] ?? null,
      State: isObject(full['State']) ? { Restarting: full['State']['Restarting'] ?? false } : {},
      HostConfig: { NetworkMode: host['NetworkMode'] ?? null, PortBindings: host['PortBindings'] ?? null },
      NetworkSettings: { Ports: settings['Ports'] ?? null, Networks: settings['Networks'] ?? null },
    };
  } catch {
    return null;
  }
}

/**
 * The ports the containers asked Docker to publish (HostConfig.PortBindings: `-p`, compose
 * `ports:`), each with whether Docker did (NetworkSettings.Ports has a binding for it) and
 * the container's networks: a container only on --internal networks asks in vain. Left out:
 * containers that share another namespace (network mode host, none, container:X: Docker
 * keeps their -p but publishes nothing, by design), a restarting container (its mappings
 * come back with it), and host port ranges (-p 8000-8010:80).
 */
export function parseDockerPortRequests(text: string): DockerPortRequest[] {
  const out: DockerPortRequest[] = [];
  for (const c of parseJsonArray(text, 'Docker API GET /containers/ID/json')) {
    const name = str(c, 'Name')?.replace(/^\//, '');
    const host = c['HostConfig'];
    const settings = c['NetworkSettings'];
    if (name === undefined || !isObject(host) || !isObject(settings)) continue;
    const mode = str(host, 'NetworkMode') ?? '';
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) continue;
    if (isObject(c['State']) && c['State']['Restarting'] === true) continue;
    const bindings = host['PortBindings'];
    if (!isObject(bindings)) continue;
    const published = isObject(settings['Ports']) ? (settings['Ports'] as JsonObject) : {};
    const networks = isObject(settings['Networks']) ? Object.keys(settings['Networks']).sort() : [];
    for (const [key, list] of Object.entries(bindings)) {
      const m = /^(\d+)\/(\w+)$/.exec(key);
      if (m === null || !Array.isArray(list)) continue;
      const done = published[key];
      for (const b of list.filter(isObject)) {
        const hostPort = str(b, 'HostPort') ?? '';
        if (!/^\d*$/.test(hostPort)) continue;
        out.push({
          container: name,
          containerPort: Number(m[1]),
          protocol: m[2]!,
          hostIp: str(b, 'HostIp') ?? '',
          hostPort: Number(hostPort || 0),
          published: Array.isArray(done) && done.length > 0,
          networks,
        });
      }
    }
  }
  return out;
}
