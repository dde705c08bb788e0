import { clientCount } from '../sample-counts';
import type { BridgeSubnet } from '../../context/bridge';
import { parseSubnet, subnetContains } from '../../net/cidr';
import type { Flow } from '../../flow/flow';
import type { Finding } from '../finding';
import { bridgeRemedy } from '../bridge-remedy';
import { contextInterface, isLocalAddress, sentFromHere } from '../context-facts';
import { attemptCount, distinct, plural } from '../group';
import type { DiagnosisInput } from '../input';
import { synAckRetransmitsOf } from '../kernel-facts';
import { bridgeOf, describeRoute, doubleRoutes, winnerOf } from '../double-routes';
import { replyOrigin, targetReplyRoute } from '../reply-origin';
import { takenRangeFindings } from '../taken-range';
import { networkHolds, networkOnBridge } from '../docker-holder';
import { arpInferredOverlaps } from '../arp-inferred-overlap';
import { isDnatTarget } from '../nat-hop';

/**
 * `bridge-subnet-overlap`: failed clients whose address lies inside a local bridge's
 * subnet. The kernel routes the SYN-ACK into the bridge (connected route) instead of
 * out of the uplink, so the client never hears back. Also the other side of the same
 * overlap (incident 001 when the uplink's route is the one the table uses): a published
 * port DNATs to a container inside the bridge's subnet, but the host routes that address
 * out of another device, so no SYN reaches the container, whatever the client's address.
 * And the overlap seen from inside (taken-range.ts): a server elsewhere whose address a
 * Docker network's subnet took, so the host routes SYNs to it into the bridge. Without the
 * host's bridges (no snapshot, no --bridge), the overlap the packets show by themselves: the
 * DNAT target ARPing for the client (arp-inferred-overlap.ts).
 */
export function bridgeSubnetOverlapRule(input: DiagnosisInput): Finding[] {
  const findings: Finding[] = [];
  const silent = input.failedFlows.filter((f) => f.outcome === 'unanswered' || f.outcome === 'synAckLost');
  const covered = new Set<string>();
  const reachable = reachableClients(input);
  for (const bridge of input.bridges) {
    // A client the host's replies do reach, or that answers ARP, is really on a link: its
    // silence has another cause (a firewall drop), not the bridge.
    const inside = silent.filter((f) => subnetContains(bridge.subnet, f.clientIp) && !reachable.has(`${f.clientIp}|${f.serverIp}`) && !answersArp(input, f.clientIp));
    // Clients are the ones seen arriving from outside the bridge; their DNATed leg, seen
    // only on the bridge (e.g. toward ingress_sbox), is the same failure and is covered too.
    const targetAway = silent.filter((f) => targetRoutedAway(input, bridge, f) !== null);
    const clients = distinct([...targetAway, ...inside.filter((f) => publishedFromOutside(f, bridge.name, input) || (!onlySeenOn(f, bridge.name, input) && !onTheBridge(f, bridge.name, input)))].map((f) => f.clientIp));
    if (clients.length === 0) continue;
    const flows = [...new Set([...targetAway, ...inside.filter((f) => clients.includes(f.clientIp))])];
    for (const f of flows) covered.add(f.id);
    findings.push(overlapFinding(input, bridge, clients, flows, 'bridge'));
  }
  // A client that answers ARP on its SYN's link from the one MAC its SYNs came from is a neighbour there after all (a host's own
  // LAN); another MAC answering for it (a container's leg holding the same address) is the overlap itself.
  const notNeighbours = silent.filter((f) => !covered.has(f.id) && !reachable.has(`${f.clientIp}|${f.serverIp}`) && !answersArpItself(input, f));
  for (const { link, clients, flows } of connectedLinkOverlaps(input, notNeighbours)) {
    findings.push(overlapFinding(input, link, clients, flows, 'container-link'));
    for (const f of flows) covered.add(f.id);
  }
  findings.push(...takenRangeFindings(input, silent.filter((f) => !covered.has(f.id))));
  findings.push(...arpInferredOverlaps(input, silent.filter((f) => !covered.has(f.id))));
  return findings;
}

/**
 * The same failure seen from inside a container's namespace (`live --netns`, or a capture
 * taken there with its context): the SYN arrives on a link whose connected subnet holds
 * the client, the namespace ARPs for the client on that link instead of routing the reply
 * through its gateway, and nobody answers. The ARP requests on the SYN's own link are required.
 */
