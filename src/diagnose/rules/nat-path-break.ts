import { attemptPath, type AttemptPath, type Hop, type Translation } from '../../flow/attempt-path';
import type { Flow } from '../../flow/flow';
import type { ServiceHop, ServicePath } from '../../flow/service-path';
import { isLocalAddress } from '../context-facts';
import { conntrackKnown } from '../conntrack-full';
import { dockerUserReplies } from '../reply-drop';
import type { Finding } from '../finding';
import { distinct, groupBy, plural, serviceOf } from '../group';
import type { DiagnosisInput } from '../input';
import { forwardDrop, hopFacts, knownPaths, predictPath, splitEndpoint, type HopFacts, type HopQuery, type KnownPath } from '../nat-hop';
import { natIgnoresSource } from '../netfilter-walk';

/**
 * How a path broke: `stopped`, the SYN was seen only at the first hop while other attempts
 * to the service went on to a captured next hop; `left-host`, it left the host translated
 * (SNAT, masquerade) and nothing came back; `inside`, it reached the innermost hop toward a
 * local destination (a DNATed container, ingress_sbox) and nothing came back; `reply`, a
 * SYN-ACK was seen inside and not outside.
 */
type BreakKind = 'stopped' | 'left-host' | 'inside' | 'reply';

/** Where a connection attempt's packets stopped. */
interface PathBreak {
  kind: BreakKind;
  /** The stitched attempt, or the one flow of an attempt seen at its first hop only (its path is built when a finding shows it). */
  attempt: AttemptPath | { flow: Flow; iface: string };
  /** 'syn': the SYN went no further and nothing came back; 'syn-ack': the reply was seen inside and not outside. */
  direction: 'syn' | 'syn-ack';
  /** The interface of the last hop the packet was seen at. */
  seenAt: string;
  /** The next hop in its direction, where it was missing (null: past the captured hops). */
  missingAt: ServiceHop | null;
  /** `stopped` only: the path other attempts to the service took (or the snapshot predicts). */
  known: KnownPath | null;
  /** What to ask the host context about the hop. */
  query: HopQuery;
  /** The filter rule the snapshot says drops the packet between the hops (breaks are grouped by it), or null. */
  dropRule: string | null;
}

const NO_FACTS: HopFacts = { evidence: {}, sentences: [], dropRule: null, dropRemedy: [] };

/**
 * `nat-path-break`: an unanswered attempt whose packets stopped at a hop. Either it was
 * seen at several hops (NAT stitching) and the SYN got no answer past the last one, or its
 * SYN-ACK was seen inside and is missing outside; or it was seen only at its first hop
 * while other attempts to the same service were stitched on to a captured next hop (or,
 * without such attempts, the snapshot's NAT rules and routes send it to one): then the SYN
 * vanished inside this host between the two. With a host context the finding adds what
 * the snapshot says about that hop (the NAT rule, the filter FORWARD verdict, the reply
 * route, the bridge). Attempts any of whose flows `explained` holds (a specific rule such
 * as bridge-subnet-overlap named the cause) are left out. `servicePaths`: the paths of
 * completed stitched attempts, when the analysis collected them.
 */
