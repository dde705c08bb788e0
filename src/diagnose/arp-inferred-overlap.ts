import type { Flow } from '../flow/flow';
import { subnetContains } from '../net/cidr';
import type { Finding } from './finding';
import { attemptCount, distinct, plural } from './group';
import type { DiagnosisInput } from './input';
import { splitEndpoint } from './nat-hop';

/**
 * A bridge overlap seen in the packets alone (a capture someone sent, without the host's
 * snapshot or --bridge): an attempt DNATed to an address behind an interface, where that
 * address then asks by ARP for the client, unanswered. The namespace the SYN was sent to takes
 * the client for a neighbour on its own link (its network's subnet holds the client's address)
 * instead of sending the SYN-ACK to its gateway, so the reply is never sent. The subnet itself
 * is not known here, so the remedy says how to move the network and how to get a checked one.
 */
export function arpInferredOverlaps(input: DiagnosisInput, silent: readonly Flow[]): Finding[] {
  const byInterface = new Map<string, { target: string; flows: Flow[] }>();
  for (const f of silent) {
    if (input.bridges.some((b) => subnetContains(b.subnet, f.clientIp))) continue;
    const attempt = input.attempts?.find((a) => a.flows.includes(f.id));
    const inner = attempt?.hops.find((h) => h.translation === 'dnat' || h.translation === 'dnat+snat');
    if (attempt === undefined || inner === undefined || attempt.id !== f.id) continue;
    const target = splitEndpoint(inner.server).ip;
    const arp = input.arpRequests.get(f.clientIp);
    if (arp === undefined || arp.replies > 0 || !arp.interfaces.includes(inner.interface) || !arp.askers.includes(target)) continue;
    const group = byInterface.get(inner.interface) ?? { target, flows: [] };
    group.flows.push(f);
    byInterface.set(inner.interface, group);
  }
  return [...byInterface].map(([link, { target, flows }]) => inferredFinding(input, link, target, flows));
}

function inferredFinding(input: DiagnosisInput, link: string, target: string, flows: Flow[]): Finding {
  const clients = distinct(flows.map((f) => f.clientIp));
  const requests = clients.reduce((n, c) => n + (input.arpRequests.get(c)?.requests ?? 0), 0);
  const them = clients.length === 1 ? 'it' : 'them';
  return {
    code: 'bridge-subnet-overlap',
    severity: 'error',
    confidence: 'high',
    title: `${plural(clients.length, 'client')} ${clients.length === 1 ? 'gets' : 'get'} no answer: ${target} behind ${link} takes ${them} for ${clients.length === 1 ? 'a neighbour' : 'neighbours'} (its network's subnet holds ${clients.length === 1 ? 'the client\'s address' : 'their addresses'})`,
    explanation:
      `The SYNs from ${clients.join(', ')} are DNATed to ${target} behind ${link}, and ${target} answers by asking for ${them} by ARP on ${link} (${plural(requests, 'request')}, unanswered) instead of sending the SYN-ACK to its gateway: ` +
      `for that namespace ${clients.join(', ')} ${clients.length === 1 ? 'is' : 'are'} on its own link, so ${link}'s network's subnet holds ${clients.length === 1 ? 'the client\'s address' : 'their addresses'}. Nobody answers, so the SYN-ACKs are never sent. ` +
      `This analysis had neither the host's snapshot nor --bridge, so the subnet is not known here.`,
    evidence: {
      bridge: link,
      subnet: null,
      bridgeSource: 'capture',
      clients,
      repliesFrom: target,
      attempts: attemptCount(flows, input),
      arpRequestsOnBridge: clients.map((c) => input.arpRequests.get(c)!).map((a) => ({ target: a.target, requests: a.requests, askers: a.askers })),
    },
    flows: flows.flatMap((f) => input.attempts?.find((a) => a.id === f.id)?.flows ?? [f.id]),
    remedy: [
      `Move ${link}'s network off the clients' range: for docker0, "bip" (and "default-address-pools") in /etc/docker/daemon.json, then systemctl restart docker; for a user network, docker network create --subnet on a free range and move its containers there; docker_gwbridge is recreated out of the swarm.`,
      `For a subnet checked free against the host's routes, addresses and Docker networks and the clients: on the host, synscope context --output host.json, then synscope analyze CAPTURE --context host.json (or pass --bridge ${link}=CIDR).`,
      `Confirm from the host: ${/^(docker0|docker_gwbridge|br-[0-9a-f]{12})$/.test(link) ? `ip route show dev ${link}` : `ip route`} lists the subnet, and it holds ${clients[0]}.`,
    ],
  };
}
