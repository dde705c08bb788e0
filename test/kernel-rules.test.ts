/**
 * Kernel evidence of the capture's window (counter deltas, kfree_skb drop reasons,
 * tcp_retransmit_synack) in the findings: named counter, delta and namespace; drops
 * matched to SYNs by time only; SYN-ACK retransmissions by addresses and ports. Without
 * kernel evidence every finding stays as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeFlag } from '../src/context/bridge';
import type { HostContext } from '../src/context/host-context';
import { diagnose } from '../src/diagnose/diagnose';
import type { Finding } from '../src/diagnose/finding';
import type { DiagnosisInput, PeerSyns } from '../src/diagnose/input';
import { bridgeSubnetOverlapRule } from '../src/diagnose/rules/bridge-subnet-overlap';
import { listenOverflowRule } from '../src/diagnose/rules/listen-overflow';
import { pawsTimestampRejectRule } from '../src/diagnose/rules/paws-timestamp-reject';
import { rpFilterRule } from '../src/diagnose/rules/rp-filter';
import { synAckLostRule } from '../src/diagnose/rules/syn-ack-lost';
import type { DropEvent, KernelEvent, KernelEvidence, SynAckRetransmitEvent } from '../src/evidence/kernel-evidence';
import type { AttemptOutcome, Flow } from '../src/flow/flow';
import { iface, makeContext, route } from './context-fixtures';

const T0 = 1_700_000_000;

interface FlowSpec {
  id: string;
  client?: string;
  server?: string;
  port?: number;
  outcome?: AttemptOutcome;
  on?: string;
  /** Seconds after T0 of the first SYN. */
  at?: number;
  syns?: number;
  /** Seconds from the first SYN to the last packet. */
  lasts?: number;
  answeredAfter?: number;
}

function flow(s: FlowSpec): Flow {
  const at = T0 + (s.at ?? 0);
  const outcome = s.outcome ?? 'unanswered';
  const answered = s.answeredAfter !== undefined ? at + s.answeredAfter : outcome === 'completed' ? at + 0.001 : null;
  return {
    id: s.id,
    ipVersion: 4,
    clientIp: s.client ?? '198.51.100.7',
    clientPort: 40000 + Number(s.id.slice(1)),
    serverIp: s.server ?? '10.0.0.5',
    serverPort: s.port ?? 80,
    state: outcome === 'completed' ? 'SF' : 'S0',
    history: outcome === 'completed' ? 'ShAD' : 'S',
    syns: s.syns ?? (outcome === 'unanswered' ? 3 : 1),
    synAcks: outcome === 'synAckLost' || answered !== null ? 1 : 0,
    origPackets: s.syns ?? 3,
    respPackets: answered !== null ? 1 : 0,
    firstSeen: at,
    lastSeen: at + (s.lasts ?? 3),
    firstSynAt: at,
    firstSynAckAt: answered,
    isn: 1,
    synOptions: null,
    synIpId: null,
    synTtl: null,
    interfaces: [s.on === 'eth1' ? 1 : 0],
    outcome,
    rejection: null,
  };
}

function makeInput(failed: FlowSpec[], parts: Partial<DiagnosisInput> = {}): DiagnosisInput {
  return {
    failedFlows: failed.map(flow),
    interfaceNames: ['eth0', 'eth1'],
    bridges: [],
    arpRequests: new Map(),
    seenAddresses: new Set(),
    capture: { droppedByCapture: 0, synAckWithoutSyn: 0, synAckWithoutSynExamples: [], oneSidedFlows: 0, truncatedFiles: [], undecodablePackets: 0, completed: 10 },
    context: null,
    ...parts,
  };
}

function kernel(parts: Partial<KernelEvidence>): KernelEvidence {
  return { counters: [], events: [], unavailable: [], ...parts };
}

function drop(at: number, reason: string, location: string | null = null): DropEvent {
  return { kind: 'drop', at: T0 + at, reason, protocol: 0x0800, location };
}

function synAck(at: number, f: Pick<Flow, 'serverIp' | 'serverPort' | 'clientIp' | 'clientPort'>): SynAckRetransmitEvent {
  return { kind: 'synack-retransmit', at: T0 + at, serverAddress: f.serverIp, serverPort: f.serverPort, clientAddress: f.clientIp, clientPort: f.clientPort };
}