export function natPathBreakRule(input: DiagnosisInput, explained: ReadonlySet<string>, servicePaths: readonly ServicePath[] = []): Finding[] {
  const ctx = input.context;
  const breaks: PathBreak[] = [];
  const stitched = new Set<string>();
  for (const attempt of input.attempts ?? []) {
    for (const id of attempt.flows) stitched.add(id);
    if (attempt.outcome !== 'unanswered' || attempt.flows.some((id) => explained.has(id))) continue;
    const b = pathBreak(attempt);
    if (b !== null) breaks.push(b);
  }
  for (const b of stoppedAtFirstHop(input, explained, stitched, servicePaths)) breaks.push(b);
  if (ctx !== null) {
    // Many attempts share a client and a path: walk the filter rules once per packet shape.
    const drops = new Map<string, string | null>();
    for (const b of breaks) {
      const q = b.query;
      const key = `${q.packet.src}|${q.packet.dst}|${q.packet.dstPort}|${q.from}|${q.to ?? ''}`;
      let drop = drops.get(key);
      if (drop === undefined) drops.set(key, (drop = forwardDrop(ctx, q)));
      b.dropRule = drop;
    }
  }
  const keyOf = (b: PathBreak) => `${b.kind}|${b.seenAt}|${b.missingAt?.interface ?? ''}|${outline(b).service}|${b.dropRule ?? ''}`;
  const tableUnknown = !conntrackKnown(input);
  return [...groupBy(breaks, keyOf).values()].map((group) => finding(group, ctx === null ? NO_FACTS : hopFacts(ctx, group[0]!.query), tableUnknown));
}

/** Where a stitched attempt's path broke, or null when every hop saw both directions. */
function pathBreak(attempt: AttemptPath): PathBreak | null {
  const hops = attempt.hops;
  const answered = hops.findIndex((h) => h.synAcks > 0);
  if (answered === 0) return null;
  if (answered > 0) {
    const seenAt = hops[answered]!;
    const missingAt = hops[answered - 1]!;
    // The reply's destination is restored before the forward path (conntrack undoes a source
    // translation in PREROUTING): FORWARD sees the client as the hop it never reached knows it.
    const client = splitEndpoint(missingAt.client);
    const server = splitEndpoint(seenAt.server);
    const query: HopQuery = {
      packet: { src: server.ip, dst: client.ip, dstPort: client.port },
      established: true,
      from: seenAt.interface,
      to: missingAt.interface,
      reply: { client: client.ip, from: server.ip, iif: seenAt.interface, back: missingAt.interface },
    };
    return { kind: 'reply', attempt, direction: 'syn-ack', seenAt: seenAt.interface, missingAt, known: null, query, dropRule: null };
  }
  const outer = hops[0]!;
  const last = hops[hops.length - 1]!;
  // The host rewrote only the source and sent the SYN on: its destination is not on this host.
  const kind: BreakKind = last.translation === 'snat' ? 'left-host' : 'inside';
  const client = splitEndpoint(last.client);
  const server = splitEndpoint(last.server);
  const original = splitEndpoint(outer.server);
  const base: HopQuery = { packet: { src: client.ip, dst: server.ip, dstPort: server.port }, from: last.interface, to: null };
  const query: HopQuery =
    kind === 'left-host'
      ? { ...base, snatOf: { src: splitEndpoint(outer.client).ip, iif: outer.interface } }
      : {
          ...base,
          ...(hasDnat(last.translation) && { dnatOf: { dst: original.ip, dstPort: original.port, iif: outer.interface } }),
          reply: { client: client.ip, from: server.ip, iif: last.interface, back: outer.interface },
        };
  return { kind, attempt, direction: 'syn', seenAt: last.interface, missingAt: null, known: null, query, dropRule: null };
}

/**
 * Unanswered attempts seen at one hop only, not stitched, whose service other attempts (or
 * the snapshot's NAT rules) take on from that hop to another captured interface: the SYN
 * stopped at the first hop.
 */
