import type { BridgeSubnet } from '../../context/bridge';
import { formatEndpoint } from '../../decode/address';
import type { Flow } from '../../flow/flow';
import { subnetContains } from '../../net/cidr';
import type { Finding } from '../finding';
import type { MacSighting } from '../input';

/** What one host's analysis knows that the cross-host rule compares. */
export interface HostFacts {
  host: string;
  bridges: readonly BridgeSubnet[];
  /** Source MACs by IP address, per interface (SYNs, SYN-ACKs, ARP). */
  macsByAddress: ReadonlyMap<string, readonly MacSighting[]>;
  /** Every flow of the host, with host-local ids. */
  flows: readonly Flow[];
  /** The host's own interface addresses (from its context): a bridge's gateway address is the same on every host, and that is fine. */
  ownAddresses: ReadonlySet<string>;
}

interface Owner {
  host: string;
  interface: string;
  macs: string[];
}

/**
 * `address-collision` across hosts (incident 004): bridge-private addresses are unique
 * only per host. When the same address sends from behind a bridge on two hosts with
 * different MACs, it is two machines; a peer that learned the address on one host (a
 * Redis Cluster node announcing what it saw) and dials it from the other reaches the
 * wrong one, and the handshake completes, so nothing looks broken.
 */
export function crossHostCollisionRule(hosts: readonly HostFacts[]): Finding[] {
  const owners = new Map<string, Owner[]>();
  for (const h of hosts) {
    for (const [address, sightings] of h.macsByAddress) {
      for (const bridge of h.bridges) {
        if (!subnetContains(bridge.subnet, address) || h.ownAddresses.has(address)) continue;
        const macs = [...new Set(sightings.filter((s) => s.interface === bridge.name).map((s) => s.mac))];
        if (macs.length === 0) continue;
        const list = owners.get(address) ?? [];
        list.push({ host: h.host, interface: bridge.name, macs });
        owners.set(address, list);
      }
    }
  }
  const findings: Finding[] = [];
  for (const [address, list] of owners) {
    const perHost = [...new Map(list.map((o) => [o.host, o])).values()];
    if (perHost.length < 2 || sharesAMac(perHost)) continue;
    const connections = hosts.flatMap((h) =>
      h.flows
        .filter((f) => f.clientIp === address || f.serverIp === address)
        .map((f) => ({ host: h.host, flow: f, role: f.clientIp === address ? ('client' as const) : ('server' as const) })),
    );
    findings.push({
      code: 'address-collision',
      severity: 'error',
      confidence: new Set(connections.map((c) => c.host)).size >= 2 ? 'high' : 'medium',
      title: `${address} is a different machine on ${perHost.map((o) => o.host).join(' and ')}`,
      explanation:
        `Bridge-private addresses are only unique per host: ${perHost.map((o) => `on ${o.host}, ${address} is behind ${o.interface} with MAC ${o.macs.join(', ')}`).join('; ')}. ` +
        `A peer that learns ${address} on one host (a cluster node announcing the address it saw a member connect from, as Redis Cluster gossip does) and dials it from another reaches that host's own container instead, and the handshake completes, so nothing looks broken. ` +
        describeConnections(connections),
      evidence: {
        address,
        owners: perHost,
        connections: connections.map((c) => ({
          host: c.host,
          flow: `${c.host}/${c.flow.id}`,
          role: c.role,
          client: formatEndpoint(c.flow.clientIp, c.flow.clientPort, c.flow.ipVersion),
          server: formatEndpoint(c.flow.serverIp, c.flow.serverPort, c.flow.ipVersion),
          outcome: c.flow.outcome,
        })),
      },
      flows: connections.map((c) => `${c.host}/${c.flow.id}`),
      remedy: [
        `Make the service announce a routable address instead of ${address}: for Redis Cluster, cluster-announce-ip <the host's or the container's routable address> (and cluster-announce-port / cluster-announce-bus-port); other clustered services have the same setting (advertise address).`,
        `Or let the container reach its peers from a routable address: host networking, or a route inside the container so that traffic to the peers' network leaves by its routable interface (e.g. ip route add 10.100.0.0/16 dev <vlan interface>), so peers see that address and never the bridge one.`,
        `Or keep bridge subnets apart per host (daemon.json "bip" and "default-address-pools" different on each host), so a bridge-private address can never name two machines.`,
      ],
    });
  }
  return findings;
}

function sharesAMac(owners: readonly Owner[]): boolean {
  const first = new Set(owners[0]!.macs);
  return owners.slice(1).some((o) => o.macs.some((m) => first.has(m)));
}

function describeConnections(connections: readonly { host: string; flow: Flow; role: 'client' | 'server' }[]): string {
  if (connections.length === 0) return 'No connection to or from it is in these captures.';
  const parts = connections.map((c) => {
    const f = c.flow;
    const peer = c.role === 'client' ? formatEndpoint(f.serverIp, f.serverPort, f.ipVersion) : formatEndpoint(f.clientIp, f.clientPort, f.ipVersion);
    return c.role === 'client' ? `on ${c.host} it connected to ${peer}` : `on ${c.host}, ${peer} connected to it (${f.outcome ?? 'no handshake'})`;
  });
  return `In these captures: ${parts.join('; ')}.`;
}