function only(findings: Finding[], code: string): Finding {
  const matching = findings.filter((f) => f.code === code);
  assert.equal(matching.length, 1, `one ${code} finding in ${JSON.stringify(findings.map((f) => f.code))}`);
  return matching[0]!;
}

// listen-overflow

const burst: FlowSpec[] = [{ id: 'f1' }, { id: 'f2', at: 0.01 }, { id: 'f3', at: 0.02 }];
const answeredOthers = new Map([['10.0.0.5:80', 40]]);

test('listen-overflow: ListenOverflows rising during the capture is enough, names counter, delta and namespace, and is high', () => {
  assert.deepEqual(listenOverflowRule(makeInput(burst), answeredOthers), [], 'without late answers or counters nothing fires');
  const k = kernel({
    counters: [
      { namespace: 'host', seconds: 12, deltas: { 'Tcp.OutRsts': 4 } },
      { namespace: 'web-1', seconds: 12, deltas: { 'TcpExt.ListenOverflows': 15, 'TcpExt.ListenDrops': 15 } },
    ],
  });
  const f = only(listenOverflowRule(makeInput(burst, { kernel: k }), answeredOthers), 'listen-overflow');
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.evidence['kernelCounters'], [
    { counter: 'TcpExt.ListenOverflows', namespace: 'web-1', delta: 15, seconds: 12 },
    { counter: 'TcpExt.ListenDrops', namespace: 'web-1', delta: 15, seconds: 12 },
  ]);
  assert.equal(f.evidence['kernelListenOverflowDrops'], 0);
  assert.match(f.explanation, /TcpExt\.ListenOverflows \+15 in web-1/);
});

test('listen-overflow: TCP_LISTEN_OVERFLOW drops count; counters read and unchanged lower a late-answer finding to low', () => {
  const late: FlowSpec[] = [{ id: 'f9', outcome: 'completed', syns: 2, answeredAfter: 1.02 }];
  const base = makeInput(burst, { lateAnsweredFlows: late.map(flow) });
  assert.equal(only(listenOverflowRule(base, answeredOthers), 'listen-overflow').confidence, 'medium');

  const drops = kernel({ events: [drop(0.5, 'TCP_LISTEN_OVERFLOW', 'tcp_check_req+0x1/0x2')] });
  const withDrops = only(listenOverflowRule({ ...base, kernel: drops }, answeredOthers), 'listen-overflow');
  assert.equal(withDrops.confidence, 'high');
  assert.equal(withDrops.evidence['kernelListenOverflowDrops'], 1);

  const quiet = kernel({ counters: [{ namespace: 'web-1', seconds: 12, deltas: { 'Tcp.OutRsts': 2 } }] });
  const f = only(listenOverflowRule({ ...base, kernel: quiet }, answeredOthers), 'listen-overflow');
  assert.equal(f.confidence, 'low');
  assert.match(f.explanation, /did not rise in web-1/);
});

test('listen-overflow: a listener at an address the snapshot\'s namespace does not own (behind DNAT) is not judged by the counters read here', () => {
  const late: FlowSpec[] = [{ id: 'f9', outcome: 'completed', syns: 2, answeredAfter: 1.02 }];
  const quiet = kernel({ counters: [{ namespace: 'host', seconds: 12, deltas: { 'Tcp.OutRsts': 2 } }] });
  const host = (endpoint: string) =>
    makeContext({
      interfaces: [iface('eth1', 'physical', ['10.1.0.5/24']), iface('docker0', 'bridge', ['10.0.0.1/24'])],
      sysctls: { 'net.core.somaxconn': '4096' },
      dockerNetworks: [{ id: 'n', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['10.0.0.0/24'], gateways: [], bridge: 'docker0', ingress: false, internal: false, endpoints: [{ name: endpoint, addresses: ['10.0.0.5'] }] }],
    });
  const f = only(listenOverflowRule(makeInput(burst, { lateAnsweredFlows: late.map(flow), kernel: quiet, context: host('web-1') }), answeredOthers), 'listen-overflow');
  assert.equal(f.confidence, 'medium', 'quiet counters of another namespace do not lower it');
  assert.equal(f.title, '10.0.0.5:80 drops SYNs while it answers others: the accept queue of its listener 10.0.0.5:80 in container web-1 overflows');
  assert.match(f.explanation, /not an address of this namespace .*the counters read here do not\./);
  assert.deepEqual([f.evidence['container'], 'kernelCounters' in f.evidence, 'somaxconn' in f.evidence], ['web-1', false, false]);
  assert.match(f.remedy[0]!, /nsenter -t \$\(docker inspect -f '\{\{\.State\.Pid\}\}' web-1\) -n ss -ltn 'sport = :80'/);
  // ingress_sbox only forwards (IPVS): no container to name, no docker inspect of it.
  const sbox = only(listenOverflowRule(makeInput(burst, { lateAnsweredFlows: late.map(flow), kernel: quiet, context: host('ingress-sbox') }), answeredOthers), 'listen-overflow');
  assert.equal(sbox.evidence['container'], undefined);
  assert.match(sbox.explanation, /The listener is 10\.0\.0\.5:80 behind ingress_sbox, not an address of this namespace/);
  assert.ok(!sbox.remedy.join(' ').includes('ingress_sbox)'), sbox.remedy.join('\n'));
});

