import type { Analysis, HandshakeSummary } from '../analysis';
import type { HostContext } from '../context/host-context';
import { byImpact, type Finding } from '../diagnose/finding';
import { MAX_FINDING_CLIENTS, MAX_FINDING_FLOWS } from '../diagnose/finding-counts';
import { distinct, groupBy } from '../diagnose/group';
import { formatEndpoint } from '../decode/address';
import type { AttemptPath, Hop, Translation } from '../flow/attempt-path';
import type { Flow } from '../flow/flow';
import { STITCH_WINDOW_SECONDS } from '../flow/stitch';
import type { VxlanLeg } from '../flow/vxlan-legs';

/** One host's own analysis, as analyze-hosts ran it (flow ids and interface names still its own). */
export interface HostAnalysis {
  name: string;
  analysis: Analysis;
  context: HostContext | null;
}

/** The same handshake carried over VXLAN: the leg where it left one node and the leg where it arrived at the other. */
interface Crossing {
  from: HostAnalysis;
  to: HostAnalysis;
  sent: VxlanLeg;
  received: VxlanLeg;
  /** Each side's flow of the inner tuple. */
  sentFlow: Flow;
  receivedFlow: Flow;
}

/**
 * One attempt across nodes: a published port on node A (DOCKER-INGRESS, ingress_sbox's
 * IPVS DNAT+SNAT) hands the SYN to the ingress overlay, whose VXLAN (UDP 4789) carries it
 * to the task on node B. Each node stitched its own NAT hops; here the inner handshake that
 * left A over VXLAN is matched with the one that arrived at B (same VNI, tunnel endpoints,
 * inner addresses, ports and ISN; the first SYNs within STITCH_WINDOW_SECONDS once the
 * capture clocks' offset is taken off), and the two halves become one attempt path with
 * hops named interface@node, the tunnel legs saying what carried them (`via`). The attempt
 * then counts once in the handshake summary, and a failed one gets one finding naming the
 * hop where it died, in place of each node's partial view of it.
 */
export function stitchAcrossHosts(hosts: readonly HostAnalysis[], joined: Analysis): Analysis {
  const crossings = findCrossings(hosts, joined);
  if (crossings.length === 0) return joined;
  const handshakes = { ...joined.summary.handshakes };
  const paths: AttemptPath[] = [];
  const replaced = new Set<string>();
  for (const c of crossings) {
    uncountReceived(c, handshakes);
    const path = spanningPath(c);
    if (path === null) continue;
    paths.push(path);
    for (const id of path.flows) replaced.add(id);
  }
  const attempts = [...joined.attempts.filter((p) => !p.flows.some((id) => replaced.has(id))), ...paths];
  const partial = (f: Finding) => f.flows.length > 0 && f.flows.every((id) => replaced.has(id));
  const spanning = breakFindings(paths);
  return {
    ...joined,
    summary: { ...joined.summary, handshakes },
    attempts,
    findings: [...joined.findings.filter((f) => !partial(f)), ...spanning].sort(byImpact),
  };
}

function findCrossings(hosts: readonly HostAnalysis[], joined: Analysis): Crossing[] {
  const offsets = new Map(hosts.map((h, i) => [h.name, joined.hosts?.[i]?.clockOffsetSeconds ?? 0]));
  const tunnelKey = (l: VxlanLeg) => `${l.vni}|${l.from}|${l.to}|${l.client}|${l.server}|${l.isn}`;
  const seen = new Map<string, { host: HostAnalysis; leg: VxlanLeg }[]>();
  for (const host of hosts) {
    for (const leg of host.analysis.vxlanLegs ?? []) {
      if (leg.firstSynAt === null) continue;
      const list = seen.get(tunnelKey(leg)) ?? [];
      list.push({ host, leg });
      seen.set(tunnelKey(leg), list);
    }
  }
  const out: Crossing[] = [];
  for (const sightings of seen.values()) {
    const sender = sightings.find((s) => ownsAddress(s.host.context, s.leg.from));
    const receiver = sightings.find((s) => s !== sender && s.host !== sender?.host && ownsAddress(s.host.context, s.leg.to));
    // Without contexts, the earlier capture is the sender (lab nodes share one clock; real ones are close).
    const [from, to] = sender !== undefined && receiver !== undefined ? [sender, receiver] : byTime(sightings);
    if (from === undefined || to === undefined || from.host === to.host) continue;
    const delay = to.leg.firstSynAt! - offsets.get(to.host.name)! - (from.leg.firstSynAt! - offsets.get(from.host.name)!);
    if (Math.abs(delay) > STITCH_WINDOW_SECONDS) continue;
    const sentFlow = flowOf(from.host.analysis, from.leg);
    const receivedFlow = flowOf(to.host.analysis, to.leg);
    if (sentFlow === undefined || receivedFlow === undefined) continue;
    out.push({ from: from.host, to: to.host, sent: from.leg, received: to.leg, sentFlow, receivedFlow });
  }
  return out.sort((a, b) => a.sent.firstSynAt! - b.sent.firstSynAt!);
}

