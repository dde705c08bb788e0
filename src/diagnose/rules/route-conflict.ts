import { clientCount } from '../sample-counts';
import type { HostContext, Route } from '../../context/host-context';
import type { Flow } from '../../flow/flow';
import { contextInterface, deviceOf, onLink, sameLink, synInterface } from '../context-facts';
import { bridgeOf, describeRoute, doubleRoutes, winnerOf, type DoubleRoute } from '../double-routes';
import type { Finding } from '../finding';
import { bridgeRemedy } from '../bridge-remedy';
import { firstHostAddress, parseSubnet } from '../../net/cidr';
import { distinct, groupBy, plural } from '../group';
import type { DiagnosisInput } from '../input';
import { cidrContains } from '../prefix';
import { replyOrigin, targetReplyRoute } from '../reply-origin';
import { lookupRoute } from '../route-sim';

/** Where the reply to a failed client would go, against where its SYN came in. */
interface ReplyPath {
  flow: Flow;
  synInterface: string;
  /** Output device of the reply, or null when the host has no route back. */
  replyDevice: string | null;
  /** The route as `ip route` would print it, or why there is none. */
  replyRoute: string;
  /** The namespace behind a DNAT that makes the reply ("172.17.0.2 (web-1)"), or null: this host's own stack. */
  answeredFrom: string | null;
  /** The bridge the DNAT target's replies come in from, or null. */
  answeredVia: string | null;
}

/**
 * `route-conflict`: (a) the reply to a failed client would leave by another interface
 * than the one its SYN came in on, per a simulation of the kernel's route lookup over the
 * snapshot, done where the reply is made: this host's stack for a local service; for a
 * DNATed SYN, the target namespace, whose reply comes back through the host only when the
 * client is not on the target's own link (if it is, the target ARPs for the client on its
 * bridge: that is `bridge-subnet-overlap`'s to say); (b) one prefix routed through two
 * devices in one table (incident 001: 192.168.0.0/24 on eth0 and on docker0), or a bridge
 * route inside a wider route of the uplink. (b) is reported from the context alone as a
 * warning, as an error once a failed flow is affected; when a bridge owns the prefix and
 * its failed clients are `claimed` by the overlap, that finding carries the double route
 * and none is made here. Flows in `claimed` (rp_filter dropped their SYN, or a bridge
 * overlap explains them) are left out of (a).
 */
export function routeConflictRule(input: DiagnosisInput, claimedElsewhere: ReadonlySet<string> = new Set()): Finding[] {
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
    const inPrefix = silent.filter((f) => contains(d.prefix, f.clientIp));
    if (bridgeOf(ctx, input, d) !== null && inPrefix.some((f) => claimedElsewhere.has(f.id))) continue;
    const flows = inPrefix.filter((f) => !claimedElsewhere.has(f.id) && (paths.get(f.id) === undefined || mismatched(ctx, paths.get(f.id)!)));
    for (const f of flows) claimed.add(f.id);
    findings.push(doubleRouteFinding(ctx, input, d, flows, paths));
  }
  const rest = [...paths.values()].filter((p) => !claimed.has(p.flow.id) && !claimedElsewhere.has(p.flow.id) && mismatched(ctx, p));
  for (const group of groupBy(rest, (p) => `${p.synInterface}|${p.replyDevice}|${p.answeredFrom}`).values()) {
    findings.push(asymmetricFinding(ctx, group, input));
  }
  return findings;
}

function replyPath(ctx: HostContext, f: Flow, input: DiagnosisInput): ReplyPath | null {
  const syn = synInterface(f, input);
  if (syn === null) return null;
  const origin = replyOrigin(f, input);
  if (origin.kind === 'dnat') {
    // The target answers on-link when the client is inside its bridge's subnet (or, with the
    // target namespace's own snapshot, when its routes say so): no route of the host is involved.
    const bridge = origin.device === null ? undefined : contextInterface(ctx, origin.device);
    const own = targetReplyRoute(input, origin.target, f.clientIp);
    if (bridge === undefined || (own !== null ? own.onLink : onLink(bridge, f.clientIp))) return null;
    const r = lookupRoute(ctx, f.clientIp, { iif: bridge.name, src: origin.target });
    const from = origin.holder === null ? origin.target : `${origin.target} (${origin.holder})`;
    return { flow: f, synInterface: syn, replyDevice: deviceOf(r), replyRoute: 'route' in r ? describeRoute(r.route) : r.unreachable, answeredFrom: from, answeredVia: bridge.name };
  }
  // The reply is generated locally (src = the server address), so iif is lo.
  const r = lookupRoute(ctx, f.clientIp, { src: f.serverIp });
  if ('route' in r && (r.route.type === 'local' || r.route.device === null)) return null;
  return { flow: f, synInterface: syn, replyDevice: deviceOf(r), replyRoute: 'route' in r ? describeRoute(r.route) : r.unreachable, answeredFrom: null, answeredVia: null };
}

function mismatched(ctx: HostContext, p: ReplyPath): boolean {
  return p.replyDevice === null || !sameLink(ctx, p.synInterface, p.replyDevice);
}

