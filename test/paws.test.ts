/**
 * The tcp_tw_recycle replay (paws-timestamp-reject), the timestamp-clock estimate behind
 * its "hosts behind one address", and the synthetic captures/tw-recycle-nat scenario.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { loadHostContext } from '../src/context/load';
import type { HostContext } from '../src/context/host-context';
import type { Finding } from '../src/diagnose/finding';
import type { DiagnosisInput, PeerSyns } from '../src/diagnose/input';
import { parseRelease, pawsTimestampRejectRule, replayPeer } from '../src/diagnose/rules/paws-timestamp-reject';
import { estimateClocks, type TimestampSample } from '../src/diagnose/timestamp-clocks';
import { Prng } from '../src/synth/prng';
import { DIRECT_CLIENTS, NAT_ADDRESS, makeTwRecycle, scenarioDir } from './lab/make-tw-recycle';

const DIR = scenarioDir();
const CAPTURE = path.join(DIR, 'capture.pcap');
const CONTEXT = path.join(DIR, 'context.json');
const T0 = 1_700_000_000;

/** SYNs of one clock: `count` samples `gap` seconds apart starting at `start`. */
function clock(rateHz: number, offset: number, count: number, gap: number, start = T0): TimestampSample[] {
  return Array.from({ length: count }, (_, i) => {
    const at = start + i * gap;
    return { at, tsVal: (offset + Math.floor(rateHz * (at - T0))) >>> 0 };
  });
}

function interleave(...lists: TimestampSample[][]): TimestampSample[] {
  return lists.flat().sort((a, b) => a.at - b.at);
}

test('clocks: three 1000 Hz hosts far apart are three clocks at 1000 Hz', () => {
  const e = estimateClocks(interleave(clock(1000, 150e6, 10, 7), clock(1000, 700e6, 8, 9, T0 + 2), clock(1000, 2_600e6, 12, 5, T0 + 1)));
  assert.equal(e.rateHz, 1000);
  assert.equal(e.clocks, 3);
  assert.equal(e.randomized, false);
  assert.equal(e.samples, 30);
});

test('clocks: the rate that explains the samples with fewest clocks wins (250 Hz, 100 Hz)', () => {
  const at250 = estimateClocks(interleave(clock(250, 5e6, 10, 3), clock(250, 90e6, 10, 4, T0 + 1)));
  assert.equal(at250.rateHz, 250);
  assert.equal(at250.clocks, 2);
  const at100 = estimateClocks(clock(100, 123_456, 15, 2));
  assert.equal(at100.rateHz, 100);
  assert.equal(at100.clocks, 1);
});

test('clocks: one clock wrapping past 2^32 stays one clock', () => {
  const e = estimateClocks(clock(1000, 4_294_967_296 - 20_000, 30, 1.5));
  assert.equal(e.clocks, 1);
  assert.equal(e.rateHz, 1000);
  assert.deepEqual(new Set(e.clockOf), new Set([0]));
});

test('clocks: random offsets per connection are flagged, and the count is not a host count', () => {
  const rng = new Prng(42);
  const samples = Array.from({ length: 20 }, (_, i) => ({ at: T0 + i * 2, tsVal: rng.nextUint32() }));
  const e = estimateClocks(samples);
  assert.equal(e.randomized, true);
  assert.ok(e.clocks >= 18);
  // A handful of hosts with one connection each is not called randomized.
  assert.equal(estimateClocks(samples.slice(0, 3)).randomized, false);
  assert.deepEqual(estimateClocks([]), { samples: 0, clocks: 0, rateHz: null, clockOf: [], randomized: false });
});

test('generator: regenerating the scenario gives the stored bytes (deterministic)', () => {
  const s = makeTwRecycle();
  assert.ok(s.pcap.equals(fs.readFileSync(CAPTURE)), 'capture.pcap differs from the generator output: rerun node dist/test/lab/make-tw-recycle.js');
  assert.equal(s.context, fs.readFileSync(CONTEXT, 'utf8'));
  assert.equal(JSON.parse(s.context).counters['TcpExt.PAWSPassive'], s.pawsPassive);
});

function pawsFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.code === 'paws-timestamp-reject');
}