test('listen-overflow: behind DNAT, the listener\'s own namespace read live confirms (high) or refutes (low) a late-answer finding', () => {
  const late: FlowSpec[] = [{ id: 'f9', outcome: 'completed', syns: 2, answeredAfter: 1.02 }];
  const context = makeContext({
    interfaces: [iface('eth1', 'physical', ['10.1.0.5/24']), iface('docker0', 'bridge', ['10.0.0.1/24'])],
    dockerNetworks: [{ id: 'n', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['10.0.0.0/24'], gateways: [], bridge: 'docker0', ingress: false, internal: false, endpoints: [{ name: 'web-1', addresses: ['10.0.0.5'] }] }],
  });
  const withInside = (deltas: Record<string, number>) =>
    kernel({
      counters: [{ namespace: 'host', seconds: 12, deltas: { 'Tcp.OutRsts': 2 } }],
      otherNamespaces: [
        { namespace: 'pid:77', seconds: 12, deltas: { 'TcpExt.ListenOverflows': 9 }, addresses: ['10.0.0.9'] },
        { namespace: 'pid:42', seconds: 12, deltas, addresses: ['10.0.0.5', 'fe80::1'] },
      ],
    });
  const input = (deltas: Record<string, number>) => makeInput(burst, { lateAnsweredFlows: late.map(flow), kernel: withInside(deltas), context });
  const rose = only(listenOverflowRule(input({ 'TcpExt.ListenOverflows': 6, 'TcpExt.ListenDrops': 6, 'Tcp.OutRsts': 1 }), answeredOthers), 'listen-overflow');
  assert.equal(rose.confidence, 'high');
  assert.deepEqual([rose.evidence['listenerNamespace'], rose.evidence['listenerCounters']], ['pid:42', { 'TcpExt.ListenOverflows': 6, 'TcpExt.ListenDrops': 6 }]);
  assert.match(rose.explanation, /counted it in its network namespace \(read through pid:42\): TcpExt\.ListenOverflows \+6, TcpExt\.ListenDrops \+6\./);
  // ListenDrops alone is not a full queue; another container's overflows are not this listener's.
  const quiet = only(listenOverflowRule(input({ 'TcpExt.ListenDrops': 3 }), answeredOthers), 'listen-overflow');
  assert.equal(quiet.confidence, 'low');
  assert.match(quiet.explanation, /did not rise in its network namespace \(read through pid:42\)/);
  // Two namespaces own the address (a second Docker daemon's 172.17.0.0/16): neither is the listener's for sure.
  const twice = withInside({ 'TcpExt.ListenOverflows': 6 });
  twice.otherNamespaces!.push({ namespace: 'pid:99', seconds: 12, deltas: {}, addresses: ['10.0.0.5'] });
  const ambiguous = only(listenOverflowRule(makeInput(burst, { lateAnsweredFlows: late.map(flow), kernel: twice, context }), answeredOthers), 'listen-overflow');
  assert.deepEqual([ambiguous.confidence, 'listenerCounters' in ambiguous.evidence], ['medium', false]);
  // The listener's namespace captured itself (--netns web.1:eth0): its own counters, by its label.
  const captured = kernel({ counters: [{ namespace: 'host', seconds: 12, deltas: {}, addresses: ['10.1.0.5'] }, { namespace: 'web.1', seconds: 12, deltas: { 'TcpExt.ListenOverflows': 2 }, addresses: ['10.0.0.5'] }] });
  const task = only(listenOverflowRule(makeInput(burst, { lateAnsweredFlows: late.map(flow), kernel: captured, context }), answeredOthers), 'listen-overflow');
  assert.deepEqual([task.confidence, task.evidence['listenerNamespace']], ['high', 'web.1']);
  assert.match(task.explanation, /counted it in its network namespace web\.1: TcpExt\.ListenOverflows \+2\./);
  // Without late answers, a rise in the listener's namespace alone is enough to say it.
  const noLate = listenOverflowRule(makeInput(burst, { kernel: withInside({ 'TcpExt.ListenOverflows': 6 }), context }), answeredOthers);
  assert.equal(only(noLate, 'listen-overflow').confidence, 'high');
});

