import * as http from 'node:http';
import { parseSubnet } from '../net/cidr';
import { canonicalAddress } from './canonical';
import type { CommandOutcome } from './command';
import type { DockerEndpoint, DockerNetwork } from './host-context';
import { isObject, parseJsonArray, str, type JsonObject } from './json-fields';

/** Where the Docker Engine listens unless told otherwise. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/**
 * A local daemon answers /networks in milliseconds, but a busy one (dockerd 20.10's /info runs
 * `runc --version`) can take seconds; a hung one must not hang `synscope context`.
 */
export const DOCKER_TIMEOUT_MS = 5000;

/** Networks inspected one by one for their endpoints (the list answer leaves them out); more are listed without. */
const MAX_INSPECTED_NETWORKS = 64;

/**
 * The networks from the Docker Engine API over its unix socket (plain HTTP, no docker
 * CLI): GET /networks, then GET /networks/ID for each (the list leaves out the endpoints:
 * which container, or ingress_sbox, holds which address). The unversioned path gets the
 * daemon's own API version. Resolves to a JSON array, or to the reason there is none (no
 * socket, refused, timeout, HTTP error); never rejects.
 */
export async function fetchDockerNetworks(socketPath: string, timeoutMs = DOCKER_TIMEOUT_MS): Promise<CommandOutcome> {
  const list = await fetchDocker(socketPath, '/networks', timeoutMs);
  if (!list.ok) return list;
  let networks: unknown;
  try {
    networks = JSON.parse(list.stdout);
  } catch {
    return list; // parseDockerNetworks says what is wrong with it
  }
  if (!Array.isArray(networks)) return list;
  const inspected = await Promise.all(
    networks.map(async (n, i) => {
      const id = isObject(n) ? str(n, 'Id') : null;
      // Not inspected: the list's empty Containers would read as "no containers"; without it, as not known.
      const uninspected = isObject(n) ? withoutContainers(n) : n;
      if (id === null || i >= MAX_INSPECTED_NETWORKS || !/^[0-9a-zA-Z_.-]+$/.test(id)) return uninspected;
      const one = await fetchDocker(socketPath, `/networks/${id}`, timeoutMs);
      if (!one.ok) return uninspected;
      try {
        const full: unknown = JSON.parse(one.stdout);
        return isObject(full) ? full : uninspected;
      } catch {
        return uninspected;
      }
    }),
  );
  return { ok: true, stdout: JSON.stringify(inspected) };
}

function withoutContainers(n: JsonObject): JsonObject {
  const { Containers: _containers, ...rest } = n;
  return rest;
}

/** GET /networks alone, as fetchDockerNetworks but without the endpoints: enough for each network's driver and bridge device. */
export function fetchDockerNetworkList(socketPath: string, timeoutMs = DOCKER_TIMEOUT_MS): Promise<CommandOutcome> {
  return fetchDocker(socketPath, '/networks', timeoutMs);
}

/** GET /info (the swarm role among the rest), as fetchDockerNetworks. */
export function fetchDockerInfo(socketPath: string, timeoutMs = DOCKER_TIMEOUT_MS): Promise<CommandOutcome> {
  return fetchDocker(socketPath, '/info', timeoutMs);
}

/** One GET on the Engine API socket: the body of a 200 answer, or why there is none. */
export async function fetchDocker(socketPath: string, path: string, timeoutMs: number): Promise<CommandOutcome> {
  const answer = await dockerRequest(socketPath, 'GET', path, null, timeoutMs);
  if (!answer.ok) return answer;
  if (answer.status === 200) return { ok: true, stdout: answer.body.toString('utf8') };
  return { ok: false, reason: `HTTP ${answer.status} from ${socketPath} GET ${path}` };
}

/** An Engine API answer: its status and body, or why there is none (no socket, refused, timeout). */
export type DockerAnswer = { ok: true; status: number; body: Buffer } | { ok: false; reason: string };

/**
 * One request on the Engine API socket (plain HTTP over the unix socket), with a JSON body
 * when given; resolves to the status and the whole body, never rejects.
 */