function stoppedAtFirstHop(input: DiagnosisInput, explained: ReadonlySet<string>, stitched: ReadonlySet<string>, servicePaths: readonly ServicePath[]): PathBreak[] {
  const ctx = input.context;
  const known = knownPaths(input.attempts ?? [], servicePaths);
  /** Per first hop, client and service: the path and the question for the context, shared by that client's attempts. */
  const shapes = new Map<string, { path: KnownPath; query: HopQuery } | null>();
  /** Predicted paths: per first hop and service, or also per client when the nat rules look at the source. */
  const predicted = new Map<string, KnownPath | null>();
  // Published ports: nat PREROUTING rarely looks at the source, and then one prediction serves every client.
  const perClient = ctx !== null && !natIgnoresSource(ctx, 'PREROUTING');
  const out: PathBreak[] = [];
  for (const flow of input.failedFlows) {
    if (flow.outcome !== 'unanswered' || flow.interfaces.length !== 1 || explained.has(flow.id) || stitched.has(flow.id)) continue;
    const iface = input.interfaceNames[flow.interfaces[0]!];
    if (iface === undefined) continue;
    const service = serviceOf(flow);
    // The interfaces captured while this attempt lasted: a path through one captured at another time says nothing of it.
    const captured = capturedDuring(input, flow);
    const coverage = captured.join(',');
    const key = `${iface}|${flow.clientIp}|${service}|${coverage}`;
    let shape = shapes.get(key);
    if (shape === undefined) {
      let path = known.get(`${iface}|${service}`) ?? null;
      if (path === null && ctx !== null) {
        const pathKey = perClient || !isLocalAddress(ctx, flow.serverIp) ? key : `${iface}|${service}|${coverage}`;
        path = predicted.get(pathKey) ?? null;
        if (!predicted.has(pathKey)) predicted.set(pathKey, (path = predictPath(ctx, flow.clientIp, service, iface, captured)));
      }
      shapes.set(key, (shape = path === null || path.hops.length < 2 ? null : { path, query: stoppedQuery(flow, iface, path.hops[1]!) }));
    }
    if (shape === null) continue;
    out.push({ kind: 'stopped', attempt: { flow, iface }, direction: 'syn', seenAt: iface, missingAt: shape.path.hops[1]!, known: shape.path, query: shape.query, dropRule: null });
  }
  return out;
}

/** The interfaces captured while `flow` lasted: those that saw packets, and those whose capture span covers it. */
function capturedDuring(input: DiagnosisInput, flow: Flow): string[] {
  const spans = (input.tcpCaptureSpans ?? []).filter((s) => s.from <= flow.firstSeen && s.to >= flow.lastSeen).map((s) => s.interface);
  return [...new Set([...input.interfaceNames, ...spans])];
}

/** What to ask the context about a SYN from `flow`'s client that reached `iface` and never `next`. */
function stoppedQuery(flow: Flow, iface: string, next: ServiceHop): HopQuery {
  const to = splitEndpoint(next.server);
  const base: HopQuery = { packet: { src: flow.clientIp, dst: to.ip, dstPort: to.port }, from: iface, to: next.interface };
  if (hasDnat(next.translation)) {
    return { ...base, dnatOf: { dst: flow.serverIp, dstPort: flow.serverPort, iif: iface }, reply: { client: flow.clientIp, from: to.ip, iif: next.interface, back: iface } };
  }
  return next.translation === 'snat' ? { ...base, snatOf: { src: flow.clientIp, iif: iface } } : base;
}

/** The attempt's hops, outermost first. */
function pathOf(b: PathBreak): AttemptPath {
  return 'hops' in b.attempt ? b.attempt : attemptPath([b.attempt.flow], [b.attempt.iface]);
}

/** The hop the packet was last seen at. */
function seenHop(b: PathBreak, path: AttemptPath): Hop {
  const hops = path.hops;
  if (b.kind === 'stopped') return hops[0]!;
  if (b.kind === 'reply') return hops[hops.findIndex((h) => h.synAcks > 0)]!;
  return hops[hops.length - 1]!;
}

/** The attempt's id, its flows, and its outermost hop's client address and server endpoint, without building its path. */
function outline(b: PathBreak): { id: string; flows: readonly string[]; client: string; service: string } {
  if ('hops' in b.attempt) {
    const outer = b.attempt.hops[0]!;
    return { id: b.attempt.id, flows: b.attempt.flows, client: hostOf(outer.client), service: outer.server };
  }
  const f = b.attempt.flow;
  return { id: f.id, flows: [f.id], client: f.clientIp, service: serviceOf(f) };
}

