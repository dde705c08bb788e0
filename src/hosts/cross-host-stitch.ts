import type { Analysis, HandshakeSummary } from '../analysis';
import { byImpact, type Finding } from '../diagnose/finding';
import { crossNodeBreakRule, deathOf, type Death } from '../diagnose/rules/cross-node-break';
import { lowerForIncompleteCapture, retransmittedAfterAnswer } from '../diagnose/diagnose';
import { formatEndpoint } from '../decode/address';
import type { AttemptPath, Hop, Translation } from '../flow/attempt-path';
import type { Flow } from '../flow/flow';
import { STITCH_WINDOW_SECONDS } from '../flow/stitch';
import { MAX_VXLAN_LEGS, type VxlanLeg } from '../flow/vxlan-legs';
import type { HostAnalysis as JoinedHost } from './analyze-hosts';

/** One host's own analysis, as analyze-hosts ran it (flow ids and interface names still its own), and its own addresses with their interfaces. */
type HostAnalysis = Pick<JoinedHost, 'name' | 'analysis' | 'ownAddresses' | 'addressInterfaces'>;

/**
 * A handshake carried over VXLAN: the leg where it left one node and the leg where it
 * arrived at the other, or, when the other node's capture never saw it arrive, its uplink
 * there (`missingOn`, "eth0@node2").
 */
interface Crossing {
  from: HostAnalysis;
  to: HostAnalysis;
  sent: VxlanLeg;
  /** The sender's flow of the inner tuple. */
  sentFlow: Flow;
  arrived: { leg: VxlanLeg; flow: Flow } | null;
  missingOn: string | null;
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
  const warnings = [...joined.warnings, ...hosts.flatMap((h) => legsTurnedAway(h))];
  if (crossings.length === 0) return { ...joined, warnings };
  const handshakes = { ...joined.summary.handshakes };
  const paths: AttemptPath[] = [];
  const deaths: Death[] = [];
  const replaced = new Set<string>();
  for (const c of crossings) {
    uncountReceived(c, handshakes);
    const path = spanningPath(c);
    if (path === null) continue;
    paths.push(path);
    deaths.push(deathOf(path, c.missingOn));
    for (const id of path.flows) replaced.add(id);
  }
  const attempts = [...joined.attempts.filter((p) => !p.flows.some((id) => replaced.has(id))), ...paths];
  const partial = (f: Finding) => f.flows.length > 0 && f.flows.every((id) => replaced.has(id));
  const spanning = crossNodeBreakRule(deaths);
  // Either node's capture missing packets makes the spanning verdicts as unsure as that node's own.
  if (hosts.some((h) => h.analysis.captureGaps?.missesPackets === true)) for (const f of spanning) lowerForIncompleteCapture(f);
  return {
    ...joined,
    summary: { ...joined.summary, handshakes },
    attempts,
    warnings,
    findings: [...joined.findings.filter((f) => !partial(f)), ...spanning].sort(byImpact),
  };
}

function legsTurnedAway(h: HostAnalysis): string[] {
  const n = h.analysis.vxlanLegs?.notRecorded ?? 0;
  return n === 0 ? [] : [`${h.name}: ${n} handshake${n === 1 ? '' : 's'} in VXLAN beyond the first ${MAX_VXLAN_LEGS} not followed to other nodes`];
}