export function dockerRequest(socketPath: string, method: string, path: string, body: object | null, timeoutMs: number, signal?: AbortSignal): Promise<DockerAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: DockerAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(answer);
    };
    const onAbort = () => {
      finish({ ok: false, reason: `stopped before ${socketPath} answered` });
      req.destroy();
    };
    const payload = body === null ? null : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { Host: 'docker' };
    if (payload !== null) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': payload.length });
    const req = http.request({ socketPath, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish({ ok: false, reason: `reading from ${socketPath}: ${e.message}` }));
      res.on('end', () => finish({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    const timer = setTimeout(() => {
      finish({ ok: false, reason: `no answer from ${socketPath} within ${timeoutMs / 1000} s` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: connectError(e, socketPath) }));
    if (signal?.aborted === true) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    req.end(payload ?? undefined);
  });
}

function connectError(e: NodeJS.ErrnoException, socketPath: string): string {
  switch (e.code) {
    case 'ENOENT':
      return `no socket at ${socketPath}`;
    case 'EACCES':
      return `permission denied on ${socketPath} (needs root or the docker group)`;
    case 'ECONNREFUSED':
      return `nothing listening on ${socketPath}`;
    case 'ENOTSOCK':
      return `${socketPath} is not a socket`;
    default:
      return `${socketPath}: ${e.message}`;
  }
}

/**
 * Networks from the Engine API's /networks answer. The bridge device is the
 * `com.docker.network.bridge.name` option when set; otherwise Docker's own naming:
 * docker0 for the default "bridge" network, docker_gwbridge for the swarm gateway
 * bridge, br-<first 12 hex of the Id> for other bridge-driver networks. Other drivers
 * (overlay, including the swarm `ingress` network, host, null, macvlan) have none.
 */
export function parseDockerNetworks(text: string): DockerNetwork[] {
  const out: DockerNetwork[] = [];
  for (const n of parseJsonArray(text, 'Docker API GET /networks')) {
    const name = str(n, 'Name');
    const id = str(n, 'Id');
    if (name === null || id === null) continue;
    const driver = str(n, 'Driver') ?? '';
    const subnets: string[] = [];
    const gateways: string[] = [];
    for (const c of ipamConfigs(n)) {
      const subnet = str(c, 'Subnet');
      const cidr = subnet === null ? null : parseSubnet(subnet);
      if (cidr !== null) subnets.push(cidr.text);
      // Docker stores the gateway as a bare address; older daemons wrote "a.b.c.d/nn".
      const gateway = str(c, 'Gateway')?.split('/')[0];
      const gw = gateway === undefined || gateway === '' ? null : canonicalAddress(gateway);
      if (gw !== null) gateways.push(gw.text);
    }
    out.push({
      id,
      name,
      driver,
      scope: str(n, 'Scope') ?? '',
      subnets,
      gateways,
      bridge: bridgeDevice(n, name, id, driver),
      ingress: n['Ingress'] === true,
      internal: n['Internal'] === true,
      ...(driver === 'bridge' && { masquerade: bridgeOption(n, 'com.docker.network.bridge.enable_ip_masquerade') !== 'false' }),
      ...vlanOptions(n, driver),
      ...(isObject(n['Containers']) && { endpoints: endpointsOf(n) }),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The network's endpoints from an inspect answer's Containers: a container's name, or
 * Docker's own sandboxes ("ingress-sbox", "gateway_ingress-sbox" for ingress_sbox's leg on
 * docker_gwbridge, "gateway_<id>" for a task's), with the addresses they hold.
 */
function endpointsOf(n: JsonObject): DockerEndpoint[] {
  const containers = n['Containers'];
  if (!isObject(containers)) return [];
  const out: DockerEndpoint[] = [];
  for (const c of Object.values(containers)) {
    if (!isObject(c)) continue;
    const name = str(c, 'Name');
    const addresses = [str(c, 'IPv4Address'), str(c, 'IPv6Address')]
      .map((a) => (a === null || a === '' ? null : canonicalAddress(a.split('/')[0]!)))
      .filter((a) => a !== null)
      .map((a) => a!.text);
    if (name !== null && addresses.length > 0) out.push({ name, addresses });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function ipamConfigs(n: JsonObject): JsonObject[] {
  const ipam = n['IPAM'];
  const config = isObject(ipam) ? ipam['Config'] : null;
  return Array.isArray(config) ? config.filter(isObject) : [];
}

/**
 * A macvlan or ipvlan network's parent interface and mode, each when set (Docker makes a dummy
 * parent when none is given: then "" or absent; its default modes are bridge and l2).
 */
function vlanOptions(n: JsonObject, driver: string): Pick<DockerNetwork, 'parent' | 'mode'> {
  if (driver !== 'macvlan' && driver !== 'ipvlan') return {};
  const set = (v: string | null) => (v === null || v === '' ? undefined : v);
  const parent = set(bridgeOption(n, 'parent'));
  const mode = set(bridgeOption(n, `${driver}_mode`));
  return { ...(parent !== undefined && { parent }), ...(mode !== undefined && { mode }) };
}

function bridgeOption(n: JsonObject, key: string): string | null {
  const options = n['Options'];
  return isObject(options) ? str(options, key) : null;
}

function bridgeDevice(n: JsonObject, name: string, id: string, driver: string): string | null {
  if (driver !== 'bridge') return null;
  const named = bridgeOption(n, 'com.docker.network.bridge.name');
  if (named !== null && named !== '') return named;
  if (name === 'bridge') return 'docker0';
  if (name === 'docker_gwbridge') return 'docker_gwbridge';
  return `br-${id.slice(0, 12)}`;
}