function hasDnat(t: Translation): boolean {
  return t === 'dnat' || t === 'dnat+snat';
}

function finding(breaks: PathBreak[], facts: HopFacts, tableUnknown: boolean): Finding {
  const first = breaks[0]!;
  const outlines = breaks.map(outline);
  const path = pathOf(first);
  const service = outlines[0]!.service;
  const clients = distinct(outlines.map((o) => o.client), 20);
  const evidence: Record<string, unknown> = {
    service,
    attempts: breaks.length,
    clients,
    direction: first.direction,
    seenAt: first.seenAt,
    missingAt: first.missingAt?.interface ?? null,
    hops: path.hops,
    reached: path.reached,
    attemptIds: outlines.slice(0, 20).map((o) => o.id),
    ...(first.known !== null && { knownPath: first.known }),
    ...(first.kind === 'left-host' && { beyondHost: true }),
    ...facts.evidence,
  };
  const flows: string[] = [];
  for (const o of outlines) for (const id of o.flows) flows.push(id);
  const text = { stopped, 'left-host': leftHost, inside, reply }[first.kind]({ b: first, path, seen: seenHop(first, path), n: breaks.length, clients, facts, tableUnknown });
  return {
    code: 'nat-path-break',
    severity: 'error',
    confidence: text.confidence,
    title: text.title,
    explanation: [text.explanation, ...facts.sentences].join(' '),
    evidence,
    flows,
    remedy: text.remedy,
  };
}

/** What the wording of one finding needs: its first break, that attempt's path and last hop seen, and the group's size and clients. */
interface TextInput {
  b: PathBreak;
  path: AttemptPath;
  seen: Hop;
  n: number;
  clients: string[];
  facts: HopFacts;
  /** Nothing says whether the connection-tracking table had room (no snapshot of it, no live counters). */
  tableUnknown: boolean;
}

interface Text {
  title: string;
  explanation: string;
  remedy: string[];
  confidence: Finding['confidence'];
}

