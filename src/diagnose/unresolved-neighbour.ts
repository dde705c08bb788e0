import type { DockerNetwork, HostContext } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { contextInterface, isLocalAddress, synInterface } from './context-facts';
import { plural } from './group';
import type { ArpSighting, DiagnosisInput } from './input';
import type { DropCause } from './drop-cause';
import { endpointHolding } from './docker-holder';
import { hopFacts } from './nat-hop';
import { lookupRoute } from './route-sim';

/** Why this host answered a SYN it was to forward with "host unreachable": the neighbour it routes to never answered ARP. */
export interface UnresolvedNeighbour {
  sentences: string[];
  evidence: Record<string, unknown>;
  remedy: string[];
}

/** Where this host sends a flow's SYNs on a link that resolves neighbours, and what the capture shows of its asking there. */
interface NeighbourHop {
  device: string;
  gateway: string | null;
  neighbour: string;
  /** How it asks: ARP, or neighbour solicitation (IPv6). */
  ask: string;
  /** IPv4: the ARP requests for the neighbour the capture shows. */
  arp: ArpSighting | undefined;
  /** The capture has ARP on the device but none for the neighbour: the host never asked there. */
  neverAsked: boolean;
}

/**
 * The on-link hop of a SYN this host forwards or sends (not to one of its own addresses),
 * from the snapshot's routes: a device with a MAC (a VPN or tunnel resolves nothing), no
 * drop or REJECT rule on the way there (that rule is the answer instead).
 */
function neighbourHop(input: DiagnosisInput, flow: Flow): NeighbourHop | null {
  const ctx = input.context;
  if (ctx === null || isLocalAddress(ctx, flow.serverIp)) return null;
  const iif = synInterface(flow, input);
  const forwarded = iif !== null && !isLocalAddress(ctx, flow.clientIp);
  const r = lookupRoute(ctx, flow.serverIp, { ...(forwarded && { iif }), src: flow.clientIp });
  if (!('route' in r) || r.route.device === null) return null;
  const device = r.route.device;
  const link = contextInterface(ctx, device);
  if (link === undefined || link.kind === 'tun' || link.kind === 'loopback' || link.mac === null || /^(00:){5}00$/.test(link.mac)) return null;
  if (forwarded && hopFacts(ctx, { packet: { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort }, from: iif, to: device }).dropRule !== null) return null;
  const v4 = flow.ipVersion === 4;
  const neighbour = r.route.gateway ?? flow.serverIp;
  const arp = v4 ? input.arpRequests.get(neighbour) : undefined;
  const asked = arp !== undefined && arp.interfaces.includes(device);
  const arpOnDevice = v4 && input.interfaceNames.includes(device) && [...input.arpRequests.values()].some((a) => a.interfaces.includes(device));
  return { device, gateway: r.route.gateway, neighbour, ask: v4 ? 'ARP' : 'neighbour solicitation', arp, neverAsked: arpOnDevice && !asked };
}

/** What the capture shows of the host's asking, as a parenthesis. */
function askedText(hop: NeighbourHop): string {
  const { arp } = hop;
  return arp !== undefined
    ? ` (${plural(arp.requests, 'request')} for it seen there${arp.replies > 0 ? `; the ${plural(arp.replies, 'reply', 'replies')} seen did not reach this host` : ''})`
    : ` (${hop.device}'s ${hop.ask} is not in the capture)`;
}

function hopEvidence(hop: NeighbourHop): Record<string, unknown> {
  return { unresolvedNeighbour: hop.neighbour, routedOutOf: hop.device, arpRequests: hop.arp?.requests ?? null, arpReplies: hop.arp?.replies ?? null };
}