function byTime<T extends { host: HostAnalysis; leg: VxlanLeg }>(sightings: readonly T[]): [T | undefined, T | undefined] {
  const sorted = [...sightings].sort((a, b) => a.leg.firstSynAt! - b.leg.firstSynAt!);
  return [sorted[0], sorted.find((s) => s.host !== sorted[0]!.host)];
}

function ownsAddress(context: HostContext | null, address: string): boolean {
  return context?.interfaces.some((i) => i.addresses.some((a) => a.address === address)) ?? false;
}

/** The host's flow of a leg's inner handshake (same tuple and ISN; the latest when the ISN came again). */
function flowOf(a: Analysis, leg: VxlanLeg): Flow | undefined {
  let found: Flow | undefined;
  for (const f of a.flows) {
    if (f.isn !== leg.isn || formatEndpoint(f.clientIp, f.clientPort, f.ipVersion) !== leg.client || formatEndpoint(f.serverIp, f.serverPort, f.ipVersion) !== leg.server) continue;
    if (leg.iface >= 0 && !f.interfaces.includes(leg.iface)) continue;
    found = f;
  }
  return found;
}

/**
 * The receiving node counted the arrived handshake as an attempt of its own, unless the
 * sender's flow of it already counted it once (analyze-hosts counts a handshake two hosts
 * saw untranslated once, when neither saw it as a NAT hop).
 */
function uncountReceived(c: Crossing, handshakes: HandshakeSummary): void {
  const senderHop = c.from.analysis.stitchedFlows?.has(c.sentFlow.id) === true;
  const receiverHop = c.to.analysis.stitchedFlows?.has(c.receivedFlow.id) === true;
  if (!senderHop && !receiverHop) return;
  const outcome = c.to.analysis.attempts.find((p) => p.flows.includes(c.receivedFlow.id))?.outcome ?? c.receivedFlow.outcome;
  if (outcome === null) return;
  handshakes.attempted--;
  handshakes[outcome]--;
}

/** The attempt from the client on the sending node to the task on the receiving one, or null when the client's outcome was completed. */
function spanningPath(c: Crossing): AttemptPath | null {
  const { from, to, sent, received, sentFlow, receivedFlow } = c;
  const name = (h: HostAnalysis, iface: number) => `${h.analysis.interfaceNames[iface] ?? `#${iface}`}@${h.name}`;
  const id = (h: HostAnalysis, flow: string) => `${h.name}/${flow}`;
  const onHost = (h: HostAnalysis, hop: Hop): Hop => ({ ...hop, flow: id(h, hop.flow), interface: `${hop.interface}@${h.name}` });
  const before = from.analysis.attempts.find((p) => p.flows.includes(sentFlow.id));
  const outcome = before?.outcome ?? sentFlow.outcome;
  if (outcome === null || outcome === 'completed') return null;
  const via = `vxlan ${sent.vni} ${sent.from} > ${sent.to}`;
  const hops: Hop[] = before !== undefined ? before.hops.map((h) => onHost(from, h)) : [plainHop(id(from, sentFlow.id), name(from, firstOtherThan(sentFlow, sent.iface)), sentFlow)];
  const leftOn = name(from, sent.iface);
  const last = hops[hops.length - 1]!;
  if (last.interface === leftOn) last.via = via;
  else hops.push({ ...legHop(id(from, sentFlow.id), leftOn, sent, via) });
  hops.push(legHop(id(to, receivedFlow.id), name(to, received.iface), received, via));
  // The overlay's bridge floods a frame to a MAC it has not learned yet, ingress_sbox's leg included: not the task's hop.
  const task = receivedFlow.interfaces.filter((i) => i !== received.iface && !(to.analysis.interfaceNames[i] ?? '').endsWith('@ingress_sbox'));
  if (task.length > 0) hops.push(plainHop(id(to, receivedFlow.id), name(to, task[task.length - 1]!), receivedFlow));
  const after = to.analysis.attempts.find((p) => p.flows[0] === receivedFlow.id);
  if (after !== undefined) hops.push(...after.hops.slice(1).map((h) => onHost(to, h)));
  const outer = hops[0]!;
  for (const h of hops) h.translation = translationOf(outer, h);
  const answered = hops.find((h) => h.synAcks > 0);
  return {
    id: hops[0]!.flow,
    outcome,
    hops,
    reached: { syn: hops[hops.length - 1]!.interface, synAck: answered?.interface ?? null },
    flows: [...new Set(hops.map((h) => h.flow))],
  };
}

/** "192.0.2.10" of "192.0.2.10:44378", "2001:db8::1" of "[2001:db8::1]:443". */
function clientAddress(endpoint: string): string {
  const bare = endpoint.slice(0, endpoint.lastIndexOf(':'));
  return bare.startsWith('[') ? bare.slice(1, -1) : bare;
}

function firstOtherThan(f: Flow, iface: number): number {
  return f.interfaces.find((i) => i !== iface) ?? iface;
}

