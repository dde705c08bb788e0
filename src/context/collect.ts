import * as fs from 'node:fs';
import * as os from 'node:os';
import { runCommand, type CommandOutcome, type CommandRunner, type FileReader } from './command';
import { DEFAULT_DOCKER_SOCKET, DOCKER_TIMEOUT_MS, fetchDockerInfo, fetchDockerNetworks, parseDockerNetworks } from './docker-api';
import { fetchDockerContainers, parseDockerPortRequests } from './docker-ports';
import { parseDockerSwarm } from './docker-swarm';
import { CONTEXT_SCHEMA, LEGACY_SAVE, type HostContext, type InterfaceAddress, type NetInterface } from './host-context';
import { currentNamespaceLabel } from './netns-label';
import { parseIpAddr, withAddresses } from './parse-ip-addr';
import { parseIpLink } from './parse-ip-link';
import { parseIpRoute } from './parse-ip-route';
import { parseIpRule } from './parse-ip-rule';
import { parseProcNet } from './parse-proc-net';
import { parseSsListeners, readTcpListeners } from './parse-listeners';
import { readSysctls } from './sysctls';
import { readConntrackTable } from '../evidence/conntrack-table';

export type { CommandRunner, FileReader } from './command';

/** Sources and how they are reached; every one can be replaced so tests replay recorded outputs. */
export interface CollectOptions {
  /** The Docker Engine API socket (default /var/run/docker.sock). */
  dockerSocket?: string;
  /** Label for the namespace in the snapshot; detected (`ip netns` name, "host") when absent. */
  namespaceLabel?: string;
  /** Runs `ip`, `iptables-save`, `nft` (default: the real tools, 5 s limit each). */
  run?: CommandRunner;
  /** Reads /proc files (default: the real file system). */
  readFile?: FileReader;
  /** Lists a directory, for /proc/sys/net/ipv4/conf (default: the real file system). */
  listDir?: (path: string) => string[] | null;
  /** Clock for `capturedAt`. */
  now?: () => Date;
}

type Unavailable = HostContext['unavailable'][number];

/**
 * Read the host context of the network namespace this process runs in. Every source is
 * optional: a missing tool, file or socket, or output that cannot be read, is listed in
 * `unavailable` with the reason and the rest is still collected. Never throws for a
 * host that lacks something.
 *
 * Interfaces, routes and rules come from iproute2's JSON (`ip -j`), i.e. netlink:
 * procfs has neither the non-main tables nor the policy rules.
 */
export async function collectHostContext(options: CollectOptions = {}): Promise<HostContext> {
  const run = options.run ?? ((file, args) => runCommand(file, args));
  const readFile = options.readFile ?? readTextFile;
  const listDir = options.listDir ?? listDirectory;
  const dockerSocket = options.dockerSocket ?? DEFAULT_DOCKER_SOCKET;
  const unavailable: Unavailable[] = [];

  /** Parse a tool's outcome, or record why there is nothing to parse. */
  const parsed = <T>(source: string, outcome: CommandOutcome, parse: (text: string) => T): T | null => {
    if (!outcome.ok) {
      unavailable.push({ source, reason: outcome.reason });
      return null;
    }
    try {
      return parse(outcome.stdout);
    } catch (e) {
      unavailable.push({ source, reason: (e as Error).message });
      return null;
    }
  };

  const [ip, nat, nft, docker, dockerInfo, dockerContainers, ss] = await Promise.all([
    readIp(run),
    // Plain iptables-save lists only tables already loaded; `-t nat` could make the kernel
    // load iptable_nat, and the tool must not change the host it inspects.
    run('iptables-save', []),
    run('nft', ['list', 'ruleset']),
    fetchDockerNetworks(dockerSocket),
    fetchDockerInfo(dockerSocket),
    fetchDockerContainers(dockerSocket, DOCKER_TIMEOUT_MS),
    // Listening sockets over netlink (sock_diag, filtered by state in the kernel): on a host
    // with a million connections /proc/net/tcp would list them all.
    run('ss', ['-Hltn']),
  ]);

  let interfaces: NetInterface[] = [];
  let routes: HostContext['routes'] = [];
  let rules: HostContext['rules'] = [];
  if (ip === null) {
    unavailable.push({ source: 'ip', reason: 'ip: command not found (interfaces, routes and rules need iproute2)' });
  } else {
    const links = parsed('ip link', ip.link, parseIpLink) ?? [];
    const addresses = parsed('ip addr', ip.addr, parseIpAddr) ?? new Map<number, InterfaceAddress[]>();
    interfaces = withAddresses(links, addresses).sort((a, b) => a.index - b.index);
    routes = [
      ...(parsed('ip -4 route', ip.route4, (t) => parseIpRoute(t, 4)) ?? []),
      ...(parsed('ip -6 route', ip.route6, (t) => parseIpRoute(t, 6)) ?? []),
    ];
    rules = [
      ...(parsed('ip -4 rule', ip.rule4, (t) => parseIpRule(t, 4)) ?? []),
      ...(parsed('ip -6 rule', ip.rule6, (t) => parseIpRule(t, 6)) ?? []),
    ];
  }

  const dockerNetworks = parsed('docker', docker, parseDockerNetworks);
  // No socket is one entry ("docker"), not two.
  const dockerSwarm = dockerNetworks === null ? null : parsed('docker info', dockerInfo, parseDockerSwarm);
  const dockerPorts = dockerNetworks === null ? null : parsed('docker containers', dockerContainers, parseDockerPortRequests);
  const natRules = { iptables: parsed('iptables-save', nat, natSection), nft: parsed('nft', nft, (t) => t) };
  // iptables-nft's save notes rules it cannot show: the host's legacy tables (Docker's, on a host whose default is legacy).
  if (nat.ok && nat.stdout.includes(LEGACY_TABLES_PRESENT)) unavailable.push({ source: LEGACY_SAVE, reason: 'iptables-save says iptables-legacy tables are present: their rules are not in this snapshot' });

  const confDirs = listDir('/proc/sys/net/ipv4/conf') ?? interfaces.map((i) => i.name);
  const sysctlReading = readSysctls(readFile, confDirs.sort());
  unavailable.push(...sysctlReading.unavailable);

  const counters: Record<string, number> = {};
  for (const file of ['/proc/net/netstat', '/proc/net/snmp']) {
    const text = readFile(file);
    if (text === null) unavailable.push({ source: file, reason: `cannot read ${file}` });
    else Object.assign(counters, parseProcNet(text));
  }

  const conntrack = readConntrackTable(readFile);
  if (conntrack === null) {
    unavailable.push({ source: 'conntrack', reason: 'no /proc/sys/net/netfilter/nf_conntrack_count (nf_conntrack not loaded)' });
  }

  const listeners = ss.ok ? parseSsListeners(ss.stdout) : readTcpListeners(readFile, '/proc/net');
  if (listeners === null) unavailable.push({ source: 'listeners', reason: `${ss.ok ? '' : `ss: ${ss.reason}; `}cannot read /proc/net/tcp` });

  const release = readFile('/proc/sys/kernel/osrelease')?.trim() ?? null;
  if (release === null) unavailable.push({ source: 'kernel release', reason: 'cannot read /proc/sys/kernel/osrelease' });

  return {
    schema: CONTEXT_SCHEMA,
    capturedAt: (options.now ?? (() => new Date()))().toISOString(),
    hostname: readFile('/proc/sys/kernel/hostname')?.trim() || os.hostname(),
    namespace: options.namespaceLabel ?? currentNamespaceLabel(),
    kernelRelease: release,
    interfaces,
    routes,
    rules,
    dockerNetworks,
    ...(dockerNetworks !== null && { dockerSwarm }),
    ...(dockerPorts !== null && { dockerPorts }),
    sysctls: sysctlReading.sysctls,
    counters,
    conntrack,
    ...(listeners !== null && { listeners }),
    natRules,
    unavailable,
  };
}

