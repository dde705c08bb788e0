import type { DockerNetwork } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { isLocalAddress, synInterface } from './context-facts';
import { plural } from './group';
import type { DiagnosisInput } from './input';
import { lookupRoute } from './route-sim';

/** Why this host answered a SYN it was to forward with "host unreachable": the neighbour it routes to never answered ARP. */
export interface UnresolvedNeighbour {
  sentences: string[];
  evidence: Record<string, unknown>;
  remedy: string[];
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
  if (!hostUnreachable) return null;
  const iif = synInterface(flow, input);
  const r = lookupRoute(ctx, flow.serverIp, { ...(iif !== null && !isLocalAddress(ctx, flow.clientIp) && { iif }), src: flow.clientIp });
  if (!('route' in r) || r.route.device === null) return null;
  const device = r.route.device;
  const neighbour = r.route.gateway ?? flow.serverIp;
  const arp = input.arpRequests.get(neighbour);
  // The host unreachable itself says this host's own requests went unanswered; replies seen went to other askers.
  const seen = arp !== undefined && arp.interfaces.includes(device)
    ? ` (${plural(arp.requests, 'request')} for it seen there${arp.replies > 0 ? `; the ${plural(arp.replies, 'reply', 'replies')} seen did not reach this host` : ''})`
    : ' (the requests are not in the capture)';
  const asked = `${neighbour} never answered its ARP on ${device}${seen}`;
  const sentences = [
    `This host itself (${rej.from}) sent the host unreachable: it routes ${flow.serverIp} out of ${device}${r.route.gateway !== null ? ` via ${r.route.gateway}` : ', on the link'}, and ${asked}, so the kernel dropped the waiting SYNs: they never left by ${device}.`,
  ];
  const evidence: Record<string, unknown> = { unresolvedNeighbour: neighbour, routedOutOf: device, arpRequests: arp?.requests ?? null, arpReplies: arp?.replies ?? null };
  const macvlan = r.route.gateway === null ? macvlanHolding(ctx.dockerNetworks ?? [], device, flow.serverIp) : null;
  if (macvlan === null) {
    return { sentences, evidence, remedy: [`Check that ${neighbour} is up and on ${device}'s link: ip neigh show ${neighbour} (FAILED or INCOMPLETE while the clients retry); arping -I ${device} ${neighbour}.`] };
  }
  const { network, container } = macvlan;
  const shim = `${network.name}-shim`.slice(0, 15);
  sentences.push(
    `${flow.serverIp} is container ${container} on Docker's ${network.driver} network "${network.name}", whose parent is ${device}: Linux delivers nothing between a ${network.driver} parent and its children, so the ARP went out to the wire and never came back to ${container}. The rest of the LAN reaches it; this host and its containers on other networks cannot.`,
  );
  return {
    sentences,
    evidence: { ...evidence, dockerNetwork: network.name, driver: network.driver, parent: device, container },
    remedy: [
      `Give this host its own leg on "${network.name}" (Docker's documented way), with SHIM_IP an address free on the LAN and outside the network's --ip-range (reserve it with --aux-address when the network is next created): ip link add ${shim} link ${device} type ${network.driver} mode bridge; ip addr add SHIM_IP/32 dev ${shim}; ip link set ${shim} up; ip route add ${flow.serverIp}/32 dev ${shim}.`,
      `Route the network's whole --ip-range the same way (ip route add RANGE dev ${shim}) so containers started later are reached too, and make the four commands part of the host's network configuration (they go when it restarts).`,
    ],
  };
}

/** The macvlan or ipvlan network on `parent` whose endpoints hold `address`, and the container that does. */
function macvlanHolding(networks: readonly DockerNetwork[], parent: string, address: string): { network: DockerNetwork; container: string } | null {
  for (const network of networks) {
    if ((network.driver !== 'macvlan' && network.driver !== 'ipvlan') || network.parent !== parent) continue;
    const holder = network.endpoints?.find((e) => e.addresses.includes(address));
    if (holder !== undefined) return { network, container: holder.name };
  }
  return null;
}