test('tw-recycle-nat: names the NAT address and 3 hosts behind it, and blames no direct client', () => {
  const a = analyzeFiles([CAPTURE], { context: loadHostContext(CONTEXT) });
  const paws = pawsFindings(a.findings);
  assert.equal(paws.length, 1);
  const f = paws[0]!;
  assert.equal(f.severity, 'error');
  assert.equal(f.confidence, 'high');
  assert.equal(f.evidence['natAddress'], NAT_ADDRESS);
  assert.equal(f.evidence['server'], '192.0.2.10');
  assert.equal(f.evidence['hostsBehind'], 3);
  assert.equal(f.evidence['clockRateHz'], 1000);
  assert.equal(f.evidence['explained'], 16);
  assert.equal(f.evidence['unexplained'], 0);
  assert.equal(f.evidence['contradicting'], 0);
  assert.equal(f.evidence['tcpTwRecycle'], '1');
  assert.equal(f.evidence['kernelRelease'], '4.4.0-142-generic');
  assert.ok((f.evidence['pawsPassive'] as number) > 0);
  assert.ok(f.remedy.some((r) => r.includes('sysctl -w net.ipv4.tcp_tw_recycle=0') && r.includes('/etc/sysctl.d')));
  const byId = new Map(a.flows.map((x) => [x.id, x]));
  for (const id of f.flows) {
    assert.equal(byId.get(id)!.clientIp, NAT_ADDRESS);
    assert.equal(byId.get(id)!.outcome, 'unanswered');
  }
  const text = JSON.stringify(paws);
  for (const direct of DIRECT_CLIENTS) assert.ok(!text.includes(direct), `${direct} is not blamed`);
  // The PAWS drops also raised ListenDrops in the snapshot: not an accept-queue overflow.
  assert.equal(a.findings.filter((x) => x.code === 'listen-overflow').length, 0);
});

test('tw-recycle-nat: the unanswered flows PAWS explains are not also reported as filtered', () => {
  const a = analyzeFiles([CAPTURE], { context: loadHostContext(CONTEXT) });
  const paws = new Set(pawsFindings(a.findings).flatMap((f) => f.flows));
  const filtered = a.findings.filter((f) => f.code === 'filtered');
  assert.equal(filtered.length, 1);
  assert.equal(filtered[0]!.evidence['service'], '192.0.2.10:9000');
  assert.deepEqual(filtered[0]!.evidence['clients'], [DIRECT_CLIENTS[1]]);
  for (const id of filtered[0]!.flows) assert.ok(!paws.has(id));
  // Every unanswered attempt is claimed by exactly one finding.
  const unanswered = a.flows.filter((f) => f.outcome === 'unanswered').map((f) => f.id);
  const claimed = [...paws, ...filtered[0]!.flows];
  assert.deepEqual(claimed.sort(), unanswered.sort());
});

test('tw-recycle-nat without a snapshot: still found, with medium confidence', () => {
  const a = analyzeFiles([CAPTURE]);
  const paws = pawsFindings(a.findings);
  assert.equal(paws.length, 1);
  assert.equal(paws[0]!.confidence, 'medium');
  assert.equal(paws[0]!.evidence['hostsBehind'], 3);
  assert.equal(paws[0]!.evidence['ruleApplies'], null);
  assert.match(paws[0]!.explanation, /Confirm on the server/);
});

test('on a kernel >= 4.12 the finding says the rule cannot apply, lowers itself and claims nothing', () => {
  const ctx: HostContext = loadHostContext(CONTEXT);
  ctx.kernelRelease = '5.15.0-91-generic';
  delete ctx.sysctls['net.ipv4.tcp_tw_recycle'];
  ctx.unavailable.push({ source: 'sysctl net.ipv4.tcp_tw_recycle', reason: 'absent: removed in Linux 4.12' });
  const a = analyzeFiles([CAPTURE], { context: ctx });
  const paws = pawsFindings(a.findings);
  assert.equal(paws.length, 1);
  const f = paws[0]!;
  assert.equal(f.severity, 'warning');
  assert.equal(f.confidence, 'low');
  assert.equal(f.evidence['tcpTwRecycle'], 'absent');
  assert.equal(f.evidence['ruleApplies'], false);
  assert.match(f.explanation, /cannot apply/);
  assert.match(f.explanation, /per connection/);
  assert.match(f.explanation, /TIME-WAIT socket .* ACK rather than silence/);
  // The silence on port 80 is left to the other rules: with this snapshot's ListenDrops and
  // the late answers, listen-overflow takes it (without them, filtered would).
  const others = new Set(a.findings.filter((x) => x.code !== 'paws-timestamp-reject').flatMap((x) => x.flows));
  for (const id of f.flows) assert.ok(others.has(id), `${id} is claimed by another finding`);
});