/**
 * An ICMP host unreachable (IPv4 3/1, IPv6 1/3) that one of this host's own addresses sent:
 * the kernel routed the SYN to a neighbour on a link, asked for it by ARP (or neighbour
 * solicitation) three times, got no answer, and dropped the queued SYN, which therefore
 * never left. On a macvlan network's parent the neighbour is often one of its containers:
 * Linux keeps a macvlan parent and its children apart, so the host and its other containers
 * cannot reach them while the rest of the LAN can. Null for any other refusal.
 */
export function unresolvedNeighbour(input: DiagnosisInput, flow: Flow): UnresolvedNeighbour | null {
  const ctx = input.context;
  const rej = flow.rejection;
  if (ctx === null || rej === null || rej.by !== 'icmp' || !isLocalAddress(ctx, rej.from)) return null;
  const hostUnreachable = flow.ipVersion === 4 ? rej.icmpType === 3 && rej.icmpCode === 1 : rej.icmpType === 1 && rej.icmpCode === 3;
  const hop = hostUnreachable ? neighbourHop(input, flow) : null;
  // IPv4: a capture of that link with ARP in it shows the requests (the host unreachable itself says this host's went unanswered; replies seen went to other askers).
  if (hop === null || hop.neverAsked) return null;
  const { device, gateway, neighbour, ask } = hop;
  const child = gateway === null ? macvlanChild(ctx, hop, flow) : null;
  // A capture of that link without its ARP (filtered out, or none needed) shows nothing of the asking: only a macvlan child explains the host unreachable then.
  if (child === null && flow.ipVersion === 4 && input.interfaceNames.includes(device) && !hop.arp?.interfaces.includes(device)) return null;
  const sentences = [
    `This host itself (${rej.from}) sent the host unreachable: it routes ${flow.serverIp} out of ${device}${gateway !== null ? ` via ${gateway}` : ', on the link'}, and ${neighbour} never answered its ${ask} there${askedText(hop)}, so the kernel dropped the waiting SYNs: they never left by ${device}.`,
  ];
  if (child === null) {
    const check = flow.ipVersion === 4 ? `arping -I ${device} ${neighbour}` : `ping -6 -I ${device} ${neighbour}`;
    return { sentences, evidence: hopEvidence(hop), remedy: [`Check that ${neighbour} is up and on ${device}'s link: ip neigh show ${neighbour} (FAILED or INCOMPLETE while the clients retry); ${check}.`] };
  }
  return { sentences: [...sentences, child.sentence], evidence: { ...hopEvidence(hop), ...child.evidence }, remedy: child.remedy };
}

/**
 * `filtered`'s cause for SYNs this host routes on-link to a container of a macvlan (or
 * ipvlan) network whose parent is that link: it asks for the container there, which never
 * hears it, and drops the waiting SYNs. Its ICMP host unreachable back to the client makes
 * this `rejected` when the capture has it; a capture without it (`tcp port 80`, a snap
 * length that cut its quote) shows only the silence.
 */
export function macvlanChildDrop(input: DiagnosisInput, flow: Flow): DropCause | null {
  const ctx = input.context;
  // Every silent SYN of a flood's sample comes here: a host without macvlan or ipvlan networks has no child to miss, and no route or rule walk is due.
  const children = (ctx?.dockerNetworks ?? []).some((n) => n.driver === 'macvlan' || n.driver === 'ipvlan');
  const hop = !children || flow.outcome !== 'unanswered' ? null : neighbourHop(input, flow);
  if (hop === null || hop.gateway !== null || hop.neverAsked) return null;
  const child = macvlanChild(ctx!, hop, flow);
  if (child === null) return null;
  const { device, ask } = hop;
  return {
    because: `this host cannot reach ${child.container}, a child of its ${device} on Docker's ${child.driver} network "${child.network}"`,
    sentences: [
      `This host routes ${flow.serverIp} out of ${device}, on the link, and asks for it there by ${ask}${askedText(hop)}; the kernel holds the SYNs until ${flow.serverIp} answers and drops them when it never does, so they never leave by ${device} (it tells the client with an ICMP host unreachable, which this capture does not show for these SYNs).`,
      child.sentence,
    ],
    evidence: { droppedBy: 'unresolved-neighbour', ...hopEvidence(hop), ...child.evidence },
    remedy: child.remedy,
  };
}

