import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import type { DiagnosisInput } from '../src/diagnose/input';
import { diagnose } from '../src/diagnose/diagnose';
import { natPathBreakRule } from '../src/diagnose/rules/nat-path-break';
import { attemptPath } from '../src/flow/attempt-path';
import type { AttemptOutcome, Flow } from '../src/flow/flow';
import { AttemptStitcher } from '../src/flow/stitch';
import { toReportJson } from '../src/report/json';
import { renderText } from '../src/report/text';
import { REPO } from './cli-harness';
import { handMadeFlow } from './flow-fixtures';

const SCENARIO = path.join(REPO, 'captures', 'docker-gwbridge-ingress');
const CAPTURE = path.join(SCENARIO, 'capture.pcapng');
const ETH0 = 0;
const GWBRIDGE = 1;

interface HopSpec {
  id: string;
  iface: number;
  client?: [string, number];
  server?: [string, number];
  at?: number;
  isn?: number;
  tsVal?: number | null;
  ipId?: number | null;
  mss?: number;
  outcome?: AttemptOutcome;
  synAcks?: number;
}

/** A hand-made connection attempt as one hop saw it. */
function hop(s: HopSpec): Flow {
  const [clientIp, clientPort] = s.client ?? ['198.51.100.7', 40000];
  const [serverIp, serverPort] = s.server ?? ['192.0.2.1', 8080];
  const at = s.at ?? 1000;
  const outcome = s.outcome ?? 'unanswered';
  return handMadeFlow({
    id: s.id,
    clientIp,
    clientPort,
    serverIp,
    serverPort,
    outcome,
    synAcks: s.synAcks ?? (outcome === 'completed' ? 1 : 0),
    firstSeen: at,
    lastSeen: at,
    firstSynAt: at,
    isn: s.isn ?? 123456789,
    synOptions: { mss: s.mss ?? 1460, windowScale: 7, sackPermitted: true, tsVal: s.tsVal === undefined ? 55555 : s.tsVal, tsEcr: 0 },
    synIpId: s.ipId === undefined ? 4242 : s.ipId,
    interfaces: [s.iface],
  });
}

function stitch(...flows: Flow[]): string[][] {
  const st = new AttemptStitcher(64);
  for (const f of flows) st.addFlow(f);
  return st.groups().map((g) => g.flows.map((n) => `f${n}`));
}

test('stitch: a DNATed attempt on eth0 and docker_gwbridge is one group, outermost (first SYN) first', () => {
  const inner = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], at: 1000.00005 });
  const outer = hop({ id: 'f1', iface: ETH0, at: 1000 });
  assert.deepEqual(stitch(inner, outer), [['f1', 'f2']]);
});

test('stitch: an SNATed (masqueraded) attempt is one group', () => {
  const outer = hop({ id: 'f1', iface: ETH0 });
  const inner = hop({ id: 'f2', iface: GWBRIDGE, client: ['172.18.0.1', 61000], server: ['10.0.0.5', 80], at: 1000.001 });
  assert.deepEqual(stitch(outer, inner), [['f1', 'f2']]);
});

test('stitch: flows on the same interface never stitch', () => {
  assert.deepEqual(stitch(hop({ id: 'f1', iface: ETH0 }), hop({ id: 'f2', iface: ETH0, server: ['172.18.0.2', 8080], at: 1000.001 })), []);
});

test('stitch: a different ISN, TSval, MSS or IP ID never stitches', () => {
  const outer = hop({ id: 'f1', iface: ETH0 });
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, isn: 987654321 })), []);
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, tsVal: 55556 })), []);
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, mss: 1400 })), []);
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, ipId: 1 })), []);
  // An IP ID one side lacks does not prevent the match.
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, ipId: null })), [['f1', 'f2']]);
});

test('stitch: first SYNs more than 2 s apart are different attempts', () => {
  const outer = hop({ id: 'f1', iface: ETH0, at: 1000 });
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1002.5 })), []);
  assert.deepEqual(stitch(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1001.9 })), [['f1', 'f2']]);
});

