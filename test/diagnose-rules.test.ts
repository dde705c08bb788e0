/**
 * The context-aware diagnosis rules (route-conflict, rp_filter, address-collision,
 * listen-overflow) over hand-built flows and host-context snapshots, and their
 * interplay with `filtered` in diagnose().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostContext } from '../src/context/host-context';
import { diagnose } from '../src/diagnose/diagnose';
import type { Finding } from '../src/diagnose/finding';
import type { DiagnosisInput, MacSighting } from '../src/diagnose/input';
import { addressCollisionRule } from '../src/diagnose/rules/address-collision';
import { listenOverflowRule } from '../src/diagnose/rules/listen-overflow';
import { natPathBreakRule } from '../src/diagnose/rules/nat-path-break';
import { routeConflictRule } from '../src/diagnose/rules/route-conflict';
import { rejectedRule } from '../src/diagnose/rules/rejected';
import { rpFilterRule } from '../src/diagnose/rules/rp-filter';
import type { AttemptOutcome, Flow } from '../src/flow/flow';
import { parseSubnet, subnetsOverlap } from '../src/net/cidr';
import { iface, makeContext, route } from './context-fixtures';

interface FlowSpec {
  id: string;
  client: string;
  server: string;
  port?: number;
  outcome?: AttemptOutcome;
  /** Interface names that saw the flow, SYN's interface first. */
  on?: string[];
  syns?: number;
  synAcks?: number;
  /** Seconds from the first SYN to the first SYN-ACK. */
  answeredAfter?: number;
  at?: number;
}

/** A Flow as the tracker hands it out; interface names are turned into ids by makeInput. */
function flow(s: FlowSpec, ids: Map<string, number>): Flow {
  const at = s.at ?? 1_700_000_000;
  const outcome = s.outcome ?? 'unanswered';
  const answered = s.answeredAfter !== undefined ? at + s.answeredAfter : outcome === 'completed' ? at + 0.001 : null;
  const v6 = s.client.includes(':');
  return {
    id: s.id,
    ipVersion: v6 ? 6 : 4,
    clientIp: s.client,
    clientPort: 40000 + Number(s.id.replace(/\D/g, '') || 0),
    serverIp: s.server,
    serverPort: s.port ?? 80,
    state: outcome === 'completed' ? 'SF' : 'S0',
    history: outcome === 'completed' ? 'ShAD' : 'S',
    syns: s.syns ?? (outcome === 'unanswered' ? 3 : 1),
    synAcks: s.synAcks ?? (answered !== null || outcome === 'synAckLost' ? 1 : 0),
    origPackets: s.syns ?? 3,
    respPackets: answered !== null ? 1 : 0,
    firstSeen: at,
    lastSeen: at + 3,
    firstSynAt: at,
    firstSynAckAt: answered,
    isn: 1,
    synOptions: null,
    synIpId: null,
    synTtl: null,
    interfaces: (s.on ?? ['eth0']).map((n) => {
      if (!ids.has(n)) ids.set(n, ids.size);
      return ids.get(n)!;
    }),
    outcome,
    rejection: null,
  };
}

interface InputSpec {
  failed?: FlowSpec[];
  late?: FlowSpec[];
  context?: HostContext | null;
  macs?: Record<string, MacSighting[]>;
}

function makeInput(s: InputSpec): DiagnosisInput {
  const ids = new Map<string, number>();
  const failedFlows = (s.failed ?? []).map((f) => flow(f, ids));
  const lateAnsweredFlows = (s.late ?? []).map((f) => flow({ outcome: 'completed', ...f }, ids));
  return {
    failedFlows,
    lateAnsweredFlows,
    interfaceNames: [...ids.keys()],
    bridges: [],
    arpRequests: new Map(),
    seenAddresses: new Set(failedFlows.flatMap((f) => [f.clientIp, f.serverIp])),
    capture: {
      droppedByCapture: 0,
      synAckWithoutSyn: 0,
      synAckWithoutSynExamples: [],
      oneSidedFlows: 0,
      truncatedFiles: [],
      undecodablePackets: 0,
      completed: 10,
    },
    context: s.context === undefined ? null : s.context,
    macsByAddress: s.macs === undefined ? undefined : new Map(Object.entries(s.macs)),
  };
}