interface IpOutputs {
  link: CommandOutcome;
  addr: CommandOutcome;
  route4: CommandOutcome;
  route6: CommandOutcome;
  rule4: CommandOutcome;
  rule6: CommandOutcome;
}

/** The six `ip -j` outputs, or null when `ip` itself is missing (one entry then, not six). */
async function readIp(run: CommandRunner): Promise<IpOutputs | null> {
  const link = await run('ip', ['-j', '-d', 'link', 'show']);
  if (!link.ok && link.missing === true) return null;
  const [addr, route4, route6, rule4, rule6] = await Promise.all([
    run('ip', ['-j', 'addr', 'show']),
    run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']),
    run('ip', ['-j', '-6', 'route', 'show', 'table', 'all']),
    run('ip', ['-j', '-4', 'rule', 'show']),
    run('ip', ['-j', '-6', 'rule', 'show']),
  ]);
  return { link, addr, route4, route6, rule4, rule6 };
}

/** The sysctls `collectHostContext` records, read again now in this thread's namespace. */
export function readCurrentSysctls(): Record<string, string> {
  return readSysctls(readTextFile, (listDirectory('/proc/sys/net/ipv4/conf') ?? []).sort()).sysctls;
}

function readTextFile(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function listDirectory(path: string): string[] | null {
  try {
    return fs.readdirSync(path);
  } catch {
    return null;
  }
}

/**
 * The tables of iptables-save output that decide a SYN's path, in the order printed: raw
 * (Docker 28+ drops direct access to container addresses in raw PREROUTING), mangle, nat
 * (DNAT, masquerade), filter (FORWARD, DOCKER-USER, DOCKER-FORWARD...) and security.
 * Plain `iptables-save` lists only tables already in use, so nothing is loaded to read them.
 */
export function natSection(saved: string): string {
  const out: string[] = [];
  const re = /^\*(\w+)$/gm;
  for (let m = re.exec(saved); m !== null; m = re.exec(saved)) {
    if (!SAVED_TABLES.has(m[1]!)) continue;
    const end = saved.indexOf('\nCOMMIT', m.index);
    out.push(saved.slice(m.index, end < 0 ? undefined : end + '\nCOMMIT'.length) + '\n');
  }
  return out.join('');
}

const SAVED_TABLES = new Set(['raw', 'mangle', 'nat', 'filter', 'security']);

/** What iptables-nft-save prints when legacy tables exist beside its own. */
const LEGACY_TABLES_PRESENT = 'iptables-legacy tables present';
