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
  /** Ids of the flows that are hops of a NAT-stitched attempt: their peer saw another address. */
  stitchedFlows: ReadonlySet<string>;
  /** The host's own addresses (from its context, or its bridges' gateway addresses without one). */
  ownAddresses: ReadonlySet<string>;
  /** Who holds each address on the host's Docker bridge networks (the Engine API's endpoints, by container name); empty without a context. */
  bridgeContainers?: ReadonlyMap<string, string>;
  /** The network (CIDR) each own address is on, from the context. */
  ownNetworks?: ReadonlyMap<string, string>;
}

interface Owner {
  host: string;
  interface: string;
  macs: string[];
  /** The container Docker says holds the address there, when the host's context names one. */
  container?: string;
}

interface Connection {
  host: string;
  flow: Flow;
  role: 'client' | 'server';
}

/**
 * `address-collision` across hosts (incident 004). Two hosts running containers at the
 * same bridge-private address is normal; it breaks when the address leaves its host: a
 * container connects, without NAT, to a service that takes its source address for a name
 * (Redis Cluster gossip), and a peer on another host dials that address and reaches that
 * host's own container instead. The finding needs both halves: on one host the address
 * connected, untranslated, to a host address (which then knows it), and on another host
 * it was dialled directly (not DNATed from a published port); and the two must be
 * different machines (their MACs differ, or Docker derived both MACs from the address,
 * so MACs cannot tell).
 */
export function crossHostCollisionRule(hosts: readonly HostFacts[]): Finding[] {
  const findings: Finding[] = [];
  for (const [address, owners] of ownersByAddress(hosts)) {
    if (owners.length < 2) continue;
    const untranslated = (h: HostFacts, f: Flow) => !h.stitchedFlows.has(f.id);
    const leaks = hosts.flatMap((h) =>
      h.flows.filter((f) => f.clientIp === address && untranslated(h, f) && h.ownAddresses.has(f.serverIp)).map((f) => ({ host: h.host, flow: f, role: 'client' as const })),
    );
    const dials = hosts.flatMap((h) => h.flows.filter((f) => f.serverIp === address && untranslated(h, f)).map((f) => ({ host: h.host, flow: f, role: 'server' as const })));
    const pair = leaks.flatMap((l) => dials.filter((d) => d.host !== l.host).map((d) => [l, d] as const))[0];
    if (pair === undefined) continue;
    const [leak, dial] = pair;
    const at = (host: string) => owners.find((o) => o.host === host);
    const leakOwner = at(leak.host);
    const dialOwner = at(dial.host);
    if (leakOwner === undefined || dialOwner === undefined) continue;
    const macsTell = !derivedFromAddress(leakOwner.macs, address) || !derivedFromAddress(dialOwner.macs, address);
    if (macsTell && leakOwner.macs.some((m) => dialOwner.macs.includes(m))) continue;
    const leakNetwork = hosts.find((h) => h.host === leak.host)?.ownNetworks?.get(leak.flow.serverIp) ?? null;
    findings.push(collisionFinding(address, [leakOwner, dialOwner], [leak, dial], macsTell, leakNetwork));
  }
  return findings;
}

/** Per address: the hosts behind whose bridge it sent (SYNs, SYN-ACKs, ARP), with its MACs there. */
function ownersByAddress(hosts: readonly HostFacts[]): Map<string, Owner[]> {
  const owners = new Map<string, Owner[]>();
  for (const h of hosts) {
    for (const [address, sightings] of h.macsByAddress) {
      if (h.ownAddresses.has(address)) continue;
      const bridge = h.bridges.find((b) => subnetContains(b.subnet, address));
      if (bridge === undefined) continue;
      const macs = [...new Set(sightings.filter((s) => s.interface === bridge.name).map((s) => s.mac))];
      if (macs.length === 0) continue;
      const list = owners.get(address) ?? [];
      const container = h.bridgeContainers?.get(address);
      if (!list.some((o) => o.host === h.host)) list.push({ host: h.host, interface: bridge.name, macs, ...(container !== undefined && { container }) });
      owners.set(address, list);
    }
  }
  return owners;
}

/** Docker before 27 (moby #48808) made a container's MAC from its IPv4 address: 02:42 and the four bytes. */
function derivedFromAddress(macs: readonly string[], address: string): boolean {
  const bytes = address.split('.').map(Number);
  if (bytes.length !== 4) return false;
  const derived = ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
  return macs.length > 0 && macs.every((m) => m.toLowerCase() === derived);
}