// rp_filter

function twoUplinks(): HostContext {
  return makeContext({
    interfaces: [iface('eth0', 'physical', ['10.0.0.5/24']), iface('eth1', 'physical', ['10.1.0.5/24'])],
    routes: [route('default via 10.0.0.1 dev eth0'), route('10.0.0.0/24 dev eth0'), route('10.1.0.0/24 dev eth1'), route('local 10.0.0.5 dev eth0 table local'), route('local 10.1.0.5 dev eth1 table local')],
    sysctls: { 'net.ipv4.conf.all.rp_filter': '1' },
  });
}

const asymmetric: FlowSpec[] = [{ id: 'f1', server: '10.1.0.5', on: 'eth1', at: 5 }];

test('rp_filter: IPReversePathFilter rising and IP_RPFILTER drops at the SYNs confirm it', () => {
  const input = makeInput(asymmetric, { context: twoUplinks() });
  assert.equal(only(rpFilterRule(input), 'filtered').confidence, 'medium', 'the snapshot has no counter');
  const k = kernel({
    counters: [{ namespace: 'host', seconds: 9, deltas: { 'TcpExt.IPReversePathFilter': 2 } }],
    events: [drop(5.004, 'IP_RPFILTER', 'ip_rcv_finish_core+0x25b/0x470'), drop(8.01, 'IP_RPFILTER', 'ip_rcv_finish_core+0x25b/0x470'), drop(6.5, 'IP_RPFILTER')],
  });
  const f = only(rpFilterRule({ ...input, kernel: k }), 'filtered');
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.evidence['kernelCounters'], [{ counter: 'TcpExt.IPReversePathFilter', namespace: 'host', delta: 2, seconds: 9 }]);
  const drops = f.evidence['kernelDrops'] as { reasons: Record<string, number>; synTimesMatched: number; synTimes: number; matchedBy: string };
  // The drop at 6.5 s is no SYN's: the first SYN was at 5 s, the last at 8 s.
  assert.deepEqual(drops.reasons, { IP_RPFILTER: 2 });
  assert.equal(drops.synTimesMatched, 2);
  assert.equal(drops.synTimes, 2);
  assert.match(drops.matchedBy, /^time only/);
  assert.match(f.explanation, /TcpExt\.IPReversePathFilter \+2 in host/);
});

test('rp_filter: counters read without a rise and no drop at the SYNs lower it to low', () => {
  const k = kernel({ counters: [{ namespace: 'host', seconds: 9, deltas: {} }], events: [drop(7, 'IP_RPFILTER')] });
  const f = only(rpFilterRule(makeInput(asymmetric, { context: twoUplinks(), kernel: k })), 'filtered');
  assert.equal(f.confidence, 'low');
  assert.equal(f.evidence['kernelDrops'], null);
});

// filtered

const silent: FlowSpec[] = [
  { id: 'f1', at: 1 },
  { id: 'f2', at: 2 },
  { id: 'f3', at: 3, syns: 1 },
];