/** Incident 001: 192.168.0.0/24 routed via eth0 and docker0; `bridgeFirst` makes docker0's route win. */
function incident001(bridgeFirst: boolean): HostContext {
  const uplink = route('192.168.0.0/24 dev eth0 proto kernel scope link src 192.168.0.10');
  const bridge = route('192.168.0.0/24 dev docker0 proto kernel scope link src 192.168.0.1');
  return makeContext({
    interfaces: [iface('lo', 'loopback', ['127.0.0.1/8']), iface('eth0', 'physical', ['192.168.0.10/24']), iface('docker0', 'bridge', ['192.168.0.1/24'])],
    routes: [route('default via 192.168.0.253 dev eth0'), ...(bridgeFirst ? [bridge, uplink] : [uplink, bridge]), route('172.22.0.0/16 dev br-1a2b3c4d5e6f')],
    dockerNetworks: [
      { id: 'a', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['192.168.0.0/24'], gateways: ['192.168.0.1'], bridge: 'docker0', ingress: false, internal: false },
      { id: 'b', name: 'portainer_default', driver: 'bridge', scope: 'local', subnets: ['172.22.0.0/16'], gateways: ['172.22.0.1'], bridge: 'br-1a2b3c4d5e6f', ingress: false, internal: false },
    ],
  });
}

/** Two uplinks: eth0 (default route) and eth1; replies to outside clients always leave by eth0. */
function twoUplinks(parts: Partial<HostContext> = {}): HostContext {
  return makeContext({
    interfaces: [iface('eth0', 'physical', ['10.0.0.5/24']), iface('eth1', 'physical', ['10.1.0.5/24'])],
    routes: [route('default via 10.0.0.1 dev eth0'), route('10.0.0.0/24 dev eth0'), route('10.1.0.0/24 dev eth1'), route('local 10.0.0.5 dev eth0 table local'), route('local 10.1.0.5 dev eth1 table local')],
    ...parts,
  });
}

function codes(findings: Finding[]): string[] {
  return findings.map((f) => f.code);
}

// route-conflict

test('route-conflict: the double route of incident 001 is a warning from the context alone', () => {
  const findings = routeConflictRule(makeInput({ context: incident001(false) }));
  assert.equal(findings.length, 1);
  const f = findings[0]!;
  assert.equal(f.code, 'route-conflict');
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.flows, []);
  assert.equal(f.evidence.prefix, '192.168.0.0/24');
  assert.deepEqual(f.evidence.routes, ['192.168.0.0/24 dev eth0', '192.168.0.0/24 dev docker0']);
  assert.equal(f.evidence.winner, '192.168.0.0/24 dev eth0');
});

test('route-conflict: incident 001 double route with affected clients is an error; remedy moves docker0 to a free bip', () => {
  const input = makeInput({
    context: incident001(true),
    failed: [
      { id: 'f1', client: '192.168.0.50', server: '192.168.0.10', on: ['eth0'] },
      { id: 'f2', client: '192.168.0.51', server: '192.168.0.10', on: ['eth0'], outcome: 'synAckLost' },
      { id: 'f3', client: '203.0.113.9', server: '192.168.0.10', on: ['eth0'] },
    ],
  });
  const [f, ...rest] = routeConflictRule(input);
  assert.equal(rest.length, 0, 'the outside client is not affected: its reply leaves by eth0');
  assert.equal(f!.severity, 'error');
  assert.equal(f!.confidence, 'high');
  assert.deepEqual(f!.flows, ['f1', 'f2']);
  assert.deepEqual(f!.evidence.clients, ['192.168.0.50', '192.168.0.51']);
  const bip = /"bip": "([\d.]+)\/(\d+)"/.exec(f!.remedy.join('\n'));
  assert.ok(bip, f!.remedy.join('\n'));
  const proposed = parseSubnet(`${bip[1]}/${bip[2]}`)!;
  for (const used of ['192.168.0.0/24', '172.22.0.0/16']) assert.ok(!subnetsOverlap(proposed, parseSubnet(used)!), `${proposed.text} overlaps ${used}`);
  assert.ok(f!.remedy.some((r) => r.includes('ip route del 192.168.0.0/24 dev docker0')));
});