function collisionFinding(address: string, owners: Owner[], connections: readonly Connection[], macsTell: boolean, leakNetwork: string | null): Finding {
  const [leak, dial] = connections as [Connection, Connection];
  const [leakOwner, dialOwner] = owners as [Owner, Owner];
  const endpoint = (f: Flow, side: 'client' | 'server') =>
    side === 'client' ? formatEndpoint(f.clientIp, f.clientPort, f.ipVersion) : formatEndpoint(f.serverIp, f.serverPort, f.ipVersion);
  // Two containers Docker names on two hosts are two machines, whatever their MACs say.
  const named = leakOwner.container !== undefined && dialOwner.container !== undefined;
  const machines = macsTell
    ? `Their MACs differ (${owners.map((o) => `${o.host}: ${o.macs.join(', ')}`).join('; ')}): two machines.`
    : named
      ? `Docker derived both MACs from the address, so they cannot tell the machines apart; each host's Docker names who holds it: ${leakOwner.container} on ${leak.host}, ${dialOwner.container} on ${dial.host}.`
      : `Docker derived both MACs from the address, so they cannot tell the machines apart; the connections above do.`;
  return {
    code: 'address-collision',
    severity: 'error',
    confidence: macsTell || named ? 'high' : 'medium',
    title: `${address} is a different machine on ${leak.host} and ${dial.host}`,
    explanation:
      `Bridge-private addresses are only unique per host. On ${leak.host}, ${address} (${leakOwner.container !== undefined ? `container ${leakOwner.container}, ` : ''}behind ${leakOwner.interface}) connected to ${endpoint(leak.flow, 'server')}, one of ${leak.host}'s own addresses, without NAT, so that service knows it as ${address} and may hand the address to peers (Redis Cluster gossip does). ` +
      `On ${dial.host}, ${endpoint(dial.flow, 'client')} dialled ${endpoint(dial.flow, 'server')} directly and reached ${dial.host}'s ${dialOwner.container !== undefined ? `container ${dialOwner.container}` : 'own container'} at that address (${dial.flow.outcome ?? 'no handshake'}), not the one on ${leak.host}. ` +
      machines,
    evidence: {
      address,
      owners,
      connections: connections.map((c) => ({
        host: c.host,
        flow: `${c.host}/${c.flow.id}`,
        role: c.role,
        client: endpoint(c.flow, 'client'),
        server: endpoint(c.flow, 'server'),
        outcome: c.flow.outcome,
      })),
    },
    flows: connections.map((c) => `${c.host}/${c.flow.id}`),
    remedy: [
      announceRemedy(address, leak, dial, leakOwner.container),
      `Or let the container reach its peers from a routable address: host networking, or a route inside the container so that traffic to the peers' network leaves by its routable interface (e.g. ip route add ${leakNetwork ?? "<the peers' network>"} dev <that interface>), so peers see that address and never the bridge one.`,
      `Or keep bridge subnets apart per host (daemon.json "bip" and "default-address-pools" different on each host), so a bridge-private address can never name two machines.`,
    ],
  };
}

/**
 * The first remedy: the service announces a routable address. With the container named, it is
 * the host's address its peer saw it reach, with the port the peers dial published there (on
 * another host port when the service it reached holds that one).
 */
function announceRemedy(address: string, leak: Connection, dial: Connection, container: string | undefined): string {
  const generic = `for Redis Cluster, cluster-announce-ip <the host's or the container's routable address> (and cluster-announce-port / cluster-announce-bus-port); other clustered services have the same setting (advertise address).`;
  if (container === undefined || leak.flow.ipVersion !== 4) return `Make the service announce a routable address instead of ${address}: ${generic}`;
  const hostIp = leak.flow.serverIp;
  const port = dial.flow.serverPort;
  // The service it reached holds that port on the host address: another host port then.
  const taken = leak.flow.serverPort === port;
  const hostPort = taken ? 'HOSTPORT' : String(port);
  const publish = `docker run -p ${hostPort}:${port}${taken ? `, HOSTPORT a port free on ${leak.host} (${port} there is the service it reached)` : ''}`;
  // Redis Cluster's bus is the data port + 10000 unless configured: peers gossip there, so it must be published too.
  const bus = port + 10000;
  return `Make ${container} on ${leak.host} announce a routable address instead of ${address}: ${leak.host}'s ${hostIp}, with the port its peers dial published there: ${publish}; then, for Redis Cluster, cluster-announce-ip ${hostIp} and cluster-announce-port ${hostPort}, and its cluster bus published too (port ${bus} in the container unless cluster-port says otherwise): -p BUSPORT:${bus} with cluster-announce-bus-port BUSPORT, BUSPORT a port free on ${leak.host}, or peers reach the data port but not the bus; other clustered services have the same setting (advertise address).`;
}