/** The silent flows, not `explained`, sent toward a macvlan child of this host: nothing after the routing decision is to blame. */
export function macvlanChildFlows(input: DiagnosisInput, explained: ReadonlySet<string>): string[] {
  return input.failedFlows.filter((f) => f.outcome === 'unanswered' && !explained.has(f.id) && macvlanChildDrop(input, f) !== null).map((f) => f.id);
}

/** The container of a macvlan or ipvlan network on the hop's device that holds the flow's server address: why the host asks in vain. */
function macvlanChild(ctx: HostContext, hop: NeighbourHop, flow: Flow) {
  const holding = macvlanHolding(ctx.dockerNetworks ?? [], hop.device, flow.serverIp);
  if (holding === null) return null;
  const { network, container } = holding;
  const v4 = flow.ipVersion === 4;
  return {
    container,
    network: network.name,
    driver: network.driver,
    sentence: `${flow.serverIp} is container ${container} on Docker's ${network.driver} network "${network.name}", whose parent is ${hop.device}: Linux delivers nothing between ${network.driver === 'ipvlan' ? 'an' : 'a'} ${network.driver} parent and its children, so the ${hop.ask} went out to the wire and never came back to ${container}. The rest of the LAN reaches it; this host and its containers on other networks cannot.`,
    evidence: { dockerNetwork: network.name, driver: network.driver, parent: hop.device, container, ...(network.mode !== undefined && { mode: network.mode }) },
    remedy: shimRemedy(network, hop.device, flow.serverIp, v4) ?? [
      `A ${network.driver} network in ${network.mode} mode keeps its children from reaching each other too, so a leg for this host on it would not help: put ${container} on a network this host routes to as well (docker network connect NETWORK ${container}), or dial it from a machine elsewhere on the LAN.`,
    ],
  };
}

/**
 * Docker's documented way for a host to reach its macvlan (or ipvlan L2) children: a leg of its
 * own on the parent, of the same kind, with an address of its own and a route to them through
 * it. Null for a mode whose children do not talk to each other either (macvlan private, vepa,
 * passthru; ipvlan l3, l3s).
 */
function shimRemedy(network: DockerNetwork, parent: string, address: string, v4: boolean): string[] | null {
  const mode = network.mode ?? (network.driver === 'ipvlan' ? 'l2' : 'bridge');
  if (network.driver === 'macvlan' ? mode !== 'bridge' : mode !== 'l2') return null;
  const shim = `${network.name}-shim`.slice(0, 15);
  const [ip, host] = v4 ? ['ip', 32] : ['ip -6', 128];
  return [
    `Give this host its own leg on "${network.name}" (Docker's documented way), with SHIM_IP an address free on the LAN and outside the network's --ip-range (reserve it with --aux-address when the network is next created): ip link add ${shim} link ${parent} type ${network.driver} mode ${mode}; ${ip} addr add SHIM_IP/${host} dev ${shim}; ip link set ${shim} up; ${ip} route add ${address}/${host} dev ${shim}.`,
    `Route the network's whole --ip-range the same way (${ip} route add RANGE dev ${shim}) so containers started later are reached too, and make the four commands part of the host's network configuration (they go when it restarts).`,
  ];
}

/** The macvlan or ipvlan network on `parent` whose endpoints hold `address`, and the container that does. */
function macvlanHolding(networks: readonly DockerNetwork[], parent: string, address: string): { network: DockerNetwork; container: string } | null {
  for (const network of networks) {
    if ((network.driver !== 'macvlan' && network.driver !== 'ipvlan') || network.parent !== parent) continue;
    const container = endpointHolding(network, address);
    if (container !== null) return { network, container };
  }
  return null;
}