function stopped({ b, path, n, clients, facts, tableUnknown }: TextInput): Text {
  const known = b.known!;
  const next = b.missingAt!;
  const seenAt = b.seenAt;
  const service = path.hops[0]!.server;
  const port = splitEndpoint(service).port;
  const how = translationText(next);
  const where =
    known.source === 'capture'
      ? `${plural(known.attempts, 'other attempt')} to ${service} ${known.attempts === 1 ? 'was' : 'were'} seen on both, ${known.hops.map((h) => `${h.interface} ${h.server}${h.translation === 'none' ? '' : ` (${h.translation})`}`).join(' → ')}, so that is where these SYNs should have appeared`
      : `the host context says that is where they should have appeared: ${
          next.translation === 'none'
            ? `its routes send ${next.server} into the bridge ${next.interface}`
            : `its nat rules ${hasDnat(next.translation) ? `send them to ${next.server}, which it routes out of ${next.interface}` : `rewrite their source as they leave by ${next.interface}`}`
        }`;
  // A full connection-tracking table drops a new connection's first packet before any NAT or filter rule sees it.
  const table = tableUnknown && facts.dropRule === null ? ', a full connection-tracking table' : '';
  const lost = hasDnat(next.translation)
    ? table === ''
      ? 'after the DNAT: something in the forward path dropped it (a FORWARD, DOCKER-USER or DOCKER rule, reverse-path filtering, or routing)'
      : 'in the forward path: something dropped it (a full connection-tracking table, before the DNAT; after it, a FORWARD, DOCKER-USER or DOCKER rule, reverse-path filtering, or routing)'
    : next.translation === 'none'
      ? `on its way into the bridge: something dropped it (Docker's raw PREROUTING drop of direct access to a container, a FORWARD, DOCKER-USER or DOCKER rule${table}, reverse-path filtering, or routing)`
      : `before the source translation: something in the forward path dropped it (a FORWARD or DOCKER-USER rule${table}, reverse-path filtering, or routing)`;
  const remedy = [...facts.dropRemedy];
  if (facts.dropRule === null) {
    remedy.push(
      `Find the rule whose counter rises while a client retries: iptables -L FORWARD -v -n --line-numbers; iptables -L DOCKER-USER -v -n; iptables -L DOCKER -v -n; iptables -t nat -L PREROUTING -v -n; nft list ruleset.`,
      `Ask the kernel why: synscope live -i ${seenAt} -i ${next.interface} (tracing on, as root) records the drop reason of each SYN; nstat -az IPReversePathFilter shows reverse-path drops.`,
    );
    if (table !== '') {
      remedy.push('Check that the connection-tracking table has room: conntrack -C against sysctl net.netfilter.nf_conntrack_max, and conntrack -S (drop and early_drop rising while a client retries); the kernel logs "nf_conntrack: table full, dropping packet".');
    }
  }
  remedy.push(`Compare with an attempt that works: conntrack -L -p tcp --orig-port-dst ${port} shows the translation the host made for it.`);
  return {
    title: `${plural(n, 'attempt')} to ${service} reached ${seenAt} but never ${next.interface}, where ${known.source === 'capture' ? `other attempts went (${how})` : `the host's ${next.translation === 'none' ? 'routes' : 'NAT rules'} send ${n === 1 ? 'it' : 'them'} (${how})`}`,
    explanation:
      `The SYNs from ${clients.join(', ')} to ${service} were seen on ${seenAt} and never on ${next.interface}, although ${where}. ` +
      `Each SYN vanished inside this host between ${seenAt} (the last hop it reached) and ${next.interface} (where it never arrived), ${lost}, and nothing came back (no SYN-ACK, RST or ICMP).`,
    remedy,
    confidence: facts.dropRule !== null ? 'high' : 'medium',
  };
}

function leftHost({ path, seen: inner, n, clients }: TextInput): Text {
  const hops = path.hops;
  const service = hops[0]!.server;
  const { ip, port } = splitEndpoint(service);
  const as = hostOf(inner.client);
  return {
    title: `${plural(n, 'attempt')} to ${service} left this host by ${inner.interface} (source rewritten to ${as}) and got no answer: the break is beyond this host`,
    explanation:
      `The SYNs from ${clients.join(', ')} to ${service} were seen at ${hops.map((h) => h.interface).join(' → ')} and left by ${inner.interface} with the source rewritten to ${inner.client} (SNAT, masquerade); ` +
      'nothing came back at any hop: no SYN-ACK, RST or ICMP. This host did its part (the translation happened and the SYN went out), so the SYN is dropped or unanswered beyond it: ' +
      `by ${ip}'s own firewall, a firewall or router on the way, or ${ip} answers by a path that does not lead back to ${as}.`,
    remedy: [
      `Capture at ${ip} (or the last router before it): tcpdump -ni any 'tcp port ${port} and host ${as}'; the SYNs arrive there from ${as}, not from ${clients[0] ?? 'the container'}.`,
      `On ${ip}, check that something listens and no firewall drops the SYNs: ss -ltn 'sport = :${port}'; iptables -L INPUT -v -n; nft list ruleset.`,
      `If they never arrive there, follow the path hop by hop from this host: traceroute -T -p ${port} ${ip}.`,
    ],
    confidence: 'medium',
  };
}

