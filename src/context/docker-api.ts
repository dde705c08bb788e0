import * as http from 'node:http';
import { parseSubnet } from '../net/cidr';
import { canonicalAddress } from './canonical';
import type { CommandOutcome } from './command';
import type { DockerNetwork } from './host-context';
import { isObject, parseJsonArray, str, type JsonObject } from './json-fields';

/** Where the Docker Engine listens unless told otherwise. */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** A local daemon answers /networks in milliseconds; a hung one must not hang `synscope context`. */
export const DOCKER_TIMEOUT_MS = 2000;

/**
 * GET /networks from the Docker Engine API over its unix socket (plain HTTP, no docker
 * CLI). The unversioned path gets the daemon's own API version. Resolves to the body,
 * or to the reason there is none (no socket, refused, timeout, HTTP error); never rejects.
 */
export function fetchDockerNetworks(socketPath: string, timeoutMs = DOCKER_TIMEOUT_MS): Promise<CommandOutcome> {
  return fetchDocker(socketPath, '/networks', timeoutMs);
}

/** GET /info (the swarm role among the rest), as fetchDockerNetworks. */
export function fetchDockerInfo(socketPath: string, timeoutMs = DOCKER_TIMEOUT_MS): Promise<CommandOutcome> {
  return fetchDocker(socketPath, '/info', timeoutMs);
}

function fetchDocker(socketPath: string, path: string, timeoutMs: number): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: CommandOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = http.get({ socketPath, path, headers: { Host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => finish({ ok: false, reason: `reading from ${socketPath}: ${e.message}` }));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode === 200) finish({ ok: true, stdout: body });
        else finish({ ok: false, reason: `HTTP ${res.statusCode ?? '?'} from ${socketPath} GET ${path}` });
      });
    });
    const timer = setTimeout(() => {
      finish({ ok: false, reason: `no answer from ${socketPath} within ${timeoutMs / 1000} s` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, reason: connectError(e, socketPath) }));
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
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function ipamConfigs(n: JsonObject): JsonObject[] {
  const ipam = n['IPAM'];
  const config = isObject(ipam) ? ipam['Config'] : null;
  return Array.isArray(config) ? config.filter(isObject) : [];
}

function bridgeDevice(n: JsonObject, name: string, id: string, driver: string): string | null {
  if (driver !== 'bridge') return null;
  const options = n['Options'];
  const named = isObject(options) ? str(options, 'com.docker.network.bridge.name') : null;
  if (named !== null && named !== '') return named;
  if (name === 'bridge') return 'docker0';
  if (name === 'docker_gwbridge') return 'docker_gwbridge';
  return `br-${id.slice(0, 12)}`;
}
