import type { HostContext, Route } from '../../context/host-context';
import { formatAddress, ipv4ToString } from '../../decode/address';
import type { Flow } from '../../flow/flow';
import { contextInterface, deviceOf, sameLink, synInterface, usedSubnets } from '../context-facts';
import type { Finding } from '../finding';
import { findFreeSubnets } from '../free-subnet';
import { distinct, groupBy, plural } from '../group';
import type { DiagnosisInput } from '../input';
import { addressValue, cidrContains, isMoreSpecific, prefixLength } from '../prefix';
import { lookupRoute } from '../route-sim';

/** Where the host would send the reply to a failed client, against where its SYN came in. */
interface ReplyPath {
  flow: Flow;
  synInterface: string;
  /** Output device of the reply, or null when the host has no route back. */
  replyDevice: string | null;
  /** The route as `ip route` would print it, or why there is none. */
  replyRoute: string;
}

/** One prefix reachable through two devices in one table. */
interface DoubleRoute {
  table: string;
  /** The prefix both routes cover (the more specific one's). */
  prefix: string;
  routes: Route[];
}

/**
 * `route-conflict`: (a) the reply to a failed client would leave by another interface
 * than the one its SYN came in on, per a simulation of the kernel's route lookup over the
 * snapshot; (b) one prefix routed through two devices in one table (incident 001:
 * 192.168.0.0/24 on eth0 and on docker0), or a bridge route inside a wider route of the
 * uplink. (b) is reported from the context alone as a warning, as an error once a failed
 * flow is affected. Flows in `droppedBeforeReply` (rp_filter dropped their SYN) are left out of (a).
 */
export function routeConflictRule(input: DiagnosisInput, droppedBeforeReply: ReadonlySet<string> = new Set()): Finding[] {
  const ctx = input.context;
  if (ctx === null) return [];
  const silent = input.failedFlows.filter((f) => f.outcome === 'unanswered' || f.outcome === 'synAckLost');
  const paths = new Map<string, ReplyPath>();
  for (const f of silent) {
    const p = replyPath(ctx, f, input);
    if (p !== null) paths.set(f.id, p);
  }
  const findings: Finding[] = [];
  const claimed = new Set<string>();
  for (const d of doubleRoutes(ctx, input)) {
    const flows = silent.filter((f) => contains(d.prefix, f.clientIp) && (paths.get(f.id) === undefined || mismatched(ctx, paths.get(f.id)!)));
    for (const f of flows) claimed.add(f.id);
    findings.push(doubleRouteFinding(ctx, input, d, flows, paths));
  }
  // A SYN that reverse-path filtering dropped never got a reply to misroute.
  const rest = [...paths.values()].filter((p) => !claimed.has(p.flow.id) && !droppedBeforeReply.has(p.flow.id) && mismatched(ctx, p));
  for (const group of groupBy(rest, (p) => `${p.synInterface}|${p.replyDevice}`).values()) {
    findings.push(asymmetricFinding(ctx, group));
  }
  return findings;
}

function replyPath(ctx: HostContext, f: Flow, input: DiagnosisInput): ReplyPath | null {
  const syn = synInterface(f, input);
  if (syn === null) return null;
  // The reply is generated locally (src = the server address), so iif is lo.
  const r = lookupRoute(ctx, f.clientIp, { src: f.serverIp });
  if ('route' in r && (r.route.type === 'local' || r.route.device === null)) return null;
  return { flow: f, synInterface: syn, replyDevice: deviceOf(r), replyRoute: 'route' in r ? describe(r.route) : r.unreachable };
}

function mismatched(ctx: HostContext, p: ReplyPath): boolean {
  return p.replyDevice === null || !sameLink(ctx, p.synInterface, p.replyDevice);
}

function isBridge(ctx: HostContext, input: DiagnosisInput, name: string): boolean {
  return contextInterface(ctx, name)?.kind === 'bridge' || input.bridges.some((b) => b.name === name) || (ctx.dockerNetworks ?? []).some((n) => n.bridge === name);
}

function routable(r: Route): boolean {
  if (r.type !== 'unicast' || r.device === null) return false;
  const len = prefixLength(r.destination);
  if (len === null || len === 0 || r.destination === 'default') return false;
  // Link-local and multicast prefixes exist on every interface by design.
  return !/^(fe[89ab][0-9a-f]|ff[0-9a-f]{2}):/i.test(r.destination) && !r.destination.startsWith('169.254.');
}