test('filtered: NETFILTER_DROP at the SYNs times makes it a firewall drop with high confidence, matched by time only', () => {
  const base = only(diagnose(makeInput(silent), new Map()), 'filtered');
  assert.equal(base.confidence, 'medium');
  const events: KernelEvent[] = [
    drop(1.002, 'NETFILTER_DROP', 'nft_do_chain+0x3e8/0x610'),
    drop(2.01, 'NETFILTER_DROP', 'nft_do_chain+0x3e8/0x610'),
    drop(3.03, 'NETFILTER_DROP', 'nft_do_chain+0x3e8/0x610'),
    drop(4.02, 'NETFILTER_DROP', 'nft_do_chain+0x3e8/0x610'),
    drop(4.5, 'NO_SOCKET'),
  ];
  const f = only(diagnose(makeInput(silent, { kernel: kernel({ events }) }), new Map()), 'filtered');
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.flows, base.flows);
  const drops = f.evidence['kernelDrops'] as { reasons: Record<string, number>; drops: number; synTimesMatched: number; synTimes: number; locations: string[] };
  // SYN times: 1 and 4 (f1), 2 and 5 (f2), 3 (f3: one SYN); the drop at 4.5 s is no SYN's.
  assert.deepEqual(drops.reasons, { NETFILTER_DROP: 4 });
  assert.equal(drops.synTimesMatched, 4);
  assert.equal(drops.synTimes, 5);
  assert.deepEqual(drops.locations, ['nft_do_chain+0x3e8/0x610']);
  assert.match(f.explanation, /netfilter dropped 4 packets .*matched by time only/);
  assert.equal(f.evidence['kernelSynAckRetransmits'], null);
});

test('filtered: SYN-ACK retransmissions for the flows say the server answered', () => {
  const [f1] = silent.map(flow);
  const events = [synAck(2, f1!), synAck(2, { ...f1!, clientPort: 1 }), synAck(0.5, f1!)];
  const f = only(diagnose(makeInput(silent, { kernel: kernel({ events }) }), new Map()), 'filtered');
  assert.deepEqual(f.evidence['kernelSynAckRetransmits'], { retransmits: 1, attempts: 1, flows: ['f1'], matchedBy: 'addresses and ports' });
  assert.match(f.explanation, /server on this host answered/);
  assert.equal(f.confidence, 'medium');
});

// syn-ack-lost

test('syn-ack-lost: the kernel retransmitting SYN-ACKs of the flow is evidence', () => {
  const lost = [flow({ id: 'f1', outcome: 'synAckLost' })];
  const input = makeInput([], { failedFlows: lost });
  assert.equal('kernelSynAckRetransmits' in only(synAckLostRule(input), 'syn-ack-lost').evidence, false);
  const k = kernel({ events: [synAck(1, lost[0]!), synAck(3, lost[0]!)] });
  const f = only(synAckLostRule({ ...input, kernel: k }), 'syn-ack-lost');
  assert.deepEqual(f.evidence['kernelSynAckRetransmits'], { retransmits: 2, attempts: 1, flows: ['f1'], matchedBy: 'addresses and ports' });
  assert.match(f.explanation, /retransmitted 2 SYN-ACKs/);
});

test('syn-ack-lost: SYN-ACKs seen leaving by the uplink the SYNs came in on are lost beyond this host; seen on a bridge, the host may still misroute them', () => {
  const lost = [flow({ id: 'f1', outcome: 'synAckLost' })];
  const out = only(synAckLostRule(makeInput([], { failedFlows: lost })), 'syn-ack-lost');
  assert.equal(out.evidence['leftBy'], 'eth0');
  assert.match(out.explanation, /left this host by eth0, the way the SYNs came in .* lost beyond this host/);
  assert.ok(!out.remedy.some((r) => r.includes('ip route get')), 'no host-side routing check for replies that left');
  const onBridge = only(synAckLostRule(makeInput([], { failedFlows: lost, interfaceNames: ['docker0', 'eth1'], bridges: [parseBridgeFlag('docker0=10.0.0.0/24')] })), 'syn-ack-lost');
  assert.equal(onBridge.evidence['leftBy'], undefined);
  assert.match(onBridge.remedy[0]!, /^Ask the kernel where replies to a client go: ip route get/);
});

// bridge-subnet-overlap

test('bridge-subnet-overlap: SYN-ACK retransmissions for the clients show the server answered, high confidence', () => {
  const inside = [flow({ id: 'f1', client: '172.17.0.50' }), flow({ id: 'f2', client: '172.17.0.51' })];
  const input = makeInput([], { failedFlows: inside, bridges: [parseBridgeFlag('docker0=172.17.0.0/16')] });
  assert.equal(only(bridgeSubnetOverlapRule(input), 'bridge-subnet-overlap').confidence, 'medium');
  const f = only(bridgeSubnetOverlapRule({ ...input, kernel: kernel({ events: [synAck(1, inside[1]!)] }) }), 'bridge-subnet-overlap');
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.evidence['kernelSynAckRetransmits'], { retransmits: 1, attempts: 1, flows: ['f2'], matchedBy: 'addresses and ports' });
});