test('route-conflict: a bridge route inside a wider uplink route is a conflict', () => {
  const ctx = makeContext({
    interfaces: [iface('eth0', 'physical', ['10.0.0.5/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('default via 10.0.0.1 dev eth0'), route('172.16.0.0/12 via 10.0.0.254 dev eth0'), route('172.17.0.0/16 dev docker0')],
  });
  const findings = routeConflictRule(makeInput({ context: ctx, failed: [{ id: 'f1', client: '172.17.5.5', server: '10.0.0.5', on: ['eth0'] }] }));
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.evidence.prefix, '172.17.0.0/16');
  assert.equal(findings[0]!.severity, 'error');
  assert.deepEqual(findings[0]!.flows, ['f1']);
});

test('route-conflict: no double route for a bridge beside the default route, link-local v6 or ECMP', () => {
  const ctx = makeContext({
    interfaces: [iface('eth0', 'physical', ['10.0.0.5/24']), iface('eth1', 'physical', ['10.1.0.5/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [
      route('default via 10.0.0.1 dev eth0'),
      route('172.17.0.0/16 dev docker0'),
      route('fe80::/64 dev eth0 metric 256'),
      route('fe80::/64 dev docker0 metric 256'),
      route('198.51.100.0/24 via 10.0.0.1 dev eth0'),
      route('198.51.100.0/24 via 10.1.0.1 dev eth1'),
    ],
  });
  assert.deepEqual(routeConflictRule(makeInput({ context: ctx })), []);
});

test('route-conflict: replies leave by another interface than the SYN came in on', () => {
  const input = makeInput({
    context: twoUplinks(),
    failed: [
      { id: 'f1', client: '198.51.100.7', server: '10.1.0.5', on: ['eth1'] },
      { id: 'f2', client: '198.51.100.8', server: '10.0.0.5', on: ['eth0'] },
      { id: 'f3', client: '198.51.100.9', server: '10.1.0.5', on: ['capture.pcap'] },
    ],
  });
  const findings = routeConflictRule(input);
  assert.equal(findings.length, 1);
  const f = findings[0]!;
  assert.equal(f.severity, 'error');
  assert.deepEqual(f.flows, ['f1'], 'f2 comes and goes by eth0; f3 names no interface of the host');
  assert.equal(f.evidence.synInterface, 'eth1');
  assert.equal(f.evidence.replyDevice, 'eth0');
});

test('route-conflict: a SYN forwarded into docker0 (DNAT) is not an ingress on docker0', () => {
  const ctx = makeContext({
    interfaces: [iface('eth0', 'physical', ['10.0.0.5/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('default via 10.0.0.1 dev eth0'), route('10.0.0.0/24 dev eth0'), route('172.17.0.0/16 dev docker0')],
  });
  const input = makeInput({ context: ctx, failed: [{ id: 'f1', client: '198.51.100.7', server: '172.17.0.2', on: ['docker0'] }] });
  assert.deepEqual(routeConflictRule(input), []);
});

test('route-conflict: nothing without a context', () => {
  assert.deepEqual(routeConflictRule(makeInput({ failed: [{ id: 'f1', client: '198.51.100.7', server: '10.1.0.5', on: ['eth1'] }] })), []);
});

// rp_filter

const asymmetric = [{ id: 'f1', client: '198.51.100.7', server: '10.1.0.5', on: ['eth1'] }];

test('rp_filter: strict mode on the SYN interface with an asymmetric reply route explains the silence', () => {
  const ctx = twoUplinks({
    sysctls: { 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.eth1.rp_filter': '1' },
    counters: { 'TcpExt.IPReversePathFilter': 12 },
  });
  const findings = rpFilterRule(makeInput({ context: ctx, failed: asymmetric }));
  assert.equal(findings.length, 1);
  const f = findings[0]!;
  assert.equal(f.code, 'filtered');
  assert.match(f.title, /Reverse-path filter on eth1/);
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.flows, ['f1']);
  assert.deepEqual(f.evidence.rpFilter, { all: '0', eth1: '1', default: null, effective: 1 });
  assert.equal(f.evidence.ipReversePathFilter, 12);
  assert.ok(f.remedy[0]!.includes('sysctl -w net.ipv4.conf.eth1.rp_filter=2'));
});

test('rp_filter: "all" = 1 makes every interface strict', () => {
  const ctx = twoUplinks({ sysctls: { 'net.ipv4.conf.all.rp_filter': '1', 'net.ipv4.conf.eth1.rp_filter': '0' } });
  const [f] = rpFilterRule(makeInput({ context: ctx, failed: asymmetric }));
  assert.equal(f!.confidence, 'medium', 'no counter in the snapshot');
});

test('rp_filter: loose mode (2) does not fire when a route back exists', () => {
  const ctx = twoUplinks({ sysctls: { 'net.ipv4.conf.all.rp_filter': '1', 'net.ipv4.conf.eth1.rp_filter': '2' } });
  assert.deepEqual(rpFilterRule(makeInput({ context: ctx, failed: asymmetric })), []);
});

test('rp_filter: strict mode with a symmetric route, or an answered SYN, does not fire', () => {
  const ctx = twoUplinks({ sysctls: { 'net.ipv4.conf.all.rp_filter': '1' } });
  assert.deepEqual(rpFilterRule(makeInput({ context: ctx, failed: [{ id: 'f1', client: '198.51.100.7', server: '10.0.0.5', on: ['eth0'] }] })), []);
  assert.deepEqual(rpFilterRule(makeInput({ context: ctx, failed: [{ ...asymmetric[0]!, outcome: 'synAckLost' }] })), []);
});

// address-collision

function dockerHost(): HostContext {
  return makeContext({
    interfaces: [iface('eth0', 'physical', ['10.0.0.5/24']), iface('docker0', 'bridge', ['172.17.0.1/16']), iface('veth1', 'veth', [], 'docker0')],
    routes: [route('default via 10.0.0.1 dev eth0'), route('10.0.0.0/24 dev eth0'), route('172.17.0.0/16 dev docker0')],
  });
}

test('address-collision: a bridge-private source arriving on the uplink', () => {
  const input = makeInput({ context: dockerHost(), failed: [{ id: 'f1', client: '172.17.0.9', server: '10.0.0.5', port: 6379, on: ['eth0'] }] });
  const findings = addressCollisionRule(input);
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.code, 'address-collision');
  assert.deepEqual(findings[0]!.flows, ['f1']);
  assert.equal(findings[0]!.evidence.owner, 'docker0');
  assert.equal(findings[0]!.evidence.replyDevice, 'docker0');
});

test('address-collision: a container talking to the host over docker0 or a bridge port is not a leak', () => {
  const ctx = dockerHost();
  assert.deepEqual(addressCollisionRule(makeInput({ context: ctx, failed: [{ id: 'f1', client: '172.17.0.9', server: '172.17.0.1', on: ['docker0'] }] })), []);
  assert.deepEqual(addressCollisionRule(makeInput({ context: ctx, failed: [{ id: 'f1', client: '172.17.0.9', server: '172.17.0.1', on: ['veth1'] }] })), []);
  assert.deepEqual(addressCollisionRule(makeInput({ context: ctx, failed: [{ id: 'f1', client: '198.51.100.7', server: '10.0.0.5', on: ['eth0'] }] })), []);
});

test('address-collision: one bridge-private address with two MACs on one link', () => {
  const input = makeInput({
    failed: [{ id: 'f1', client: '10.0.0.7', server: '172.17.0.9', port: 6379, on: ['docker0'] }],
    macs: {
      '172.17.0.9': [
        { mac: '02:42:ac:11:00:09', interface: 'docker0', packets: 40 },
        { mac: '02:42:0a:00:00:01', interface: 'docker0', packets: 3 },
      ],
    },
  });
  const findings = addressCollisionRule(input);
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.severity, 'error');
  assert.deepEqual(findings[0]!.flows, ['f1']);
  assert.equal(findings[0]!.evidence.address, '172.17.0.9');
});

test('address-collision: several MACs for a remote address behind routers, or one MAC per link, do not fire', () => {
  const input = makeInput({
    macs: {
      '203.0.113.5': [
        { mac: '00:00:5e:00:01:01', interface: 'eth0', packets: 10 },
        { mac: '00:00:5e:00:01:02', interface: 'eth0', packets: 10 },
      ],
      '172.17.0.9': [
        { mac: '02:42:ac:11:00:09', interface: 'docker0', packets: 40 },
        { mac: '52:54:00:12:34:56', interface: 'eth0', packets: 3 },
      ],
    },
  });
  assert.deepEqual(addressCollisionRule(input), []);
});

// listen-overflow

const service = '10.0.0.5';
const completed = new Map([[`${service}:8080`, 20]]);
const overflowing: InputSpec = {
  failed: [
    { id: 'f1', client: '198.51.100.1', server: service, port: 8080, at: 1000 },
    { id: 'f2', client: '198.51.100.2', server: service, port: 8080, at: 1000.2 },
    { id: 'f3', client: '198.51.100.3', server: service, port: 8080, at: 1000.4 },
  ],
  late: [
    { id: 'f4', client: '198.51.100.4', server: service, port: 8080, syns: 2, answeredAfter: 1.02, at: 1000.1 },
    { id: 'f5', client: '198.51.100.5', server: service, port: 8080, syns: 3, answeredAfter: 3.01, at: 1000.3 },
  ],
};

test('listen-overflow: unanswered bursts to a service that answers others, with late-answered retransmits', () => {
  const [f, ...rest] = listenOverflowRule(makeInput(overflowing), completed);
  assert.equal(rest.length, 0);
  assert.equal(f!.code, 'listen-overflow');
  assert.equal(f!.confidence, 'medium', 'no counters');
  assert.deepEqual(f!.flows, ['f1', 'f2', 'f3']);
  assert.deepEqual(f!.evidence.lateAnswerDelaysSeconds, [1.02, 3.01]);
  assert.equal(f!.evidence.peakAttemptsPerSecond, 5);
  assert.ok(f!.remedy.some((r) => r.includes('net.core.somaxconn') && r.includes('tcp_max_syn_backlog')));
});

test('listen-overflow: ListenOverflows / ListenDrops raise the confidence; zero counters lower it', () => {
  const up = makeContext({ counters: { 'TcpExt.ListenOverflows': 57, 'TcpExt.ListenDrops': 57 } });
  assert.equal(listenOverflowRule(makeInput({ ...overflowing, context: up }), completed)[0]!.confidence, 'high');
  const zero = makeContext({ counters: { 'TcpExt.ListenOverflows': 0, 'TcpExt.ListenDrops': 0 } });
  assert.equal(listenOverflowRule(makeInput({ ...overflowing, context: zero }), completed)[0]!.confidence, 'low');
});

test('listen-overflow: a service answering everyone, one answering nobody, or no late answers do not fire', () => {
  assert.deepEqual(listenOverflowRule(makeInput({ late: [] }), completed), [], 'answers everyone promptly');
  assert.deepEqual(listenOverflowRule(makeInput({ ...overflowing, late: [] }), completed), [], 'no late answers, no counters');
  assert.deepEqual(listenOverflowRule(makeInput(overflowing), new Map()), [], 'answers nobody: that is filtered');
  const prompt = { ...overflowing, late: overflowing.late!.map((l) => ({ ...l, answeredAfter: 0.2 })) };
  assert.deepEqual(listenOverflowRule(makeInput(prompt), completed), [], 'answered retransmits that were not late');
});

// diagnose(): filtered takes only what nothing explained

test('diagnose: filtered does not also claim flows the specific rules explain', () => {
  const ctx = twoUplinks({
    sysctls: { 'net.ipv4.conf.all.rp_filter': '1' },
    counters: { 'TcpExt.ListenOverflows': 9 },
  });
  const input = makeInput({
    context: ctx,
    failed: [
      ...asymmetric,
      { id: 'f10', client: '198.51.100.1', server: '10.0.0.5', port: 8080, on: ['eth0'] },
      { id: 'f20', client: '198.51.100.2', server: '10.0.0.5', port: 22, on: ['eth0'] },
    ],
    late: [{ id: 'f11', client: '198.51.100.4', server: '10.0.0.5', port: 8080, syns: 2, answeredAfter: 1.0, on: ['eth0'] }],
  });
  const findings = diagnose(input, new Map([['10.0.0.5:8080', 5]]));
  // f1's SYN was dropped by rp_filter, so no reply was misrouted: route-conflict stands down for it.
  assert.deepEqual(codes(findings).sort(), ['filtered', 'filtered', 'listen-overflow']);
  const generic = findings.filter((f) => f.code === 'filtered' && !f.title.startsWith('Reverse-path'));
  assert.equal(generic.length, 1);
  assert.deepEqual(generic[0]!.flows, ['f20'], 'only the flow nothing else explains');
  assert.deepEqual(findings.find((f) => f.code === 'listen-overflow')!.flows, ['f10']);
  assert.deepEqual(findings.find((f) => f.code === 'filtered' && f.title.startsWith('Reverse-path'))!.flows, ['f1']);
});

test('rejected: who refused and how, per kind of ICMP answer', () => {
  const refused = (icmpType: number, icmpCode: number, from: string) => {
    const input = makeInput({ failed: [{ id: 'f1', client: '192.0.2.20', server: '10.1.0.5', outcome: 'rejected' }] });
    (input.failedFlows[0] as { rejection: Flow['rejection'] }).rejection = { by: 'icmp', from, icmpType, icmpCode };
    const found = rejectedRule(input);
    assert.equal(found.length, 1);
    return found[0]!;
  };
  const admin = refused(3, 13, '10.1.0.5');
  assert.match(admin.explanation, /firewall rule rejects/);
  assert.ok(admin.remedy.some((r) => r.includes('REJECT')));
  const loop = refused(11, 0, '198.51.100.1');
  assert.match(loop.evidence['how'] as string, /time exceeded/);
  assert.ok(loop.remedy.some((r) => r.includes('routing loop')), loop.remedy.join('\n'));
  const noRoute = refused(3, 1, '198.51.100.1');
  assert.match(noRoute.explanation, /a router \(198\.51\.100\.1\)/);
  assert.ok(noRoute.remedy.some((r) => r.includes('no route')));
});

// One failure, one ERROR (issue 10): the overlap owns its clients; the other rules stand down.

/** docker0 on 172.17.0.0/16 beside eth0, and the host's own addresses. */
function publishingHost(natRules: string | null = null): HostContext {
  return makeContext({
    interfaces: [iface('lo', 'loopback', ['127.0.0.1/8']), iface('eth0', 'physical', ['192.0.2.1/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('default via 192.0.2.254 dev eth0'), route('192.0.2.0/24 dev eth0'), route('172.17.0.0/16 dev docker0'), route('local 192.0.2.1 dev eth0 table local'), route('local 172.17.0.1 dev docker0 table local')],
    dockerNetworks: [
      {
        id: 'a', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['172.17.0.0/16'], gateways: ['172.17.0.1'], bridge: 'docker0', ingress: false, internal: false,
        endpoints: [{ name: 'web-1', addresses: ['172.17.0.2'] }],
      },
    ],
    natRules: { iptables: natRules, nft: null },
  });
}

const PUBLISHED_8080 = ['*nat', ':PREROUTING ACCEPT [0:0]', ':DOCKER - [0:0]', '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
  '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80', 'COMMIT', ''].join('\n');

function withBridges(input: DiagnosisInput): DiagnosisInput {
  return { ...input, bridges: [{ name: 'docker0', subnet: parseSubnet('172.17.0.0/16')!, source: 'context' }] };
}

test('a client inside docker0 hitting a -p port gets one ERROR: the overlap, naming the container that answers, and no route-conflict', () => {
  const input = withBridges(makeInput({ failed: [{ id: 'f1', client: '172.17.0.50', server: '192.0.2.1', port: 8080, on: ['eth0'] }], context: publishingHost(PUBLISHED_8080) }));
  const findings = diagnose(input, new Map([['192.0.2.1:8080', 2]]));
  assert.deepEqual(codes(findings.filter((f) => f.severity === 'error')), ['bridge-subnet-overlap']);
  const overlap = findings[0]!;
  assert.equal(overlap.evidence['repliesFrom'], '172.17.0.2');
  assert.equal(overlap.evidence['repliesFromName'], 'web-1');
  assert.match(overlap.explanation, /DNATed to web-1 \(172\.17\.0\.2\)/);
  // Without the bridge overlap rule's help the host's reply route is still not blamed: the container answers.
  assert.deepEqual(routeConflictRule(input), []);
});

test('a DROP on one port is no overlap when the same client is answered or refused by that server', () => {
  const dropped = { id: 'f1', client: '172.17.0.3', server: '192.0.2.1', port: 9000 };
  const base = withBridges(makeInput({ failed: [dropped], context: publishingHost() }));
  assert.deepEqual(codes(diagnose(base, new Map())).filter((c) => c === 'bridge-subnet-overlap'), ['bridge-subnet-overlap'], 'alone, the client looks misrouted');
  const answered: DiagnosisInput = {
    ...base,
    peerSyns: [{ ipVersion: 4, client: '172.17.0.3', server: '192.0.2.1', flow: [2], firstSynAt: [1], tsVal: [-1], syns: [1], answeredAt: [1.001], lastSeen: [2], serverClosed: [0], notRecorded: 0 }],
  };
  assert.ok(!codes(diagnose(answered, new Map())).includes('bridge-subnet-overlap'), 'the server did answer this client');
  const arpAnswered: DiagnosisInput = { ...base, arpRequests: new Map([['172.17.0.3', { target: '172.17.0.3', requests: 1, replies: 1, interfaces: ['docker0'], askers: ['172.17.0.1'] }]]) };
  assert.ok(!codes(diagnose(arpAnswered, new Map())).includes('bridge-subnet-overlap'), 'the client answers ARP on docker0: it is there');
});

test('a hop that saw no packet at all (every client failing) is still one the SYNs never reached when its capture span covers them', () => {
  const input = makeInput({ failed: [{ id: 'f1', client: '198.51.100.7', server: '192.0.2.1', port: 8080, on: ['eth0'] }], context: publishingHost(PUBLISHED_8080) });
  assert.deepEqual(natPathBreakRule(input, new Set()), [], 'docker0 not known to be captured: no hop the SYN could have missed');
  const [f] = natPathBreakRule({ ...input, tcpCaptureSpans: [{ interface: 'docker0', from: 1_699_999_990, to: 1_700_000_100 }] }, new Set());
  assert.deepEqual([f?.code, f?.evidence['seenAt'], f?.evidence['missingAt']], ['nat-path-break', 'eth0', 'docker0']);
  const before = { interface: 'docker0', from: 1_699_999_000, to: 1_699_999_999 };
  assert.deepEqual(natPathBreakRule({ ...input, tcpCaptureSpans: [before] }, new Set()), [], 'captured only before the attempt: not a hop it missed');
  // Two attempts of one client, only the first while docker0 was captured: the path found for it is not the second's.
  const two = makeInput({
    failed: [
      { id: 'f1', client: '198.51.100.7', server: '192.0.2.1', port: 8080, on: ['eth0'] },
      { id: 'f2', client: '198.51.100.7', server: '192.0.2.1', port: 8080, on: ['eth0'], at: 1_700_000_500 },
    ],
    context: publishingHost(PUBLISHED_8080),
  });
  const found = natPathBreakRule({ ...two, tcpCaptureSpans: [{ interface: 'docker0', from: 1_699_999_990, to: 1_700_000_100 }] }, new Set());
  assert.deepEqual(found.flatMap((f) => f.flows), ['f1']);
});

test('a silent client on the host\'s own LAN that answers ARP there is a neighbour, not an overlap of the uplink\'s subnet', () => {
  const arp = (replies: number) => new Map([['192.0.2.20', { target: '192.0.2.20', requests: 1, replies, interfaces: ['eth0'], askers: ['192.0.2.1'] }]]);
  const client = { mac: '02:00:00:00:00:14', interface: 'eth0', packets: 3 };
  const base = makeInput({ failed: [{ id: 'f1', client: '192.0.2.20', server: '192.0.2.1', port: 8080, on: ['eth0'] }], context: publishingHost(PUBLISHED_8080), macs: { '192.0.2.20': [client] } });
  const overlaps = (i: DiagnosisInput) => codes(diagnose(i, new Map())).filter((c) => c === 'bridge-subnet-overlap');
  assert.deepEqual(overlaps({ ...base, arpRequests: arp(0) }), ['bridge-subnet-overlap'], 'asked for and never answering: the namespace takes it for a neighbour that is not there');
  assert.deepEqual(overlaps({ ...base, arpRequests: arp(1) }), [], 'it answered, from the MAC its SYNs came from: it is on the link, and its silence has another cause');
  // ingress_sbox's eth1: the SYN comes through the gateway's MAC, and a container's leg holding the client's address answers the ARP.
  const twice = new Map([['192.0.2.20', [client, { mac: '02:42:ac:12:00:03', interface: 'eth0', packets: 1 }]]]);
  assert.deepEqual(overlaps({ ...base, arpRequests: arp(1), macsByAddress: twice }), ['bridge-subnet-overlap'], 'another host answering for the address is the overlap itself');
});

test('a DNATed reply forwarded out of the wrong uplink is a route-conflict that names the container and its bridge', () => {
  const ctx = publishingHost(PUBLISHED_8080);
  ctx.interfaces.push(iface('eth1', 'physical', ['10.9.0.5/24']));
  ctx.routes.push(route('198.51.100.0/24 via 10.9.0.1 dev eth1'));
  const input = withBridges(makeInput({ failed: [{ id: 'f1', client: '198.51.100.7', server: '192.0.2.1', port: 8080, on: ['eth0'] }], context: ctx }));
  const [f] = routeConflictRule(input);
  assert.ok(f);
  assert.equal(f.evidence['replyDevice'], 'eth1');
  assert.equal(f.evidence['answeredFrom'], '172.17.0.2 (web-1)');
  assert.match(f.remedy[0]!, /ip route get 198\.51\.100\.7 from 172\.17\.0\.2 iif docker0/);
});

test('an inner hop of an attempt the overlap explains gets no syn-ack-lost of its own (ingress_sbox\'s SNATed leg)', () => {
  const input = withBridges(makeInput({
    failed: [
      { id: 'f1', client: '172.17.0.50', server: '192.0.2.1', port: 8080, on: ['eth0'] },
      { id: 'f2', client: '10.0.0.2', server: '10.0.0.7', port: 80, on: ['eth0@ingress_sbox'], outcome: 'synAckLost' },
    ],
    context: publishingHost(PUBLISHED_8080),
  }));
  const stitched: DiagnosisInput = {
    ...input,
    attempts: [{
      id: 'f1', outcome: 'unanswered', flows: ['f1', 'f2'], reached: { syn: 'eth0@ingress_sbox', synAck: 'eth0@ingress_sbox' },
      hops: [
        { flow: 'f1', interface: 'eth0', client: '172.17.0.50:40001', server: '192.0.2.1:8080', translation: 'none', synAcks: 0 },
        { flow: 'f2', interface: 'eth0@ingress_sbox', client: '10.0.0.2:40002', server: '10.0.0.7:80', translation: 'dnat+snat', synAcks: 1 },
      ],
    }],
  };
  assert.ok(codes(diagnose(input, new Map())).includes('syn-ack-lost'), 'unstitched, the inner hop looks like a lost reply');
  const found = diagnose(stitched, new Map());
  assert.ok(!codes(found).includes('syn-ack-lost'), codes(found).join());
  assert.deepEqual(codes(found.filter((f) => f.severity === 'error')), ['bridge-subnet-overlap']);
});

test('incident 001 with the uplink\'s route winning: the DNAT target is routed out of eth0, one overlap ERROR for every client, no filtered', () => {
  // eth0 192.168.0.10/24 came up before Docker: its 192.168.0.0/24 route is the one the table uses,
  // so the container 192.168.0.2 that the published port DNATs to is looked for on eth0.
  const ctx = makeContext({
    interfaces: [iface('lo', 'loopback', ['127.0.0.1/8']), iface('eth0', 'physical', ['192.168.0.10/24']), iface('docker0', 'bridge', ['192.168.0.1/24'])],
    routes: [route('192.168.0.0/24 dev eth0'), route('192.168.0.0/24 dev docker0'), route('203.0.113.0/24 dev eth0'), route('local 192.168.0.10 dev eth0 table local')],
    dockerNetworks: [{ id: 'a', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['192.168.0.0/24'], gateways: ['192.168.0.1'], bridge: 'docker0', ingress: false, internal: false, endpoints: [{ name: 'web', addresses: ['192.168.0.2'] }] }],
    natRules: { iptables: PUBLISHED_8080.replace('172.17.0.2:80', '192.168.0.2:80'), nft: null },
  });
  const input: DiagnosisInput = {
    ...makeInput({ failed: [{ id: 'f1', client: '203.0.113.20', server: '192.168.0.10', port: 8080 }, { id: 'f2', client: '192.168.0.50', server: '192.168.0.10', port: 8080 }], context: ctx }),
    bridges: [{ name: 'docker0', subnet: parseSubnet('192.168.0.0/24')!, source: 'context' }],
  };
  const findings = diagnose(input, new Map());
  assert.deepEqual(codes(findings.filter((f) => f.severity === 'error')), ['bridge-subnet-overlap']);
  const f = findings[0]!;
  assert.deepEqual(f.evidence['clients'], ['203.0.113.20', '192.168.0.50']);
  assert.equal(f.evidence['dnatTarget'], '192.168.0.2');
  assert.equal(f.evidence['dnatTargetRoutedVia'], 'eth0');
  assert.match(f.explanation, /routes 192\.168\.0\.2 out of eth0/);
  // The double route is the overlap's evidence, not a finding of its own; nothing is left for filtered.
  assert.equal((f.evidence['doubleRoute'] as { winner: string }).winner, '192.168.0.0/24 dev eth0');
  assert.deepEqual(codes(findings), ['bridge-subnet-overlap']);
});

test('with the answering namespace\'s own snapshot (--netns-context), its routes decide where the DNATed reply goes', () => {
  const container = makeContext({
    namespace: 'web-1',
    interfaces: [iface('eth0', 'veth', ['172.17.0.2/16']), iface('eth1', 'veth', ['198.51.100.2/24'])],
    routes: [route('default via 172.17.0.1 dev eth0'), route('172.17.0.0/16 dev eth0'), route('198.51.100.0/24 dev eth1')],
  });
  // A client inside docker0's subnet: the overlap quotes the container's own on-link route.
  const inside = { ...withBridges(makeInput({ failed: [{ id: 'f1', client: '172.17.0.50', server: '192.0.2.1', port: 8080 }], context: publishingHost(PUBLISHED_8080) })), namespaceContexts: [container] };
  const [overlap] = diagnose(inside, new Map());
  assert.equal(overlap!.evidence['repliesFromRoute'], '172.17.0.0/16 dev eth0 (web-1)');
  // A client the host would route out of eth1: without the container's snapshot the forwarded reply is a
  // route-conflict; with it, the container answers on its own eth1 link and the host's routes are not involved.
  const ctx = publishingHost(PUBLISHED_8080);
  ctx.interfaces.push(iface('eth1', 'physical', ['10.9.0.5/24']));
  ctx.routes.push(route('198.51.100.0/24 via 10.9.0.1 dev eth1'));
  const away = withBridges(makeInput({ failed: [{ id: 'f1', client: '198.51.100.7', server: '192.0.2.1', port: 8080 }], context: ctx }));
  assert.equal(routeConflictRule(away).length, 1);
  assert.deepEqual(routeConflictRule({ ...away, namespaceContexts: [container] }), []);
});