function findCrossings(hosts: readonly HostAnalysis[], joined: Analysis): Crossing[] {
  const offsets = new Map(hosts.map((h, i) => [h.name, joined.hosts?.[i]?.clockOffsetSeconds ?? 0]));
  const tunnelKey = (l: VxlanLeg) => `${l.vni}|${l.from}|${l.to}|${l.client}|${l.server}|${l.isn}`;
  const seen = new Map<string, { host: HostAnalysis; leg: VxlanLeg }[]>();
  for (const host of hosts) {
    for (const leg of host.analysis.vxlanLegs?.legs ?? []) {
      if (leg.firstSynAt === null) continue;
      const list = seen.get(tunnelKey(leg)) ?? [];
      list.push({ host, leg });
      seen.set(tunnelKey(leg), list);
    }
  }
  const out: Crossing[] = [];
  for (const sightings of seen.values()) {
    if (sightings.every((s) => s.host === sightings[0]!.host)) {
      const lost = neverArrived(sightings[0]!, hosts, offsets);
      if (lost !== null) out.push(lost);
      continue;
    }
    const sender = sightings.find((s) => s.host.ownAddresses.has(s.leg.from));
    const receiver = sightings.find((s) => s !== sender && s.host !== sender?.host && s.host.ownAddresses.has(s.leg.to));
    // Without contexts, the earlier capture is the sender (lab nodes share one clock; real ones are close).
    const [from, to] = sender !== undefined && receiver !== undefined ? [sender, receiver] : byTime(sightings);
    if (from === undefined || to === undefined || from.host === to.host) continue;
    const delay = to.leg.firstSynAt! - offsets.get(to.host.name)! - (from.leg.firstSynAt! - offsets.get(from.host.name)!);
    if (Math.abs(delay) > STITCH_WINDOW_SECONDS) continue;
    const sentFlow = flowOf(from.host.analysis, from.leg);
    const receivedFlow = flowOf(to.host.analysis, to.leg);
    if (sentFlow === undefined || receivedFlow === undefined) continue;
    out.push({ from: from.host, to: to.host, sent: from.leg, sentFlow, arrived: { leg: to.leg, flow: receivedFlow }, missingOn: null });
  }
  return out.sort((a, b) => a.sent.firstSynAt! - b.sent.firstSynAt!);
}

/**
 * A SYN that left its node over VXLAN (its tunnel source is that node's address) toward
 * another analyzed node (the tunnel destination is that node's address), whose capture of
 * that interface ran at the time and never saw it arrive. Needs both nodes' contexts.
 */
function neverArrived(sent: { host: HostAnalysis; leg: VxlanLeg }, hosts: readonly HostAnalysis[], offsets: ReadonlyMap<string, number>): Crossing | null {
  const { host, leg } = sent;
  if (!host.ownAddresses.has(leg.from)) return null;
  const to = hosts.find((h) => h !== host && h.ownAddresses.has(leg.to));
  const uplink = to?.addressInterfaces.get(leg.to);
  if (to === undefined || uplink === undefined || !to.analysis.interfaceNames.includes(uplink)) return null;
  // A capture that dropped packets (its ring, or the interface before it) may have missed this one.
  if (to.analysis.inputs.some((i) => (i.droppedByCapture ?? 0) > 0)) return null;
  const at = leg.firstSynAt! - offsets.get(host.name)! + offsets.get(to.name)!;
  // The capture ran from its first packet to its last at least; its own start and stop say
  // more: a quiet uplink may see nothing after the last handshake that got through.
  const { firstSeen, lastSeen } = indexOf(to.analysis);
  const span = to.analysis.captureSpans?.find((s) => s.interface === uplink);
  if (at < Math.min(firstSeen, span?.from ?? Infinity) || at > Math.max(lastSeen, span?.to ?? -Infinity)) return null;
  const sentFlow = flowOf(host.analysis, leg);
  if (sentFlow === undefined) return null;
  return { from: host, to, sent: leg, sentFlow, arrived: null, missingOn: `${uplink}@${to.name}` };
}

function byTime<T extends { host: HostAnalysis; leg: VxlanLeg }>(sightings: readonly T[]): [T | undefined, T | undefined] {
  const sorted = [...sightings].sort((a, b) => a.leg.firstSynAt! - b.leg.firstSynAt!);
  return [sorted[0], sorted.find((s) => s.host !== sorted[0]!.host)];
}

/** The host's flow of a leg's inner handshake (same tuple and ISN, through the leg's interface; the nearest in time when the ISN came again). */
function flowOf(a: Analysis, leg: VxlanLeg): Flow | undefined {
  const flows = (indexOf(a).byHandshake.get(`${leg.client}|${leg.server}|${leg.isn}`) ?? []).filter((f) => f.interfaces.includes(leg.iface));
  const distance = (f: Flow) => Math.abs((f.firstSynAt ?? f.firstSeen) - leg.firstSynAt!);
  return flows.sort((x, y) => distance(x) - distance(y))[0];
}

/** A host's flows by handshake (client, server, ISN) and the time its flows span; built once per analysis, when it has VXLAN legs. */
interface HostIndex {
  byHandshake: Map<string, Flow[]>;
  firstSeen: number;
  lastSeen: number;
}

const indexes = new WeakMap<Analysis, HostIndex>();