test('stitch: two attempts reusing one ISN far apart in time make two groups', () => {
  const groups = stitch(
    hop({ id: 'f1', iface: ETH0, at: 1000 }),
    hop({ id: 'f2', iface: GWBRIDGE, at: 1000.001 }),
    hop({ id: 'f3', iface: ETH0, at: 2000 }),
    hop({ id: 'f4', iface: GWBRIDGE, at: 2000.001 }),
  );
  assert.deepEqual(groups, [['f1', 'f2'], ['f3', 'f4']]);
});

test('stitch: a full stitcher counts what it could not record', () => {
  const st = new AttemptStitcher(1);
  st.addFlow(hop({ id: 'f1', iface: ETH0 }));
  st.addFlow(hop({ id: 'f2', iface: GWBRIDGE }));
  assert.equal(st.notRecorded, 1);
  assert.deepEqual(st.groups(), []);
});

test('attemptPath: hop translations and the last hop each direction reached', () => {
  const outer = hop({ id: 'f1', iface: ETH0 });
  const dnat = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], synAcks: 2 });
  const both = hop({ id: 'f3', iface: 2, client: ['10.0.0.1', 5000], server: ['10.0.0.9', 80], synAcks: 2 });
  const p = attemptPath([outer, dnat, both], ['eth0', 'docker_gwbridge', 'vxlan0']);
  assert.equal(p.id, 'f1');
  assert.deepEqual(p.hops.map((h) => h.translation), ['none', 'dnat', 'dnat+snat']);
  assert.deepEqual(p.reached, { syn: 'vxlan0', synAck: 'docker_gwbridge' });
  const snat = attemptPath([outer, hop({ id: 'f4', iface: GWBRIDGE, client: ['172.18.0.1', 40000] })], ['eth0', 'docker_gwbridge']);
  assert.equal(snat.hops[1]!.translation, 'snat');
  assert.deepEqual(snat.reached, { syn: 'docker_gwbridge', synAck: null });
});

function natInput(flows: Flow[][]): DiagnosisInput {
  const names = ['eth0', 'docker_gwbridge'];
  return {
    failedFlows: flows.flat(),
    interfaceNames: names,
    bridges: [],
    arpRequests: new Map(),
    seenAddresses: new Set(),
    capture: { droppedByCapture: 0, synAckWithoutSyn: 0, synAckWithoutSynExamples: [], oneSidedFlows: 0, truncatedFiles: [], undecodablePackets: 0, completed: 5 },
    context: null,
    attempts: flows.map((hops) => attemptPath(hops, hops.map((f) => names[f.interfaces[0]!]!))),
  };
}

test('nat-path-break: a SYN-ACK seen inside and missing outside names both hops', () => {
  const outer = hop({ id: 'f1', iface: ETH0 });
  const inner = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], outcome: 'synAckLost', synAcks: 3 });
  const findings = diagnose(natInput([[outer, inner]]), new Map());
  assert.deepEqual(findings.map((f) => f.code), ['nat-path-break']);
  const f = findings[0]!;
  assert.deepEqual(f.flows, ['f1', 'f2']);
  assert.equal(f.evidence['direction'], 'syn-ack');
  assert.equal(f.evidence['seenAt'], 'docker_gwbridge');
  assert.equal(f.evidence['missingAt'], 'eth0');
  assert.deepEqual(f.evidence['reached'], { syn: 'docker_gwbridge', synAck: 'docker_gwbridge' });
});

test('nat-path-break: a SYN that got no answer past the innermost hop; filtered does not claim its flows', () => {
  const outer = hop({ id: 'f1', iface: ETH0 });
  const inner = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080] });
  const findings = diagnose(natInput([[outer, inner]]), new Map());
  assert.deepEqual(findings.map((f) => f.code), ['nat-path-break']);
  assert.equal(findings[0]!.evidence['direction'], 'syn');
  assert.equal(findings[0]!.evidence['missingAt'], null);
});

test('a specific rule explaining one hop of an attempt explains all its hops (no filtered for the others)', () => {
  const a = analyzeFiles([CAPTURE], { context: loadHostContext(path.join(SCENARIO, 'context.json')) });
  // Without the context's bridges, the break is named once for the attempt (where it stopped);
  // no route-conflict: ingress_sbox makes the reply behind the DNAT, not the host's stack.
  assert.deepEqual(a.findings.map((f) => f.code), ['nat-path-break']);
});

test('nat-path-break: skips attempts a specific rule already explained', () => {
  const outer = hop({ id: 'f1', iface: ETH0 });
  const inner = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080] });
  assert.deepEqual(natPathBreakRule(natInput([[outer, inner]]), new Set(['f2'])), []);
});