function connectedLinkOverlaps(input: DiagnosisInput, silent: readonly Flow[]): { link: BridgeSubnet; clients: string[]; flows: Flow[] }[] {
  const out: { link: BridgeSubnet; clients: string[]; flows: Flow[] }[] = [];
  for (const iface of input.context?.interfaces ?? []) {
    if (iface.kind === 'bridge' || iface.kind === 'loopback') continue;
    for (const a of iface.addresses) {
      const subnet = parseSubnet(`${a.address}/${a.prefixLength}`);
      if (subnet === null || a.address.toLowerCase().startsWith('fe80:')) continue;
      // A client that is one of the namespace's own addresses (its masquerade address, the
      // SYN leaving) is no neighbour it ARPs for: an ARP request for it comes from a peer.
      const flows = silent.filter(
        (f) =>
          subnetContains(subnet, f.clientIp) &&
          !isLocalAddress(input.context!, f.clientIp) &&
          f.interfaces.some((i) => input.interfaceNames[i] === iface.name) &&
          (input.arpRequests.get(f.clientIp)?.interfaces.includes(iface.name) ?? false),
      );
      if (flows.length > 0) out.push({ link: { name: iface.name, subnet, source: 'context' }, clients: distinct(flows.map((f) => f.clientIp)), flows });
    }
  }
  return out;
}

/**
 * "client|server" pairs where the server's side did answer the client (a SYN-ACK, or a
 * RST from the server itself): replies from there find their way back to the client.
 */
function reachableClients(input: DiagnosisInput): Set<string> {
  const out = new Set<string>();
  for (const p of input.peerSyns ?? []) if (p.answeredAt.some((t) => t >= 0)) out.add(`${p.client}|${p.server}`);
  for (const f of input.failedFlows) {
    if (f.outcome === 'rejected' && f.rejection?.by === 'rst' && f.rejection.from === f.serverIp) out.add(`${f.clientIp}|${f.serverIp}`);
  }
  return out;
}

/** The client answered ARP, and its address shows one MAC on its SYN's interface: the host that asked for it reached the host that sent the SYN. */
function answersArpItself(input: DiagnosisInput, f: Flow): boolean {
  const iface = input.interfaceNames[f.interfaces[0] ?? -1];
  const macs = distinct((input.macsByAddress?.get(f.clientIp) ?? []).filter((m) => m.interface === iface).map((m) => m.mac));
  return answersArp(input, f.clientIp) && macs.length === 1;
}

function answersArp(input: DiagnosisInput, client: string): boolean {
  return (input.arpRequests.get(client)?.replies ?? 0) > 0;
}

/** The DNAT target of a flow when it lies in the bridge's subnet but the host routes it out of another device; else null. */
function targetRoutedAway(input: DiagnosisInput, bridge: BridgeSubnet, f: Flow): { target: string; holder: string | null; device: string; rule: string | null } | null {
  const o = replyOrigin(f, input);
  if (o.kind !== 'dnat' || o.device === null || o.device === bridge.name || !subnetContains(bridge.subnet, o.target)) return null;
  return { target: o.target, holder: o.holder, device: o.device, rule: o.rule };
}

