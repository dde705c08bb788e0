import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DockerNetwork, NetInterface } from '../src/context/host-context';
import { unresolvedNeighbour } from '../src/diagnose/unresolved-neighbour';
import { analyzeEdited, type EditedFinding } from './scenario-edit';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';

interface Network { name: string; driver: string }

type MacvlanContext = { dockerNetworks: Network[]; interfaces: { name: string; addresses: unknown[] }[]; routes: { table: string; destination: string }[] };

/** The stored macvlan scenario analyzed with its context changed by `edit`: its one finding. */
async function analyzeWith(edit: (ctx: MacvlanContext) => void): Promise<EditedFinding> {
  const { findings } = await analyzeEdited<MacvlanContext>('docker-real-macvlan-host', edit);
  assert.equal(findings.length, 1, JSON.stringify(findings.map((f) => f.code)));
  return findings[0]!;
}

test('this host\'s own host unreachable for a macvlan container on its parent: the parent/child isolation, with the shim as the remedy', async () => {
  const f = await analyzeWith(() => {});
  assert.deepEqual([f.evidence.unresolvedNeighbour, f.evidence.parent, f.evidence.container], ['192.0.2.50', 'eth0', 'web']);
  assert.match(f.explanation, /Linux delivers nothing between a macvlan parent and its children/);
});

test('the same host unreachable with no macvlan network holding the address: an unresolved neighbour, checked with ip neigh and arping', async () => {
  const f = await analyzeWith((ctx) => {
    ctx.dockerNetworks = ctx.dockerNetworks.filter((n) => n.driver !== 'macvlan');
  });
  assert.equal(f.evidence.unresolvedNeighbour, '192.0.2.50');
  assert.equal(f.evidence.container, undefined);
  assert.deepEqual(f.remedy, ['Check that 192.0.2.50 is up and on eth0\'s link: ip neigh show 192.0.2.50 (FAILED or INCOMPLETE while the clients retry); arping -I eth0 192.0.2.50.']);
});

test('a host unreachable from an address that is not this host\'s: a router on the path, as before', async () => {
  const f = await analyzeWith((ctx) => {
    for (const i of ctx.interfaces) if (i.name === 'eth0') i.addresses = [];
    ctx.routes = ctx.routes.filter((r) => !(r.table === 'local' && r.destination.startsWith('192.0.2.1/')));
  });
  assert.equal(f.evidence.unresolvedNeighbour, undefined);
  assert.match(f.explanation, /a router \(192\.0\.2\.1\) on the path refuses them/);
});

/** A host (eth0 192.0.2.1/24 and 2001:db8:1::1/64, docker0 172.17.0.1/16) with the networks and links given. */
function host(networks: DockerNetwork[], extra: NetInterface[] = [], routes: string[] = []) {
  const eth0 = { ...iface('eth0', 'physical', ['192.0.2.1/24', '2001:db8:1::1/64']), mac: '02:00:00:00:00:01' };
  const docker0 = { ...iface('docker0', 'bridge', ['172.17.0.1/16']), mac: '02:42:00:00:00:01' };
  return makeContext({
    interfaces: [eth0, docker0, ...extra],
    routes: ['192.0.2.0/24 dev eth0', '2001:db8:1::/64 dev eth0', '172.17.0.0/16 dev docker0', ...routes].map(route),
    dockerNetworks: networks,
  });
}

const LAN: DockerNetwork = {
  id: 'l1', name: 'lan', driver: 'macvlan', scope: 'local', subnets: ['192.0.2.0/24', '2001:db8:1::/64'], gateways: [], bridge: null, ingress: false, internal: false,
  parent: 'eth0', endpoints: [{ name: 'web', addresses: ['192.0.2.50', '2001:db8:1::50'] }],
};

/** The container 172.17.0.2 (or fd00::2) refused by this host's own host unreachable, seen on docker0. */
function refused(server = '192.0.2.50') {
  const v6 = server.includes(':');
  return handMadeFlow({
    id: 'f1', ipVersion: v6 ? 6 : 4, clientIp: v6 ? 'fd00::2' : '172.17.0.2', serverIp: server, serverPort: 80, outcome: 'rejected', interfaces: [0],
    rejection: { by: 'icmp', from: v6 ? '2001:db8:1::1' : '192.0.2.1', icmpType: v6 ? 1 : 3, icmpCode: v6 ? 3 : 1 },
  });
}

const run = (ctx: ReturnType<typeof host>, flow = refused()) => unresolvedNeighbour(diagnosisInput({ failedFlows: [flow], interfaceNames: ['docker0'], context: ctx }), flow);

test('IPv6: the shim gets a /128 address and route with ip -6, and the text says neighbour solicitation', () => {
  const u = run(host([LAN]), refused('2001:db8:1::50'))!;
  assert.match(u.remedy[0]!, /ip -6 addr add SHIM_IP\/128 dev lan-shim; ip link set lan-shim up; ip -6 route add 2001:db8:1::50\/128 dev lan-shim\.$/);
  assert.match(u.sentences.join(' '), /neighbour solicitation/);
});

test('ipvlan gets an ipvlan leg in l2 mode; a macvlan network in private mode gets no shim (its children cannot reach one another either)', () => {
  const ipvlan = run(host([{ ...LAN, driver: 'ipvlan' }]))!;
  assert.match(ipvlan.remedy[0]!, /ip link add lan-shim link eth0 type ipvlan mode l2;/);
  assert.match(ipvlan.sentences.join(' '), /between an ipvlan parent/);
  const priv = run(host([{ ...LAN, mode: 'private' }]))!;
  assert.ok(!priv.remedy.some((l) => l.includes('ip link add')));
  assert.match(priv.remedy[0]!, /private mode/);
});

test('a route out of a link without a MAC (WireGuard answers host unreachable itself), or a server that is this host: no neighbour story', () => {
  const wg = { ...iface('wg0', 'other', ['10.99.0.1/24']), mac: null };
  assert.equal(run(host([LAN], [wg], ['192.0.2.48/29 dev wg0'])), null);
  assert.equal(run(host([LAN]), refused('192.0.2.1')), null);
});

test('the route\'s link captured and no ARP for the neighbour on it: no claim (something else answered host unreachable), unless the capture has no ARP there at all and a macvlan child explains it', () => {
  const flow = refused();
  const input = diagnosisInput({ failedFlows: [flow], interfaceNames: ['docker0', 'eth0'], context: host([LAN]) });
  const others = new Map([['192.0.2.7', { target: '192.0.2.7', requests: 1, replies: 1, interfaces: ['eth0'], askers: ['192.0.2.1'] }]]);
  assert.equal(unresolvedNeighbour({ ...input, arpRequests: others }, flow), null, 'ARP on eth0, none for 192.0.2.50: never asked');
  assert.equal(unresolvedNeighbour({ ...input, context: host([]) }, flow), null, 'no ARP on eth0 at all, no macvlan child: nothing shows the asking');
  assert.match(unresolvedNeighbour(input, flow)!.sentences[0]!, /never answered its ARP there \(eth0's ARP is not in the capture\)/);
  const asked = { ...input, arpRequests: new Map([['192.0.2.50', { target: '192.0.2.50', requests: 3, replies: 0, interfaces: ['eth0'], askers: ['192.0.2.1'] }]]) };
  assert.match(unresolvedNeighbour(asked, flow)!.sentences[0]!, /never answered its ARP there \(3 requests for it seen there\)/);
});