test('stitching on docker-gwbridge-ingress: each attempt counts once, the failed one shows eth0 → docker_gwbridge (dnat)', () => {
  const context = loadHostContext(path.join(SCENARIO, 'context.json'));
  const a = analyzeFiles([CAPTURE], { context, bridges: bridgesFromContext(context, []) });
  const h = a.summary.handshakes;
  assert.deepEqual(h, { attempted: 3, completed: 2, unanswered: 1, rejected: 0, synAckLost: 0 });
  assert.equal(h.attempted, h.completed + h.rejected + h.synAckLost + h.unanswered);
  assert.equal(a.flows.length, 2, 'flows still lists each hop');
  assert.equal(a.attempts.length, 1);
  const p = a.attempts[0]!;
  // The client's port is whatever its kernel picked when the scenario was recorded; both hops keep it.
  const client = p.hops[0]!.client;
  assert.match(client, /^172\.18\.50\.20:\d+$/);
  assert.deepEqual(p.hops.map((x) => [x.interface, x.client, x.server, x.translation, x.synAcks]), [
    ['eth0', client, '192.0.2.1:8080', 'none', 0],
    ['docker_gwbridge', client, '172.18.0.2:8080', 'dnat', 0],
  ]);
  assert.deepEqual(p.reached, { syn: 'docker_gwbridge', synAck: null });
  // The overlap rule explains the attempt: no nat-path-break, no filtered.
  assert.deepEqual(a.findings.map((f) => f.code).sort(), ['bridge-subnet-overlap']);
  const json = toReportJson(a);
  assert.deepEqual(json.flows.map((f) => f.attempt), [p.id, p.id]);
  assert.equal(json.flows[0]!.hops!.length, 2);
});

test('stitching on docker-gwbridge-ingress without context: one finding for the attempt\'s two hops, the overlap its ARP shows, not filtered', () => {
  const a = analyzeFiles([CAPTURE]);
  assert.deepEqual(a.findings.map((f) => [f.code, f.evidence.bridge, f.evidence.subnet]), [['bridge-subnet-overlap', 'docker_gwbridge', null]]);
  assert.equal(a.findings[0]!.flows.length, 2);
});

test('stitching across several files of one host (one pcap per interface) counts once', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-stitch-'));
  try {
    const reader = openCaptureFile(CAPTURE);
    const writers = new Map<number, PcapWriter>();
    for (let rec = reader.next(); rec !== null; rec = reader.next()) {
      let w = writers.get(rec.interfaceIndex);
      if (w === undefined) {
        w = new PcapWriter(new FileSink(path.join(dir, `${reader.interfaces[rec.interfaceIndex]!.name}.pcap`)), { linkType: rec.linkType, nanosecond: true });
        writers.set(rec.interfaceIndex, w);
      }
      w.writePacket(rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec, rec.tsNsec, rec.origLen);
    }
    reader.close();
    for (const w of writers.values()) w.close();
    const a = analyzeFiles([path.join(dir, 'eth0.pcap'), path.join(dir, 'docker_gwbridge.pcap')]);
    assert.deepEqual(a.summary.handshakes, { attempted: 3, completed: 2, unanswered: 1, rejected: 0, synAckLost: 0 });
    assert.deepEqual(a.attempts[0]!.hops.map((x) => [x.interface, x.translation]), [['eth0', 'none'], ['docker_gwbridge', 'dnat']]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a stitched attempt counts once in the evidence and in the report tables, not once per hop', () => {
  const context = loadHostContext(path.join(SCENARIO, 'context.json'));
  const a = analyzeFiles([path.join(SCENARIO, 'capture.pcapng')], { context, bridges: bridgesFromContext(context) });
  const overlap = a.findings.find((f) => f.code === 'bridge-subnet-overlap');
  assert.ok(overlap);
  assert.equal(overlap.flows.length, 2, 'both hops are named');
  assert.equal(overlap.evidence['attempts'], 1, 'one attempt');
  const text = renderText(a);
  const byService = text.slice(text.indexOf('Failed attempts by service'), text.indexOf('Findings'));
  assert.match(byService, /^192\.0\.2\.1:8080 +1 +1 +0 +0$/m);
  assert.doesNotMatch(byService, /172\.18\.0\.2:8080/, 'the DNATed hop is not a service of its own');
});

test('stitch: groups carry each hop\'s server and client, so completed paths can be kept', () => {
  const st = new AttemptStitcher(8);
  st.addFlow(hop({ id: 'f1', iface: ETH0, outcome: 'completed' }));
  st.addFlow(hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], client: ['172.18.0.1', 40000], outcome: 'completed' }));
  const [g] = st.groups();
  assert.deepEqual(g!.servers, ['192.0.2.1:8080', '172.18.0.2:8080']);
  assert.deepEqual(g!.clients, [0xc6336407 * 65536 + 40000, 0xac120001 * 65536 + 40000]);
});