/** Who sends the replies into the bridge: this host's kernel, or the namespace a DNAT sent the SYNs to. */
function misrouter(input: DiagnosisInput, bridge: BridgeSubnet, flows: Flow[], askers: string[]): { sentence: string; evidence: Record<string, unknown> } {
  const away = flows.map((f) => targetRoutedAway(input, bridge, f)).find((t) => t !== null);
  if (away !== undefined && away !== null) {
    const who = away.holder === null ? away.target : `${away.holder} (${away.target})`;
    return {
      sentence:
        `The published port's DNAT sends the SYNs to ${who}` + (away.rule === null ? '' : ` (${away.rule})`) +
        `, inside ${bridge.name}'s subnet, but the host routes ${away.target} out of ${away.device}: the SYNs leave by ${away.device} and never reach the container, so every client of the service gets no answer, whatever its address.`,
      evidence: { dnatTarget: away.target, dnatTargetName: away.holder, dnatTargetRoutedVia: away.device },
    };
  }
  const origin = flows.map((f) => replyOrigin(f, input)).find((o) => o.kind === 'dnat');
  const askedBy = askers.length === 0 ? '' : ` The ARP requests for the clients on ${bridge.name} come from ${askers.join(', ')}.`;
  if (origin === undefined || origin.kind !== 'dnat') {
    return {
      sentence: `The kernel of this host sends the replies to them into ${bridge.name} (its connected route) instead of out of the uplink, so the SYN-ACKs never reach them.${askedBy}`,
      evidence: { repliesFrom: 'host', arpAskers: askers },
    };
  }
  const who = origin.holder === null ? origin.target : `${origin.holder} (${origin.target})`;
  // The answering namespace's own routes, when its snapshot was given (--netns-context).
  const own = flows.map((f) => targetReplyRoute(input, origin.target, f.clientIp)).find((r) => r !== null) ?? null;
  const ownSentence = own === null ? '' : ` Its own snapshot (${own.namespace}) routes the reply by ${own.route}${own.onLink ? ', on-link' : ''}.`;
  return {
    sentence:
      `The SYNs are DNATed to ${who} behind ${bridge.name}` + (origin.rule === null ? '' : ` (${origin.rule})`) + `; that namespace answers, ` +
      `and for it ${bridge.subnet.text} is its own connected link: it takes the clients for neighbours on ${bridge.name} and ARPs for them instead of sending the SYN-ACKs to its gateway, so they never leave.${ownSentence}${askedBy}`,
    evidence: { repliesFrom: origin.target, repliesFromName: origin.holder, dnatKnownFrom: origin.from, arpAskers: askers, ...(own !== null && { repliesFromRoute: `${own.route} (${own.namespace})` }) },
  };
}

/** The double route (incident 001) the bridge's subnet is part of, as evidence; null when none. */
function doubleRouteOf(input: DiagnosisInput, bridge: BridgeSubnet): { prefix: string; routes: string[]; winner: string } | null {
  const ctx = input.context;
  if (ctx === null) return null;
  const d = doubleRoutes(ctx, input).find((r) => bridgeOf(ctx, input, r) === bridge.name);
  return d === undefined ? null : { prefix: d.prefix, routes: d.routes.map(describeRoute), winner: describeRoute(winnerOf(d)) };
}

function overlapFinding(input: DiagnosisInput, bridge: BridgeSubnet, clients: string[], flows: Flow[], view: 'bridge' | 'container-link'): Finding {
  const arpOnBridge = clients
    .map((c) => input.arpRequests.get(c))
    .filter((a) => a !== undefined && a.interfaces.includes(bridge.name))
    .map((a) => ({ target: a!.target, requests: a!.requests, askers: a!.askers }));
  const askers = distinct(arpOnBridge.flatMap((a) => a.askers));
  const who = misrouter(input, bridge, flows, askers);
  const doubleRoute = doubleRouteOf(input, bridge);
  const synAcksOnBridge = flows
    .filter((f) => f.synAcks > 0 && f.interfaces.some((i) => input.interfaceNames[i] === bridge.name))
    .map((f) => f.id);
  // The kernel retransmitting SYN-ACKs means the server answered and its replies went astray.
  const retransmits = input.kernel == null ? null : synAckRetransmitsOf(input.kernel, flows);
  const bridgeEvidence = arpOnBridge.length > 0 || synAcksOnBridge.length > 0;
  const { free, pool, remedy } = bridgeRemedy(input, bridge, clients);
  const clientTotal = clientCount(input, flows, clients);
  return {
    code: 'bridge-subnet-overlap',
    severity: 'error',
    confidence: bridgeEvidence || retransmits !== null ? 'high' : 'medium',
    title: who.evidence['dnatTarget'] !== undefined
      ? `${bridge.name}'s subnet ${bridge.subnet.text} is routed away from it: the published port's container is unreachable and ${plural(clientTotal, 'client')} ${clientTotal === 1 ? 'gets' : 'get'} no answer`
      : `${plural(clientTotal, 'client')} inside ${bridge.name}'s subnet ${bridge.subnet.text} ${clientTotal === 1 ? 'gets' : 'get'} no answer`,
    explanation:
      (view === 'bridge'
        ? (who.evidence['dnatTarget'] !== undefined ? `${who.sentence} ` : `The clients' addresses fall inside ${bridge.subnet.text}, which ${bridge.name} owns on this host. ${who.sentence} `) +
          (doubleRoute === null ? '' : `The host routes ${doubleRoute.prefix} twice (${doubleRoute.routes.join('; ')}); the table uses ${doubleRoute.winner}, but moving ${bridge.name} ends both problems. `)
        : `The clients' addresses fall inside ${bridge.subnet.text}, the connected subnet of ${bridge.name} in this network namespace (a container's leg on a Docker network; for ingress_sbox, docker_gwbridge). ` +
          `The namespace takes the clients for neighbours on ${bridge.name} and ARPs for them instead of routing the replies through its gateway; nobody answers, so the SYN-ACKs are never sent. `) +
      (bridgeEvidence
        ? `The capture of ${bridge.name} shows it: ${describeBridgeEvidence(arpOnBridge.length, synAcksOnBridge.length)}.`
        : who.evidence['dnatTarget'] !== undefined
          ? `Capture on ${bridge.name} to confirm: none of these SYNs gets there.`
          : `Capture on ${bridge.name} to confirm: the SYN-ACKs (or ARP requests for the clients) will show up there.`) +
      (retransmits === null
        ? ''
        : ` The kernel retransmitted ${plural(retransmits.retransmits, 'SYN-ACK')} for ${retransmits.attempts} of these attempts (tcp_retransmit_synack, matched by addresses and ports): the server answered, and the answers never got the clients' ACK.`),
    evidence: {
      bridge: bridge.name,
      subnet: bridge.subnet.text,
      bridgeSource: bridge.source,
      clients,
      ...(view === 'bridge' ? who.evidence : { arpAskers: askers }),
      ...(doubleRoute !== null && { doubleRoute }),
      attempts: attemptCount(flows, input),
      arpRequestsOnBridge: arpOnBridge,
      synAcksOnBridge,
      proposedSubnet: free?.subnet ?? null,
      proposedAddressPool: pool?.subnet ?? null,
      proposedSubnetCheckedAgainst: free?.checkedAgainst ?? null,
      ...(input.kernel != null && { kernelSynAckRetransmits: retransmits }),
    },
    flows: flows.map((f) => f.id),
    remedy,
  };
}