// paws-timestamp-reject

/** Host A (offset 900e6) closes connections; host B behind the same address gets dropped (as in paws.test.ts). */
function natPeer(): PeerSyns {
  const attempts = [
    { at: 0, tsVal: 900e6, closed: true },
    { at: 2, tsVal: 100e6 + 2000, unanswered: true },
    { at: 10, tsVal: 900e6 + 10_000, closed: true },
    { at: 12, tsVal: 100e6 + 12_000, unanswered: true },
    { at: 20, tsVal: 900e6 + 20_000, closed: true },
    { at: 25, tsVal: 100e6 + 25_000, unanswered: true },
    { at: 90, tsVal: 100e6 + 90_000, closed: true },
  ];
  return {
    ipVersion: 4,
    client: '203.0.113.50',
    server: '192.0.2.10',
    flow: attempts.map((_, i) => i + 1),
    firstSynAt: attempts.map((a) => T0 + a.at),
    tsVal: attempts.map((a) => a.tsVal),
    syns: attempts.map((a) => (a.unanswered ? 4 : 1)),
    answeredAt: attempts.map((a) => (a.unanswered ? -1 : T0 + a.at + 0.0001)),
    lastSeen: attempts.map((a) => T0 + a.at + (a.unanswered ? 7 : 0.005)),
    serverClosed: attempts.map((a) => (a.closed ? 1 : 0)),
    notRecorded: 0,
  };
}

test('paws-timestamp-reject: PAWSPassive rising, or PAWS drops at the explained SYNs, raise it to high', () => {
  const input = makeInput([], { peerSyns: [natPeer()] });
  assert.equal(only(pawsTimestampRejectRule(input), 'paws-timestamp-reject').confidence, 'medium');

  const counted = kernel({ counters: [{ namespace: 'host', seconds: 95, deltas: { 'TcpExt.PAWSPassive': 3, 'TcpExt.ListenDrops': 3 } }] });
  const f = only(pawsTimestampRejectRule({ ...input, kernel: counted }), 'paws-timestamp-reject');
  assert.equal(f.confidence, 'high');
  assert.deepEqual(f.evidence['kernelCounters'], [{ counter: 'TcpExt.PAWSPassive', namespace: 'host', delta: 3, seconds: 95 }]);
  assert.match(f.explanation, /TcpExt\.PAWSPassive \+3 in host/);

  // Explained attempts f2, f4, f6: SYNs at 2/9, 12/19, 25/32 s.
  const traced = kernel({ events: [2.001, 9.002, 12.003, 19.004, 25.001].map((t) => drop(t, 'TCP_RFC7323_PAWS')) });
  const g = only(pawsTimestampRejectRule({ ...input, kernel: traced }), 'paws-timestamp-reject');
  assert.equal(g.confidence, 'high');
  const drops = g.evidence['kernelDrops'] as { drops: number; synTimesMatched: number; synTimes: number };
  assert.deepEqual([drops.drops, drops.synTimesMatched, drops.synTimes], [5, 5, 6]);
});

// unchanged without kernel evidence

test('kernel evidence absent or null: the findings are exactly the ones without the field', () => {
  const inputs: DiagnosisInput[] = [
    makeInput(silent),
    makeInput(asymmetric, { context: twoUplinks() }),
    makeInput(burst, { lateAnsweredFlows: [flow({ id: 'f9', outcome: 'completed', syns: 2, answeredAfter: 1.02 })] }),
    makeInput([], { failedFlows: [flow({ id: 'f1', outcome: 'synAckLost' })], peerSyns: [natPeer()] }),
  ];
  for (const input of inputs) {
    const plain = diagnose(input, answeredOthers);
    assert.ok(plain.length > 0);
    assert.deepEqual(diagnose({ ...input, kernel: null }, answeredOthers), plain);
    assert.deepEqual(diagnose({ ...input, kernel: undefined }, answeredOthers), plain);
  }
});