function lateHops(...flows: Flow[]): string[][] {
  const st = new AttemptStitcher(64);
  for (const f of flows) st.addFlow(f);
  const groups = st.groups();
  return st.lateHops(new Set(groups.flatMap((g) => g.flows)), new Set(groups.map((g) => g.flows[0]!))).map((p) => [`f${p.first.flow}`, `f${p.late.flow}`]);
}

test('stitch: a hop whose capture began after the first SYN (its first SYN a retransmission, TSval ahead by the time between) is a late hop of the attempt, not an attempt of its own', () => {
  const outer = hop({ id: 'f1', iface: ETH0, at: 1000, tsVal: 55555 });
  // Linux retransmits at 1 s and 3 s; the second tcpdump started in between and saw the one at 3 s (a 1000 Hz clock).
  const inner = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], at: 1003.0001, tsVal: 58555, ipId: 999 });
  assert.deepEqual(stitch(outer, inner), [], 'no group: their first SYNs are different packets');
  assert.deepEqual(lateHops(outer, inner), [['f1', 'f2']]);
  assert.deepEqual(lateHops(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1003.0001, tsVal: 55555 + 750 })), [['f1', 'f2']], 'a 250 Hz clock (older kernels) ticks 750 in 3 s');
});

test('stitch: no late hop on the same interface, with another TSval offset (another connection), another MSS, too far apart, or already stitched', () => {
  const outer = hop({ id: 'f1', iface: ETH0, at: 1000, tsVal: 55555 });
  assert.deepEqual(lateHops(outer, hop({ id: 'f2', iface: ETH0, at: 1003, tsVal: 58555 })), []);
  assert.deepEqual(lateHops(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1003, tsVal: 912345678 })), []);
  assert.deepEqual(lateHops(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1003, tsVal: 58555, mss: 1400 })), []);
  assert.deepEqual(lateHops(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1200, tsVal: 55555 + 200000 })), []);
  assert.deepEqual(lateHops(outer, hop({ id: 'f2', iface: GWBRIDGE, at: 1000.001 })), [], 'the same first SYN: stitched, not late');
  assert.deepEqual(lateHops(hop({ id: 'f1', iface: ETH0, tsVal: null }), hop({ id: 'f2', iface: GWBRIDGE, at: 1003, tsVal: null })), [], 'no timestamps: nothing ties them');
});

test('stitch: a late hop of an attempt two hops already stitched is paired with the group once; late hops that saw the same retransmission pair their group with the lone first hop', () => {
  const a = hop({ id: 'f1', iface: ETH0, at: 1000, tsVal: 55555 });
  const b = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], at: 1000.0001, tsVal: 55555 });
  const c = hop({ id: 'f3', iface: 2, server: ['172.18.0.2', 8080], at: 1003, tsVal: 58555 });
  assert.deepEqual(lateHops(a, b, c), [['f2', 'f3']], 'one pair, with the group');
  const lone = hop({ id: 'f1', iface: ETH0, at: 1000, tsVal: 55555 });
  const late1 = hop({ id: 'f2', iface: GWBRIDGE, server: ['172.18.0.2', 8080], at: 1003, tsVal: 58555 });
  const late2 = hop({ id: 'f3', iface: 2, server: ['172.18.0.2', 8080], at: 1003.0001, tsVal: 58555 });
  assert.deepEqual(stitch(lone, late1, late2), [['f2', 'f3']]);
  assert.deepEqual(lateHops(lone, late1, late2), [['f1', 'f2']], 'the group\'s first record pairs with the lone first hop');
});