function plainHop(flow: string, iface: string, f: Flow): Hop {
  return { flow, interface: iface, client: formatEndpoint(f.clientIp, f.clientPort, f.ipVersion), server: formatEndpoint(f.serverIp, f.serverPort, f.ipVersion), translation: 'none', synAcks: f.synAcks };
}

function legHop(flow: string, iface: string, leg: VxlanLeg, via: string): Hop {
  return { flow, interface: iface, client: leg.client, server: leg.server, translation: 'none', synAcks: leg.synAcks, via };
}

function translationOf(outer: Hop, hop: Hop): Translation {
  const dnat = outer.server !== hop.server;
  const snat = outer.client !== hop.client;
  return dnat && snat ? 'dnat+snat' : dnat ? 'dnat' : snat ? 'snat' : 'none';
}

/** Where a spanning attempt died: the last hop its packet reached, and the next hop it should have reached. */
interface Death {
  path: AttemptPath;
  direction: 'syn' | 'syn-ack';
  seenAt: string;
  missingAt: string | null;
}

function deathOf(path: AttemptPath): Death {
  const answered = path.hops.findIndex((h) => h.synAcks > 0);
  if (answered < 0) return { path, direction: 'syn', seenAt: path.hops[path.hops.length - 1]!.interface, missingAt: null };
  return { path, direction: 'syn-ack', seenAt: path.hops[answered]!.interface, missingAt: answered === 0 ? 'client' : path.hops[answered - 1]!.interface };
}

/** One `nat-path-break` per place where spanning attempts died (same service, last hop seen, next hop missing). */
function breakFindings(paths: readonly AttemptPath[]): Finding[] {
  const deaths = paths.map(deathOf);
  const groups = groupBy(deaths, (d) => `${d.path.hops[0]!.server}|${d.direction}|${d.seenAt}|${d.missingAt ?? ''}`);
  return [...groups.values()].map((group) => {
    const d = group[0]!;
    const service = d.path.hops[0]!.server;
    const clients = distinct(group.map((g) => clientAddress(g.path.hops[0]!.client)), MAX_FINDING_CLIENTS);
    const via = d.path.hops.find((h) => h.via !== undefined)!.via!;
    const nodes = distinct(d.path.hops.map((h) => h.interface.slice(h.interface.lastIndexOf('@') + 1)), 10);
    const what = d.direction === 'syn' ? `the SYN reached ${d.seenAt} and no SYN-ACK came back at any hop` : `the SYN-ACK was seen at ${d.seenAt} but not at ${d.missingAt}: it died between them`;
    return {
      code: 'nat-path-break',
      severity: 'error',
      confidence: 'high',
      title: `${service}: attempts across ${nodes.join(' and ')} (${via}) die: ${what}`,
      explanation: `${group.length} attempt${group.length === 1 ? '' : 's'} to ${service} entered ${nodes[0]} and went over the overlay (${via}) to a task on ${nodes[nodes.length - 1]}; ${what}.`,
      evidence: {
        service,
        attempts: group.length,
        clients,
        direction: d.direction,
        seenAt: d.seenAt,
        missingAt: d.missingAt,
        nodes,
        via,
        hops: d.path.hops,
        reached: d.path.reached,
        attemptIds: group.slice(0, 20).map((g) => g.path.id),
      },
      flows: group.flatMap((g) => g.path.flows).slice(0, MAX_FINDING_FLOWS),
      flowCount: group.length,
      clients,
      clientCount: clients.length,
      remedy: remedyFor(d, via),
    };
  });
}

/** What to check where the packet died: inside a node, or on the way between the tunnel's ends. */
function remedyFor(d: Death, via: string): string[] {
  const nodeOf = (iface: string) => iface.slice(iface.lastIndexOf('@') + 1);
  const [outerFrom, outerTo] = via.split(' ').slice(2).filter((w) => w !== '>');
  const overlayPorts = 'a swarm needs UDP 4789 (overlay data), TCP/UDP 7946 and TCP 2377 open between its nodes, in both directions';
  if (d.missingAt === null) {
    return [`the SYN reached ${d.seenAt} and nothing answered: on ${nodeOf(d.seenAt)}, check that the task listens and that its namespace's filter rules accept it (docker exec <task> ss -ltn)`];
  }
  if (d.missingAt === 'client') return [`the SYN-ACK left towards the client from ${d.seenAt}: check the path from ${nodeOf(d.seenAt)} back to the client`];
  const seenNode = nodeOf(d.seenAt);
  const missingNode = nodeOf(d.missingAt);
  if (seenNode === missingNode) {
    return [
      `on ${seenNode}, the reply did not get from ${d.seenAt} to ${d.missingAt}: check ${seenNode}'s filter rules for the overlay's outgoing VXLAN (iptables -S OUTPUT; iptables -t raw -S; nft list ruleset), e.g. a rule dropping UDP 4789 to ${outerFrom}`,
      overlayPorts,
    ];
  }
  return [`the VXLAN packets from ${seenNode} to ${missingNode} (UDP 4789, ${outerTo} to ${outerFrom}) are lost between the nodes: check the firewalls and security groups between them`, overlayPorts];
}