function indexOf(a: Analysis): HostIndex {
  let index = indexes.get(a);
  if (index !== undefined) return index;
  index = { byHandshake: new Map(), firstSeen: Infinity, lastSeen: -Infinity };
  for (const f of a.flows) {
    if (f.firstSeen < index.firstSeen) index.firstSeen = f.firstSeen;
    if (f.lastSeen > index.lastSeen) index.lastSeen = f.lastSeen;
    if (f.isn === null) continue;
    const key = `${formatEndpoint(f.clientIp, f.clientPort, f.ipVersion)}|${formatEndpoint(f.serverIp, f.serverPort, f.ipVersion)}|${f.isn}`;
    const list = index.byHandshake.get(key);
    if (list === undefined) index.byHandshake.set(key, [f]);
    else list.push(f);
  }
  indexes.set(a, index);
  return index;
}

/**
 * The receiving node counted the arrived handshake as an attempt of its own, unless the
 * sender's flow of it already counted it once (analyze-hosts counts a handshake two hosts
 * saw untranslated once, when neither saw it as a NAT hop).
 */
function uncountReceived(c: Crossing, handshakes: HandshakeSummary): void {
  if (c.arrived === null) return;
  const received = c.arrived.flow;
  const senderHop = c.from.analysis.stitchedFlows?.has(c.sentFlow.id) === true;
  const receiverHop = c.to.analysis.stitchedFlows?.has(received.id) === true;
  if (!senderHop && !receiverHop) return;
  const outcome = c.to.analysis.attempts.find((p) => p.flows.includes(received.id))?.outcome ?? received.outcome;
  if (outcome === null) return;
  handshakes.attempted--;
  handshakes[outcome]--;
}

/** The attempt from the client on the sending node to the task on the receiving one, or null when the client's outcome was completed. */
function spanningPath(c: Crossing): AttemptPath | null {
  const { from, to, sent, sentFlow, arrived } = c;
  const name = (h: HostAnalysis, iface: number) => `${h.analysis.interfaceNames[iface] ?? `#${iface}`}@${h.name}`;
  const id = (h: HostAnalysis, flow: string) => `${h.name}/${flow}`;
  const onHost = (h: HostAnalysis, hop: Hop): Hop => ({ ...hop, flow: id(h, hop.flow), interface: `${hop.interface}@${h.name}` });
  const before = from.analysis.attempts.find((p) => p.flows.includes(sentFlow.id));
  const outcome = before?.outcome ?? sentFlow.outcome;
  if (outcome === null || outcome === 'completed') return null;
  // Handshakes only: no ACK can show the SYN-ACK taken, so only a client that sent SYNs again after a prompt one lost it.
  if (outcome === 'synAckLost' && from.analysis.captureGaps?.handshakeOnly === true && !retransmittedAfterAnswer(sentFlow)) return null;
  const via = `vxlan ${sent.vni} ${sent.from} > ${sent.to}`;
  const hops: Hop[] = before !== undefined ? before.hops.map((h) => onHost(from, h)) : [plainHop(id(from, sentFlow.id), name(from, firstOtherThan(sentFlow, sent.iface)), sentFlow)];
  const leftOn = name(from, sent.iface);
  const last = hops[hops.length - 1]!;
  if (last.interface === leftOn) last.via = via;
  else hops.push(legHop(id(from, sentFlow.id), leftOn, sent, via));
  if (arrived !== null) hops.push(...arrivedHops(to, arrived.leg, arrived.flow, via));
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

/** The receiving node's hops: the VXLAN leg arriving, the task's leg, and the node's own NAT hops after them. */
function arrivedHops(to: HostAnalysis, received: VxlanLeg, receivedFlow: Flow, via: string): Hop[] {
  const name = (iface: number) => `${to.analysis.interfaceNames[iface] ?? `#${iface}`}@${to.name}`;
  const id = (flow: string) => `${to.name}/${flow}`;
  const hops = [legHop(id(receivedFlow.id), name(received.iface), received, via)];
  // The overlay's bridge floods a frame to a MAC it has not learned yet, ingress_sbox's leg included: not the task's hop.
  const task = receivedFlow.interfaces.filter((i) => i !== received.iface && !(to.analysis.interfaceNames[i] ?? '').endsWith('@ingress_sbox'));
  if (task.length > 0) hops.push(plainHop(id(receivedFlow.id), name(task[task.length - 1]!), receivedFlow));
  const after = to.analysis.attempts.find((p) => p.flows[0] === receivedFlow.id);
  if (after !== undefined) hops.push(...after.hops.slice(1).map((h) => ({ ...h, flow: id(h.flow), interface: `${h.interface}@${to.name}` })));
  return hops;
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