/**
 * A client that is on the bridge itself: a Docker endpoint of the bridge's network, or one
 * whose SYN was seen first on the bridge or on a port of it (a container's veth, in a capture
 * of -i any), before any other interface saw it, or first on an uplink with the uplink's own
 * MAC (this host sent it: a container's SYN forwarded untranslated). Its
 * address is inside the subnet because it belongs there: nothing overlaps.
 */
function onTheBridge(f: Flow, bridgeName: string, input: DiagnosisInput): boolean {
  const ctx = input.context;
  if (ctx === null) return false;
  const network = networkOnBridge(ctx, bridgeName);
  if (network !== undefined && networkHolds(network, f.clientIp)) return true;
  const first = f.interfaces[0];
  if (first === undefined) return false;
  const name = input.interfaceNames[first] ?? '';
  return name === bridgeName || contextInterface(ctx, name)?.master === bridgeName || sentFromHere(input, ctx, f.clientIp, name);
}

/**
 * A flow captured on the bridge alone that the host DNATed there from outside: its server is a
 * published port's target (the snapshot's DNAT rule), its client is not this host, and its
 * frames on the bridge carry the bridge's own MAC (the host forwarded them; a container's own
 * SYN carries the container's MAC). Seen only on the bridge, it is still a client from outside.
 */
function publishedFromOutside(f: Flow, bridgeName: string, input: DiagnosisInput): boolean {
  const ctx = input.context;
  if (ctx === null || !onlySeenOn(f, bridgeName, input) || isLocalAddress(ctx, f.clientIp)) return false;
  // The host forwarded it onto the bridge: its frames carry the bridge's own MAC, not a container's.
  return sentFromHere(input, ctx, f.clientIp, bridgeName) && isDnatTarget(ctx, f.serverIp, f.serverPort);
}

/** A flow seen only on the bridge itself is a container's own traffic, not a misrouted client. */
function onlySeenOn(f: Flow, bridgeName: string, input: DiagnosisInput): boolean {
  return f.interfaces.length > 0 && f.interfaces.every((i) => input.interfaceNames[i] === bridgeName);
}

function describeBridgeEvidence(arps: number, synAcks: number): string {
  const parts: string[] = [];
  if (arps > 0) parts.push(`ARP requests for ${plural(arps, 'client')} on the bridge`);
  if (synAcks > 0) parts.push(`${plural(synAcks, 'SYN-ACK flow')} seen on the bridge`);
  return parts.join(' and ');
}