/** Prefixes routed via two devices in one table: same destination, or a bridge route inside a wider uplink route. */
function doubleRoutes(ctx: HostContext, input: DiagnosisInput): DoubleRoute[] {
  const out: DoubleRoute[] = [];
  const candidates = ctx.routes.filter((r) => r.table !== 'local' && r.table !== '255' && routable(r));
  for (const [key, routes] of groupBy(candidates, (r) => `${r.table}|${r.destination}`)) {
    const devices = distinct(routes.map((r) => r.device!));
    if (devices.length < 2) continue;
    // Equal-cost gateways over plain uplinks are multipath, not a conflict.
    const ecmp = routes.every((r) => r.gateway !== null && r.metric === routes[0]!.metric) && !devices.some((d) => isBridge(ctx, input, d));
    if (!ecmp) out.push({ table: key.slice(0, key.indexOf('|')), prefix: routes[0]!.destination, routes });
  }
  for (const inner of candidates) {
    if (!isBridge(ctx, input, inner.device!)) continue;
    for (const outer of candidates) {
      if (outer.table !== inner.table || isBridge(ctx, input, outer.device!) || !isMoreSpecific(inner.destination, outer.destination)) continue;
      if (out.some((d) => d.table === inner.table && d.prefix === inner.destination)) continue;
      out.push({ table: inner.table, prefix: inner.destination, routes: [outer, inner] });
    }
  }
  return out;
}

function doubleRouteFinding(ctx: HostContext, input: DiagnosisInput, d: DoubleRoute, flows: Flow[], paths: Map<string, ReplyPath>): Finding {
  const devices = distinct(d.routes.map((r) => r.device!));
  const winner = winnerOf(d);
  const winnerDevice = winner.device!;
  const clients = distinct(flows.map((f) => f.clientIp));
  const confirmed = flows.filter((f) => paths.has(f.id)).length;
  const bridge = d.routes.map((r) => r.device!).find((dev) => isBridge(ctx, input, dev)) ?? null;
  const sameDestination = d.routes.every((r) => r.destination === d.routes[0]!.destination);
  return {
    code: 'route-conflict',
    severity: flows.length > 0 ? 'error' : 'warning',
    confidence: flows.length === 0 || confirmed > 0 ? 'high' : 'medium',
    title: flows.length > 0
      ? `${d.prefix} is routed via ${devices.join(' and ')}; replies to ${plural(clients.length, 'client')} leave by the wrong one`
      : `${d.prefix} is routed via ${devices.join(' and ')} (table ${d.table}): one side cannot be reached`,
    explanation:
      (sameDestination
        ? `Table ${d.table} routes ${d.prefix} through ${devices.join(' and ')}. The kernel uses only one of them (lowest metric, then the oldest)`
        : `Table ${d.table} routes ${d.routes[0]!.destination} via ${d.routes[0]!.device} and the more specific ${d.prefix} via ${d.routes[1]!.device}. The longest prefix wins`) +
      `, here ${winnerDevice}, so hosts of ${d.prefix} on the other link are unreachable: the host reaches either the clients or the containers, not both. ` +
      (flows.length > 0
        ? `${plural(clients.length, 'client')} of ${d.prefix} got no answer because of it.`
        : 'No failed connection in this capture is affected yet.'),
    evidence: {
      prefix: d.prefix,
      table: d.table,
      routes: d.routes.map(describe),
      winner: describe(winner),
      clients,
      replyPaths: flows.map((f) => paths.get(f.id)).filter((p) => p !== undefined).slice(0, 10)
        .map((p) => ({ flow: p!.flow.id, client: p!.flow.clientIp, synInterface: p!.synInterface, reply: p!.replyRoute })),
    },
    flows: flows.map((f) => f.id),
    remedy: doubleRouteRemedy(ctx, input, d, bridge, flows, paths, clients),
  };
}