test('parseRelease reads major and minor', () => {
  assert.deepEqual(parseRelease('4.4.0-142-generic'), [4, 4]);
  assert.deepEqual(parseRelease('4.12.1'), [4, 12]);
  assert.equal(parseRelease(null), null);
});

/** A hand-built record of one address pair; times in seconds from T0. */
interface Attempt {
  at: number;
  tsVal: number;
  answered?: boolean;
  serverClosed?: boolean;
  syns?: number;
}

function peer(attempts: Attempt[]): PeerSyns {
  return {
    ipVersion: 4,
    client: '203.0.113.50',
    server: '192.0.2.10',
    flow: attempts.map((_, i) => i + 1),
    firstSynAt: attempts.map((a) => T0 + a.at),
    tsVal: attempts.map((a) => a.tsVal),
    syns: attempts.map((a) => a.syns ?? (a.answered === false ? 4 : 1)),
    answeredAt: attempts.map((a) => (a.answered === false ? -1 : T0 + a.at + 0.0001)),
    lastSeen: attempts.map((a) => T0 + a.at + (a.answered === false ? 7 : 0.005)),
    serverClosed: attempts.map((a) => (a.serverClosed === true ? 1 : 0)),
    notRecorded: 0,
  };
}

function input(peers: PeerSyns[], context: HostContext | null = null): DiagnosisInput {
  return {
    failedFlows: [],
    interfaceNames: [],
    bridges: [],
    arpRequests: new Map(),
    seenAddresses: new Set(),
    capture: { droppedByCapture: 0, synAckWithoutSyn: 0, synAckWithoutSynExamples: [], oneSidedFlows: 0, truncatedFiles: [], undecodablePackets: 0, completed: 0 },
    context,
    peerSyns: peers,
  };
}

/** Host A (offset 900e6) closes connections; host B (offset 100e6) behind the same address gets dropped. */
function natPattern(): Attempt[] {
  const a = (s: number) => 900e6 + s * 1000;
  const b = (s: number) => 100e6 + s * 1000;
  return [
    { at: 0, tsVal: a(0), serverClosed: true },
    { at: 2, tsVal: b(2), answered: false },
    { at: 10, tsVal: a(10), serverClosed: true },
    { at: 12, tsVal: b(12), answered: false },
    { at: 20, tsVal: a(20), serverClosed: true },
    { at: 25, tsVal: b(25), answered: false },
    // 70 s after host A's last close: the remembered stamp has aged out.
    { at: 90, tsVal: b(90), serverClosed: true },
  ];
}

test('replay: the pattern fires, naming the address and two clocks', () => {
  const findings = pawsTimestampRejectRule(input([peer(natPattern())]));
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.evidence['natAddress'], '203.0.113.50');
  assert.equal(findings[0]!.evidence['hostsBehind'], 2);
  assert.deepEqual(findings[0]!.flows, ['f2', 'f4', 'f6']);
});

test('replay: does not fire when an answered SYN contradicts it', () => {
  const attempts = natPattern();
  // Host B answered at 14 s, while host A's timestamp (remembered at 10 s) was newer.
  attempts.push({ at: 14, tsVal: 100e6 + 14_000 });
  const r = replayPeer(peer(attempts));
  assert.deepEqual(r.contradicting, ['f8']);
  assert.equal(r.explained.length, 3);
  assert.deepEqual(pawsTimestampRejectRule(input([peer(attempts)])), []);
});

test('replay: a SYN whose TSval wrapped past 2^32 is newer (signed compare), not dropped', () => {
  const r = replayPeer(peer([
    { at: 0, tsVal: 4_294_967_000, serverClosed: true },
    { at: 1, tsVal: 500, answered: false },
  ]));
  assert.deepEqual(r.explained, []);
  assert.deepEqual(r.unexplained, ['f2']);
});

test('replay: connections the client closed first leave nothing to remember', () => {
  const attempts = natPattern().map((a) => ({ ...a, serverClosed: false }));
  const r = replayPeer(peer(attempts));
  assert.equal(r.serverClosed, 0);
  assert.equal(r.explained.length, 0);
  assert.deepEqual(pawsTimestampRejectRule(input([peer(attempts)])), []);
});

test('replay: silence outside the 60 s window is not explained', () => {
  const r = replayPeer(peer([
    { at: 0, tsVal: 900e6, serverClosed: true },
    { at: 61, tsVal: 100e6, answered: false },
  ]));
  assert.deepEqual(r.unexplained, ['f2']);
});