function doubleRouteFinding(ctx: HostContext, input: DiagnosisInput, d: DoubleRoute, flows: Flow[], paths: Map<string, ReplyPath>): Finding {
  const devices = distinct(d.routes.map((r) => r.device!));
  const winner = winnerOf(d);
  const winnerDevice = winner.device!;
  const clients = distinct(flows.map((f) => f.clientIp));
  const confirmed = flows.filter((f) => paths.has(f.id)).length;
  const bridge = bridgeOf(ctx, input, d);
  const sameDestination = d.routes.every((r) => r.destination === d.routes[0]!.destination);
  return {
    code: 'route-conflict',
    severity: flows.length > 0 ? 'error' : 'warning',
    confidence: flows.length === 0 || confirmed > 0 ? 'high' : 'medium',
    title: flows.length > 0
      ? `${d.prefix} is routed via ${devices.join(' and ')}; replies to ${plural(clientCount(input, flows, clients), 'client')} leave by the wrong one`
      : `${d.prefix} is routed via ${devices.join(' and ')} (table ${d.table}): one side cannot be reached`,
    explanation:
      (sameDestination
        ? `Table ${d.table} routes ${d.prefix} through ${devices.join(' and ')}. The kernel uses only one of them (lowest metric, then the oldest)`
        : `Table ${d.table} routes ${d.routes[0]!.destination} via ${d.routes[0]!.device} and the more specific ${d.prefix} via ${d.routes[1]!.device}. The longest prefix wins`) +
      `, here ${winnerDevice}, so hosts of ${d.prefix} on the other link are unreachable: the host reaches either the clients or the containers, not both. ` +
      (flows.length > 0
        ? `${plural(clientCount(input, flows, clients), 'client')} of ${d.prefix} got no answer because of it.`
        : 'No failed connection in this capture is affected yet.'),
    evidence: {
      prefix: d.prefix,
      table: d.table,
      routes: d.routes.map(describeRoute),
      winner: describeRoute(winner),
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
    return [...moveBridge(input, bridge, bridgeRoute.destination, clients), workaround];
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
    `Check: ip route get ${firstHostAddress(d.prefix) ?? d.prefix.split('/')[0]} should name dev ${keep}.`,
  ];
}

/** The bridge moved to a free subnet, as the bridge overlap's remedy says it (bridge-remedy.ts). */
function moveBridge(input: DiagnosisInput, bridge: string, destination: string, clients: string[]): string[] {
  const subnet = parseSubnet(destination);
  if (subnet === null) return [`Move ${bridge} off ${destination} to a free private subnet.`];
  return bridgeRemedy(input, { name: bridge, subnet, source: 'context' }, clients).remedy;
}

function asymmetricFinding(ctx: HostContext, group: ReplyPath[], input: DiagnosisInput): Finding {
  const first = group[0]!;
  const gatewayOnSyn = ctx.routes.find((r) => r.device === first.synInterface && r.gateway !== null)?.gateway ?? `<gateway on ${first.synInterface}>`;
  const clients = distinct(group.map((p) => p.flow.clientIp));
  const out = first.replyDevice;
  // A DNATed SYN's reply comes from the target and is forwarded: routed with the target's address as source.
  const forwarded = first.answeredFrom !== null;
  const source = forwarded ? first.answeredFrom!.split(' ')[0]! : first.flow.serverIp;
  const lookup = forwarded ? `the host's route lookup for the replies ${first.answeredFrom} sends them (forwarded, from ${source})` : `the host's route lookup for the clients (from ${source})`;
  return {
    code: 'route-conflict',
    severity: 'error',
    confidence: 'high',
    title: out === null
      ? `No route back to ${plural(clientCount(input, group.map((p) => p.flow), clients), 'client')} whose SYNs came in on ${first.synInterface}`
      : `Replies to ${plural(clientCount(input, group.map((p) => p.flow), clients), 'client')} leave by ${out}, their SYNs came in on ${first.synInterface}`,
    explanation: out === null
      ? `The SYNs came in on ${first.synInterface}, but the host's routing has no usable route back to the clients (${first.replyRoute}), so no SYN-ACK can leave.`
      : `The SYNs came in on ${first.synInterface}, but ${lookup} picks ${first.replyRoute}. The SYN-ACKs leave by ${out}, where the clients are not, or are dropped by the next hop's reverse-path or stateful checks.`,
    evidence: {
      synInterface: first.synInterface,
      replyDevice: out,
      replyRoute: first.replyRoute,
      clients,
      server: first.flow.serverIp,
      answeredFrom: first.answeredFrom,
    },
    flows: group.map((p) => p.flow.id),
    remedy: [
      `Confirm: ip route get ${first.flow.clientIp} from ${source}${forwarded ? ` iif ${first.answeredVia}` : ''} (it names ${out ?? 'no device'}, not ${first.synInterface}).`,
      `Send replies back the way the SYNs came with policy routing: ip route add default via ${gatewayOnSyn} dev ${first.synInterface} table 100; ip rule add from ${source} lookup 100 — or delete the route that captures the clients if it is stale.`,
    ],
  };
}

function contains(prefix: string, ip: string): boolean {
  return cidrContains(prefix, ip);
}
