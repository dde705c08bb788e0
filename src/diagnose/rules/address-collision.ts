import type { HostContext } from '../../context/host-context';
import type { Flow } from '../../flow/flow';
import { parseSubnet, type Subnet } from '../../net/cidr';
import { contextInterface, deviceOf, isLocalAddress, synInterface } from '../context-facts';
import type { Finding } from '../finding';
import { distinct, groupBy, plural } from '../group';
import type { DiagnosisInput, MacSighting } from '../input';
import { addressValue, parsePrefix, prefixContains, type Prefix } from '../prefix';
import { lookupRoute } from '../route-sim';

/** A subnet private to this host's bridges, and who owns it. */
interface PrivateSubnet {
  owner: string;
  subnet: Subnet;
  prefix: Prefix;
}

/**
 * Docker's default bridge ranges (docker0 172.17.0.0/16, then 172.18-31.0.0/16 and
 * 192.168.0.0/16 in /20s, libnetwork ipamutils): addresses there are the usual leaks.
 */
const DOCKER_DEFAULT_POOLS = ['172.16.0.0/12', '192.168.0.0/16'].map((c) => parsePrefix(c)!);

/**
 * `address-collision` (single host): bridge-private addresses are only unique per host
 * (incident 004: a container's 172.17.x address leaked through cluster gossip and reached
 * a different container elsewhere). Two signs in one host's capture: a bridge-private
 * source arriving on an uplink, whose replies the host routes into its own bridge; and
 * one address sending from several MACs on one link.
 */
export function addressCollisionRule(input: DiagnosisInput): Finding[] {
  // Several hops merged into one link show a forwarded packet's source with each hop's MAC.
  return [...leakedSources(input), ...(input.capture.mergedHops === undefined ? sharedAddresses(input) : [])];
}

function privateSubnets(input: DiagnosisInput): PrivateSubnet[] {
  const out: PrivateSubnet[] = [];
  const add = (owner: string, cidr: string) => {
    const subnet = parseSubnet(cidr);
    if (subnet !== null && !out.some((p) => p.subnet.text === subnet.text)) out.push({ owner, subnet, prefix: parsePrefix(subnet.text)! });
  };
  for (const b of input.bridges) add(b.name, b.subnet.text);
  const ctx = input.context;
  for (const n of ctx?.dockerNetworks ?? []) for (const s of n.subnets) add(n.bridge ?? `Docker network ${n.name}`, s);
  for (const i of ctx?.interfaces ?? []) {
    if (i.kind !== 'bridge') continue;
    for (const a of i.addresses) if (!a.address.toLowerCase().startsWith('fe80:')) add(i.name, `${a.address}/${a.prefixLength}`);
  }
  return out;
}

/** An interface traffic from other hosts comes in on: not a bridge, a bridge port, a tunnel endpoint or loopback. */
function isUplink(ctx: HostContext, name: string): boolean {
  const i = contextInterface(ctx, name);
  if (i === undefined || i.kind === 'bridge' || i.kind === 'veth' || i.kind === 'loopback' || i.kind === 'vxlan') return false;
  return i.master === null || contextInterface(ctx, i.master)?.kind !== 'bridge';
}

function leakedSources(input: DiagnosisInput): Finding[] {
  const ctx = input.context;
  if (ctx === null) return [];
  const subnets = privateSubnets(input);
  const hits: { flow: Flow; owner: PrivateSubnet; iface: string; replyDevice: string | null }[] = [];
  for (const f of input.failedFlows) {
    if (f.outcome !== 'unanswered' && f.outcome !== 'synAckLost') continue;
    const client = addressValue(f.clientIp);
    const owner = client === null ? undefined : subnets.find((s) => prefixContains(s.prefix, client));
    if (owner === undefined) continue;
    const iface = synInterface(f, input);
    if (iface === null || !isUplink(ctx, iface)) continue;
    const replyDevice = deviceOf(lookupRoute(ctx, f.clientIp, { src: f.serverIp }));
    // A route back through the uplink (a more specific route for the client) means no collision here.
    if (replyDevice === iface) continue;
    hits.push({ flow: f, owner, iface, replyDevice });
  }
  return [...groupBy(hits, (h) => `${h.owner.subnet.text}|${h.iface}`).values()].map((group) => {
    const { owner, iface, replyDevice } = group[0]!;
    const clients = distinct(group.map((h) => h.flow.clientIp));
    return {
      code: 'address-collision',
      severity: 'warning',
      confidence: 'medium',
      title: `${plural(clients.length, 'source address', 'source addresses')} private to ${owner.owner} (${owner.subnet.text}) ${clients.length === 1 ? 'arrives' : 'arrive'} on the uplink ${iface}`,
      explanation:
        `SYNs from ${clients.slice(0, 3).join(', ')}${clients.length > 3 ? ', ...' : ''} came in on ${iface}, but ${owner.subnet.text} belongs to ${owner.owner} on this host, ` +
        `so the replies go ${replyDevice !== null ? `to ${replyDevice}` : 'nowhere'} instead of back out of ${iface}. ` +
        'Bridge addresses are only unique per host: if the client is a container on another host, its private address leaked (its host does not masquerade it, or an application announces it to peers) and here it means a different container or nobody. ' +
        'If the client\'s own network really uses this range, it is a subnet overlap instead (see bridge-subnet-overlap).',
      evidence: { subnet: owner.subnet.text, owner: owner.owner, arrivedOn: iface, replyDevice, clients },
      flows: group.map((h) => h.flow.id),
      remedy: [
        `On the client's host, make container traffic leave with the host's address: iptables -t nat -S POSTROUTING | grep MASQUERADE should show -s <its bridge subnet> ! -o <bridge> -j MASQUERADE; Docker removes it with "ip-masq": false in daemon.json or com.docker.network.bridge.enable_ip_masquerade=false on the network.`,
        'If the address came from an application that tells peers where to reach it (Redis cluster gossip, Elasticsearch, Consul, Kafka), make it announce the host address: Redis cluster-announce-ip / cluster-announce-port, Elasticsearch network.publish_host, Kafka advertised.listeners, or run it with --network host.',
        `Otherwise the client network overlaps ${owner.owner}: give the bridge a free subnet (bip / docker network create --subnet, as bridge-subnet-overlap proposes).`,
      ],
    };
  });
}

