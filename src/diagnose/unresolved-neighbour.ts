import type { DockerNetwork } from '../context/host-context';
import type { Flow } from '../flow/flow';
import { contextInterface, isLocalAddress, synInterface } from './context-facts';
import { plural } from './group';
import type { DiagnosisInput } from './input';
import { endpointHolding } from './docker-holder';
import { hopFacts } from './nat-hop';
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
  const v4 = flow.ipVersion === 4;
  const hostUnreachable = v4 ? rej.icmpType === 3 && rej.icmpCode === 1 : rej.icmpType === 1 && rej.icmpCode === 3;
  // A DNAT or port forward to this host's own address has no neighbour to resolve.
  if (!hostUnreachable || isLocalAddress(ctx, flow.serverIp)) return null;
  const iif = synInterface(flow, input);
  const forwarded = iif !== null && !isLocalAddress(ctx, flow.clientIp);
  const r = lookupRoute(ctx, flow.serverIp, { ...(forwarded && { iif }), src: flow.clientIp });
  if (!('route' in r) || r.route.device === null) return null;
  const device = r.route.device;
  // Only a link that resolves neighbours (it has a MAC): a VPN (WireGuard answers host unreachable itself) or tunnel does not.
  const link = contextInterface(ctx, device);
  if (link === undefined || link.kind === 'tun' || link.kind === 'loopback' || link.mac === null || /^(00:){5}00$/.test(link.mac)) return null;
  // A REJECT rule with icmp-host-unreachable on the way is the other sender of this message.
  if (forwarded && hopFacts(ctx, { packet: { src: flow.clientIp, dst: flow.serverIp, dstPort: flow.serverPort }, from: iif, to: device }).dropRule !== null) return null;
  const neighbour = r.route.gateway ?? flow.serverIp;
  const ask = v4 ? 'ARP' : 'neighbour solicitation';
  // IPv4: the capture of that link shows the requests (the host unreachable itself says this host's went unanswered; replies seen went to other askers).
  const captured = input.interfaceNames.includes(device);
  const arp = v4 ? input.arpRequests.get(neighbour) : undefined;
  if (v4 && captured && (arp === undefined || !arp.interfaces.includes(device))) return null;
  const seen = arp !== undefined
    ? ` (${plural(arp.requests, 'request')} for it seen there${arp.replies > 0 ? `; the ${plural(arp.replies, 'reply', 'replies')} seen did not reach this host` : ''})`
    : ` (${device}'s ${ask} is not in the capture)`;
  const sentences = [
    `This host itself (${rej.from}) sent the host unreachable: it routes ${flow.serverIp} out of ${device}${r.route.gateway !== null ? ` via ${r.route.gateway}` : ', on the link'}, and ${neighbour} never answered its ${ask} there${seen}, so the kernel dropped the waiting SYNs: they never left by ${device}.`,
  ];
  const evidence: Record<string, unknown> = { unresolvedNeighbour: neighbour, routedOutOf: device, arpRequests: arp?.requests ?? null, arpReplies: arp?.replies ?? null };
  const macvlan = r.route.gateway === null ? macvlanHolding(ctx.dockerNetworks ?? [], device, flow.serverIp) : null;
  const check = v4 ? `arping -I ${device} ${neighbour}` : `ping -6 -I ${device} ${neighbour}`;
  if (macvlan === null) {
    return { sentences, evidence, remedy: [`Check that ${neighbour} is up and on ${device}'s link: ip neigh show ${neighbour} (FAILED or INCOMPLETE while the clients retry); ${check}.`] };
  }
  const { network, container } = macvlan;
  sentences.push(
    `${flow.serverIp} is container ${container} on Docker's ${network.driver} network "${network.name}", whose parent is ${device}: Linux delivers nothing between ${network.driver === 'ipvlan' ? 'an' : 'a'} ${network.driver} parent and its children, so the ${ask} went out to the wire and never came back to ${container}. The rest of the LAN reaches it; this host and its containers on other networks cannot.`,
  );
  const shim = shimRemedy(network, device, flow.serverIp, v4);
  return {
    sentences,
    evidence: { ...evidence, dockerNetwork: network.name, driver: network.driver, parent: device, container, ...(network.mode !== undefined && { mode: network.mode }) },
    remedy: shim ?? [
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