function doubleRouteRemedy(ctx: HostContext, input: DiagnosisInput, d: DoubleRoute, bridge: string | null, flows: Flow[], paths: Map<string, ReplyPath>, clients: string[]): string[] {
  const del = (r: Route) => `ip route del ${r.destination} dev ${r.device}${r.table === 'main' ? '' : ` table ${r.table}`}`;
  if (bridge !== null) {
    const bridgeRoute = d.routes.find((r) => r.device === bridge)!;
    const uplinkRoute = d.routes.find((r) => r.device !== bridge)!;
    const workaround = winnerOf(d) === bridgeRoute
      ? `Until then, \`${del(bridgeRoute)}\` gives the clients back their replies but cuts ${bridge}'s containers off (Docker adds the route again when it restarts).`
      : `Until then ${bridge}'s containers in ${d.prefix} cannot be reached from the host; \`${del(uplinkRoute)}\` only swaps which side breaks.`;
    return [moveBridge(ctx, input, bridge, bridgeRoute.destination, clients), workaround];
  }
  // Keep the route of the interface the clients' SYNs come in on, or the one whose interface owns an address there.
  const keep = flows.map((f) => paths.get(f.id)?.synInterface).find((i) => i !== undefined)
    ?? d.routes.map((r) => r.device!).find((dev) => (contextInterface(ctx, dev)?.addresses ?? []).some((a) => contains(d.prefix, a.address)));
  const stale = d.routes.filter((r) => r.device !== keep);
  if (keep === undefined || stale.length === d.routes.length) {
    return [`Decide which link really holds ${d.prefix} and delete the other route: ${d.routes.map((r) => `\`${del(r)}\``).join(' or ')}; then remove it from the network configuration that adds it, so it does not come back.`];
  }
  return [
    `Delete the stale route: ${stale.map((r) => `\`${del(r)}\``).join('; ')} (${d.prefix} belongs on ${keep}), and remove it from the network configuration that adds it.`,
    `Check: ip route get ${firstHost(d.prefix)} should name dev ${keep}.`,
  ];
}

function moveBridge(ctx: HostContext, input: DiagnosisInput, bridge: string, destination: string, clients: string[]): string {
  const len = prefixLength(destination) ?? 16;
  const [free] = destination.includes(':') ? [] : findFreeSubnets(Math.max(len, 16), 1, usedSubnets(input), [...input.seenAddresses, ...clients]);
  const subnet = free?.subnet ?? '<a free private subnet>';
  if (bridge === 'docker0') {
    return `Move docker0 off ${destination}: in /etc/docker/daemon.json set { "bip": "${free ? gateway(free.subnet) : '<gateway>/<prefix>'}" } and run: systemctl restart docker${free ? ` (${free.subnet} overlaps no route, address or Docker network of this host nor any address in the capture)` : ''}.`;
  }
  const network = (ctx.dockerNetworks ?? []).find((n) => n.bridge === bridge)?.name ?? bridge;
  if (network === 'docker_gwbridge') {
    return `Recreate docker_gwbridge on ${subnet} while the node is out of the swarm: docker swarm leave; docker network rm docker_gwbridge; docker network create --subnet ${subnet} --opt com.docker.network.bridge.name=docker_gwbridge --opt com.docker.network.bridge.enable_icc=false --opt com.docker.network.bridge.enable_ip_masquerade=true docker_gwbridge; docker swarm join ...`;
  }
  return `Recreate the Docker network ${network} on a free subnet: docker network create --subnet ${subnet} <new-name>, move its containers (docker network connect), then docker network rm ${network}.`;
}

/** The route the table uses for the prefix: the more specific one, else the lowest metric, then the first listed. */
function winnerOf(d: DoubleRoute): Route {
  const specific = d.routes.filter((r) => r.destination === d.prefix);
  return specific.reduce((best, r) => (r.metric < best.metric ? r : best));
}

function asymmetricFinding(ctx: HostContext, group: ReplyPath[]): Finding {
  const first = group[0]!;
  const gatewayOnSyn = ctx.routes.find((r) => r.device === first.synInterface && r.gateway !== null)?.gateway ?? `<gateway on ${first.synInterface}>`;
  const clients = distinct(group.map((p) => p.flow.clientIp));
  const out = first.replyDevice;
  return {
    code: 'route-conflict',
    severity: 'error',
    confidence: 'high',
    title: out === null
      ? `No route back to ${plural(clients.length, 'client')} whose SYNs came in on ${first.synInterface}`
      : `Replies to ${plural(clients.length, 'client')} leave by ${out}, their SYNs came in on ${first.synInterface}`,
    explanation: out === null
      ? `The SYNs came in on ${first.synInterface}, but the host's routing has no usable route back to the clients (${first.replyRoute}), so no SYN-ACK can leave.`
      : `The SYNs came in on ${first.synInterface}, but the host's route lookup for the clients (from ${first.flow.serverIp}) picks ${first.replyRoute}. The SYN-ACKs leave by ${out}, where the clients are not, or are dropped by the next hop's reverse-path or stateful checks.`,
    evidence: {
      synInterface: first.synInterface,
      replyDevice: out,
      replyRoute: first.replyRoute,
      clients,
      server: first.flow.serverIp,
    },
    flows: group.map((p) => p.flow.id),
    remedy: [
      `Confirm: ip route get ${first.flow.clientIp} from ${first.flow.serverIp} (it names ${out ?? 'no device'}, not ${first.synInterface}).`,
      `Send replies back the way the SYNs came with policy routing: ip route add default via ${gatewayOnSyn} dev ${first.synInterface} table 100; ip rule add from ${first.flow.serverIp} lookup 100 — or delete the route that captures the clients if it is stale.`,
    ],
  };
}

function describe(r: Route): string {
  return [r.type !== 'unicast' ? r.type : '', r.destination, r.gateway ? `via ${r.gateway}` : '', r.device ? `dev ${r.device}` : '',
    r.metric ? `metric ${r.metric}` : '', r.table !== 'main' ? `table ${r.table}` : ''].filter((s) => s !== '').join(' ');
}

function contains(prefix: string, ip: string): boolean {
  return cidrContains(prefix, ip);
}

/** The first host address of a prefix, for `ip route get` and `bip`. */
function firstHost(prefix: string): string {
  const v = addressValue(prefix.split('/')[0]!)!;
  if (typeof v === 'number') return ipv4ToString((v + 1) >>> 0);
  const next = v + 1n;
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = Number((next >> BigInt(32 * (3 - i))) & 0xffffffffn);
  return formatAddress(words, 6);
}

/** docker0's `bip`: the subnet's first host with the prefix length. */
function gateway(subnet: string): string {
  const [, len] = subnet.split('/');
  return `${firstHost(subnet)}/${len}`;
}