function sharedAddresses(input: DiagnosisInput): Finding[] {
  const macs = input.macsByAddress;
  if (macs === undefined) return [];
  const subnets = privateSubnets(input);
  const own = ownMacs(input.context);
  const findings: Finding[] = [];
  for (const [address, sightings] of macs) {
    // One MAC has one owner: most addresses of a busy host end here.
    if (sightings.length < 2) continue;
    for (const [iface, onLink] of groupBy(sightings, (s) => s.interface)) {
      const distinctMacs = distinct(onLink.map((s) => s.mac));
      if (owners(input.context, own, address, distinctMacs) < 2 || !worthChecking(input, subnets, address, iface)) continue;
      const flows = input.failedFlows.filter((f) => f.clientIp === address || f.serverIp === address);
      findings.push(sharedFinding(address, iface, onLink, distinctMacs, flows));
    }
  }
  return findings;
}

/** The MACs of the capturing host's own interfaces (from its snapshot), lower case. */
function ownMacs(ctx: HostContext | null): Set<string> {
  return new Set((ctx?.interfaces ?? []).map((i) => i.mac?.toLowerCase()).filter((m): m is string => m !== undefined && m !== null));
}

/**
 * How many hosts the MACs seen for an address stand for. The capturing host's own MACs are
 * one host, and no owner at all of an address not its own: they show this host sending from
 * another of its interfaces (Linux answers ARP for any of its addresses on any link) or
 * forwarding, both of which one link shows only when several hops were merged into it
 * (`tcpdump -r all.pcapng -w one.pcap`).
 */
function owners(ctx: HostContext | null, own: ReadonlySet<string>, address: string, macs: readonly string[]): number {
  const others = macs.filter((m) => !own.has(m.toLowerCase())).length;
  const mine = others < macs.length && ctx !== null && isLocalAddress(ctx, address) ? 1 : 0;
  return others + mine;
}

/**
 * Several MACs for one address are normal for hosts behind routers (each router rewrites
 * the source MAC), so only addresses a collision matters for count: bridge-private ones,
 * Docker's default ranges, and addresses the host reaches directly on that link.
 */
function worthChecking(input: DiagnosisInput, subnets: PrivateSubnet[], address: string, iface: string): boolean {
  const value = addressValue(address);
  if (value === null) return false;
  if (subnets.some((s) => prefixContains(s.prefix, value)) || DOCKER_DEFAULT_POOLS.some((p) => prefixContains(p, value))) return true;
  const ctx = input.context;
  if (ctx === null) return false;
  const r = lookupRoute(ctx, address);
  return 'route' in r && r.route.device === iface && r.route.gateway === null;
}

function sharedFinding(address: string, iface: string, sightings: readonly MacSighting[], macs: string[], flows: Flow[]): Finding {
  return {
    code: 'address-collision',
    severity: flows.length > 0 ? 'error' : 'warning',
    confidence: 'high',
    title: `${address} is used by ${plural(macs.length, 'MAC address', 'MAC addresses')} on ${iface}`,
    explanation:
      `Frames from ${address} on ${iface} carry ${macs.length} different source MACs (${macs.join(', ')}): more than one host or container uses that address on one link. ` +
      'Whichever answers ARP last receives the traffic, so connections to it reach one or the other; bridge-private addresses collide like this when one leaks from another host.' +
      (flows.length > 0 ? ` ${plural(flows.length, 'failed attempt')} in this capture involve it.` : ''),
    evidence: {
      address,
      interface: iface,
      macs: sightings.map((s) => ({ mac: s.mac, packets: s.packets })),
    },
    flows: flows.map((f) => f.id),
    remedy: [
      `Find the owners: ip neigh show ${address}; arping -D -I ${iface} -c 3 ${address} (more than one reply = duplicate); on each Docker host: docker network inspect --format '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{"\\n"}}{{end}}' <network> | grep '${address}/'.`,
      'Give one of them another address; if one is a container address that reached this link from another host, stop the leak there (masquerade its traffic; make clustered applications announce the host address: Redis cluster-announce-ip, Elasticsearch network.publish_host).',
    ],
  };
}