function inside({ path, seen: inner, n, clients }: TextInput): Text {
  const hops = path.hops;
  const service = hops[0]!.server;
  const port = splitEndpoint(service).port;
  const innerHost = hostOf(inner.server);
  return {
    title: `${plural(n, 'attempt')} to ${service} reached ${inner.interface} as ${inner.server} and got no answer from beyond it`,
    explanation:
      `The SYNs to ${service} were seen at every captured hop up to ${inner.interface}, translated (${inner.translation}) to ${inner.client} → ${inner.server}, and nothing came back: no SYN-ACK, RST or ICMP at any hop. ` +
      `The packet is lost between ${inner.interface} and the socket behind it (the container or ingress_sbox namespace, an IPVS backend or another node), or that hop's reply goes elsewhere.`,
    remedy: [
      `Capture one hop further, inside the namespace that owns ${innerHost} (the container, or ingress_sbox for swarm ingress): synscope live ${distinct(hops.map((h) => `-i ${h.interface}`)).join(' ')} plus a capture in that namespace.`,
      `Check that the translation is the expected one and its counters rise: iptables -t nat -L -v -n (DOCKER / DOCKER-INGRESS chains); conntrack -L -p tcp --orig-port-dst ${port}.`,
      `Check the route back to the client from that namespace: ip route get ${clients[0] ?? 'CLIENT'} from ${innerHost}.`,
    ],
    confidence: 'medium',
  };
}

function reply({ b, path, seen: inner, n, clients, facts }: TextInput): Text {
  const missing = b.missingAt!;
  const service = path.hops[0]!.server;
  const title = `${service} answered ${plural(n, 'attempt')} on ${inner.interface} but the SYN-ACKs never appeared on ${missing.interface}`;
  const checks = [
    `Check where the host routes the reply: ip route get ${clients[0] ?? 'CLIENT'} from ${hostOf(inner.server)} iif ${inner.interface}.`,
    'Check the forward path and the NAT state: iptables -L FORWARD -v -n; iptables -L DOCKER-USER -v -n; conntrack -L -p tcp; sysctl net.ipv4.conf.all.rp_filter.',
  ];
  if (inner.translation !== 'snat') {
    return {
      title,
      explanation:
        `The SYNs to ${service} reached ${inner.interface} (as ${inner.client} → ${inner.server}) and the SYN-ACKs were seen there, but they never left by ${missing.interface}: ` +
        'the reply was dropped or misrouted inside this host, after the SYN-ACK was sent and before the reverse translation put it on the outer interface (a reply route via another device, reverse-path filtering, a FORWARD rule, or a lost conntrack entry).',
      remedy: [...facts.dropRemedy, ...checks],
      confidence: 'high',
    };
  }
  // The host's own client (a container) opened the connection: its reply comes back in by the uplink like a new connection would.
  const outbound =
    `The SYNs from ${clients.join(', ')} to ${service} left by ${inner.interface} (the source rewritten to ${inner.client}) and the SYN-ACKs came back there, but they never reached ${missing.interface}: ` +
    `the host dropped the replies on their way back to ${clients.length === 1 ? 'the client' : 'the clients'}.`;
  const replies = dockerUserReplies(facts.dropRule);
  if (replies === null) return { title, explanation: outbound, remedy: [...facts.dropRemedy, ...checks], confidence: 'high' };
  return {
    title: `${service} answered ${plural(n, 'attempt')} from ${clients.join(', ')}, and a DOCKER-USER rule drops the SYN-ACKs coming back by ${inner.interface}`,
    explanation: `${outbound} ${replies.sentence}`,
    remedy: replies.remedy,
    confidence: 'high',
  };
}

/** "DNAT to 172.17.0.2:80", "SNAT", ... for the title. */
function translationText(hop: ServiceHop): string {
  switch (hop.translation) {
    case 'dnat':
      return `DNAT to ${hop.server}`;
    case 'dnat+snat':
      return `DNAT to ${hop.server}, SNAT`;
    case 'snat':
      return 'SNAT / masquerade';
    default:
      return `as ${hop.server}`;
  }
}

/** The address of an "ip:port" or "[ipv6]:port" endpoint. */
function hostOf(endpoint: string): string {
  return splitEndpoint(endpoint).ip;
}
