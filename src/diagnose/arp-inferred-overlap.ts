import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import type { Finding } from './finding';
import { attemptCount, distinct, plural } from './group';
import type { DiagnosisInput } from './input';
import { splitEndpoint } from './nat-hop';

/**
 * A bridge overlap seen in the packets alone (a capture someone sent, without the host's
 * snapshot or --bridge): an attempt DNATed to an address behind an interface, where that
 * address then asks by ARP for the client, unanswered: the namespace the SYN was sent to takes
 * the client for a neighbour on its own link (its network's subnet holds the client's address)
 * instead of sending the SYN-ACK to its gateway. Or, not DNATed, the address the SYN was for
 * (the host) asks for the client on a Docker bridge, not on the link the SYN came in by: the
 * host routes the client into that bridge. Either way the reply is never sent. The subnet
 * itself is not known here, so the remedy says how to move the network and how to get a
 * checked one.
 */
export function arpInferredOverlaps(input: DiagnosisInput, silent: readonly Flow[]): Finding[] {
  if (input.context !== null) return [];
  const byInterface = new Map<string, { target: string; dnat: boolean; flows: Flow[] }>();
  for (const f of silent) {
    if (input.bridges.some((b) => subnetContains(b.subnet, f.clientIp))) continue;
    const attempt = input.attempts?.find((a) => a.flows.includes(f.id));
    if (attempt !== undefined && attempt.id !== f.id) continue;
    const inner = attempt?.hops.find((h) => h.translation === 'dnat' || h.translation === 'dnat+snat');
    const target = inner === undefined ? f.serverIp : splitEndpoint(inner.server).ip;
    const arp = input.arpRequests.get(f.clientIp);
    if (arp === undefined || arp.replies > 0 || !arp.askers.includes(target)) continue;
    // Without a DNAT, the host itself asks: on a Docker bridge, and not on the link the SYN came in by (where the client is a neighbour).
    const came = input.interfaceNames[f.interfaces[0] ?? -1];
    if (came === undefined) continue;
    const link = inner?.interface ?? (arp.interfaces.includes(came) ? undefined : arp.interfaces.find((i) => DOCKER_BRIDGE.test(i)));
    // A client that came in by that very link (a container dialling a published port of its own bridge) is on it.
    if (link === undefined || link === came || !arp.interfaces.includes(link)) continue;
    const group = byInterface.get(link) ?? { target, dnat: inner !== undefined, flows: [] };
    group.flows.push(f);
    byInterface.set(link, group);
  }
  return [...byInterface].map(([link, { target, dnat, flows }]) => inferredFinding(input, link, target, dnat, flows));
}

/** Names Docker gives its bridges. */
const DOCKER_BRIDGE = /^(docker0|docker_gwbridge|br-[0-9a-f]{12})$/;

function inferredFinding(input: DiagnosisInput, link: string, target: string, dnat: boolean, flows: Flow[]): Finding {
  const clients = distinct(flows.map((f) => f.clientIp));
  const requests = clients.reduce((n, c) => n + (input.arpRequests.get(c)?.requests ?? 0), 0);
  const them = clients.length === 1 ? 'it' : 'them';
  const came = input.interfaceNames[flows[0]!.interfaces[0] ?? -1] ?? 'the uplink';
  const how = dnat
    ? `The SYNs from ${clients.join(', ')} are DNATed to ${target} behind ${link}, and ${target} answers by asking for ${them} by ARP on ${link} (${plural(requests, 'request')}, unanswered) instead of sending the SYN-ACK to its gateway: ` +
      `for that namespace ${clients.join(', ')} ${clients.length === 1 ? 'is' : 'are'} on its own link, so ${link}'s network's subnet holds ${clients.length === 1 ? 'the client\'s address' : 'their addresses'}.`
    : `The SYNs from ${clients.join(', ')} came in by ${came} to ${target}, and ${target} answers by asking for ${them} by ARP on ${link} (${plural(requests, 'request')}, unanswered) instead of out of ${came}: ` +
      `this host routes ${clients.length === 1 ? 'the client\'s address' : 'their addresses'} into ${link}, whose subnet holds ${clients.length === 1 ? 'it' : 'them'}.`;
  return {
    code: 'bridge-subnet-overlap',
    severity: 'error',
    confidence: 'high',
    title: dnat
      ? `${plural(clients.length, 'client')} ${clients.length === 1 ? 'gets' : 'get'} no answer: ${target} behind ${link} takes ${them} for ${clients.length === 1 ? 'a neighbour' : 'neighbours'} (its network's subnet holds ${clients.length === 1 ? 'the client\'s address' : 'their addresses'})`
      : `${plural(clients.length, 'client')} ${clients.length === 1 ? 'gets' : 'get'} no answer: this host sends the replies into ${link}, whose subnet holds ${clients.length === 1 ? 'the client\'s address' : 'their addresses'}`,
    explanation: `${how} Nobody answers, so the SYN-ACKs are never sent. This analysis had no host snapshot, and no --bridge holding the client, so the subnet is not known here.`,
    evidence: {
      bridge: link,
      subnet: null,
      bridgeSource: 'capture',
      clients,
      repliesFrom: dnat ? target : 'host',
      attempts: attemptCount(flows, input),
      arpRequestsOnBridge: clients.map((c) => input.arpRequests.get(c)!).map((a) => ({ target: a.target, requests: a.requests, askers: a.askers })),
    },
    flows: flows.flatMap((f) => input.attempts?.find((a) => a.id === f.id)?.flows ?? [f.id]),
    remedy: [
      `Move ${link}'s network off the clients' range: for docker0, "bip" (and "default-address-pools") in /etc/docker/daemon.json, then systemctl restart docker; for a user network, docker network create --subnet on a free range and move its containers there; docker_gwbridge is recreated out of the swarm.`,
      `For a subnet checked free against the host's routes, addresses and Docker networks and the clients: on the host, synscope context --output host.json, then synscope analyze CAPTURE --context host.json (or pass --bridge ${link}=CIDR).`,
      `Confirm from the host: ${DOCKER_BRIDGE.test(link) ? `ip route show dev ${link}` : `ip route`} lists the subnet, and it holds ${clients[0]}.`,
    ],
  };
}
