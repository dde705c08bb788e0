/**
 * Failed attempts in bounded memory (failed-flow-groups.ts) and what the report makes of a
 * SYN flood: exact counts, bounded lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFloodCapture } from '../bench/flood-capture';
import { analyzeFiles } from '../src/analysis';
import { MAX_FINDING_CLIENTS, MAX_FINDING_FLOWS } from '../src/diagnose/finding-counts';
import { FailedFlowGroups, MAX_GROUPS, MAX_OTHER_GROUPS, OTHER_SUBNETS, SAMPLE_PER_GROUP } from '../src/flow/failed-flow-groups';
import type { Flow } from '../src/flow/flow';
import type { FlowView } from '../src/flow/flow-view';
import { MAX_LIVE_FLOWS } from '../src/flow/tracker';
import { toReportJson } from '../src/report/json';

let ordinal = 0;

/** The few fields FailedFlowGroups reads, as a tracker's view would give them. */
function attempt(client: string, service = '192.0.2.10:443', outcome: Flow['outcome'] = 'unanswered'): FlowView {
  const octets = client.split('.').map(Number);
  const id = `f${++ordinal}`;
  const v4 = octets.reduce((a, o) => a * 256 + o, 0);
  const flow = { id, clientIp: client, outcome, syns: 1, firstSeen: ordinal } as unknown as Flow;
  return { outcome, clientIpv4: v4, clientIp: client, serverEndpoint: service, syns: 1, toFlow: () => flow } as unknown as FlowView;
}

function add(groups: FailedFlowGroups, view: FlowView): void {
  groups.add(view, view.toFlow());
}

test('groups count every attempt and distinct client exactly and keep a bounded sample', () => {
  const groups = new FailedFlowGroups({ samplePerGroup: 4 });
  for (let i = 0; i < 10; i++) add(groups, attempt(`10.1.2.${i % 6}`));
  add(groups, attempt('10.1.3.1'));
  add(groups, attempt('10.1.2.1', '192.0.2.10:80'));
  const list = groups.list();
  assert.equal(groups.count, 12);
  assert.deepEqual(list.map((g) => [g.clientSubnet, g.service, g.flows, g.clients, g.sample.length]), [
    ['10.1.2.0/24', '192.0.2.10:443', 10, 6, 4],
    ['10.1.3.0/24', '192.0.2.10:443', 1, 1, 1],
    ['10.1.2.0/24', '192.0.2.10:80', 1, 1, 1],
  ]);
  assert.equal(groups.sampled().length, 6);
});

test('a full group table folds its lighter half into one line per service; heavy groups keep their own and totals stay exact', () => {
  const groups = new FailedFlowGroups({ maxGroups: 8, samplePerGroup: 2, maxOtherGroups: 1 });
  for (let i = 0; i < 30; i++) add(groups, attempt('10.50.0.7')); // one heavy subnet
  for (let s = 0; s < 100; s++) for (let c = 0; c < 3; c++) add(groups, attempt(`10.60.${s}.${c}`));
  for (let s = 0; s < 20; s++) add(groups, attempt(`10.70.${s}.1`, '192.0.2.10:22'));
  const list = groups.list();
  assert.equal(groups.count, 30 + 300 + 20);
  assert.equal(list.reduce((n, g) => n + g.flows, 0), 350, 'no attempt lost or counted twice');
  assert.equal(list.reduce((n, g) => n + g.clients, 0), 1 + 300 + 20, 'distinct clients add up across folded groups');
  assert.ok(list.length <= 8 + 1 + 2, `${list.length} lines`);
  assert.deepEqual([list[0]!.clientSubnet, list[0]!.flows], ['10.50.0.0/24', 30]);
  const folded = list.filter((g) => g.clientSubnet === OTHER_SUBNETS);
  assert.ok(folded.length >= 1 && folded.every((g) => g.foldedGroups > 0 && g.sample.length <= 2));
  // Past maxOtherGroups (1), the second service's groups end in the per-outcome line.
  assert.ok(folded.some((g) => g.service === OTHER_SUBNETS));
  assert.ok(groups.sampled().length <= list.length * 2);
});

test('a SYN flood from random spoofed sources: exact counts, one finding with every attempt and client counted, bounded lists and report', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-flood-'));
  try {
    const file = path.join(dir, 'flood.pcap');
    const syns = 60_000; // more than the tracker holds at once (MAX_LIVE_FLOWS)
    writeFloodCapture({ syns, out: file, spoofed: true, answered: false, synsPerSecond: syns / 2 });
    const analysis = analyzeFiles([file]);
    assert.equal(analysis.summary.handshakes.unanswered, syns);
    assert.ok(syns > MAX_LIVE_FLOWS);
    assert.ok(analysis.warnings.some((w) => w.startsWith(`more than ${MAX_LIVE_FLOWS} flows were open at once`)), analysis.warnings.join('\n'));
    assert.ok(analysis.failedGroups.length <= MAX_GROUPS + MAX_OTHER_GROUPS + 3);
    assert.equal(analysis.failedGroups.reduce((n, g) => n + g.flows, 0), syns);
    assert.ok(analysis.flows.length <= analysis.failedGroups.length * SAMPLE_PER_GROUP);
    assert.equal(analysis.flows.length + analysis.flowsLeftOut, syns);
    assert.equal(analysis.findings.length, 1);
    const finding = analysis.findings[0]!;
    assert.equal(finding.code, 'filtered');
    assert.equal(finding.flowCount, syns);
    // Random sources collide now and then: the distinct count is what the groups saw.
    assert.ok(finding.clientCount! > syns * 0.99 && finding.clientCount! <= syns, `clientCount ${finding.clientCount}`);
    assert.match(finding.title, new RegExp(`^${syns} attempts`));
    assert.ok(finding.flows.length <= MAX_FINDING_FLOWS && finding.clients!.length <= MAX_FINDING_CLIENTS);
    assert.ok((finding.evidence['clients'] as string[]).length <= MAX_FINDING_CLIENTS);
    const report = JSON.stringify(toReportJson(analysis));
    assert.ok(report.length < 5_000_000, `report ${report.length} bytes`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a flood of consecutive clients, half answered: per-subnet groups exact, the finding counts the unanswered half', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-flood-'));
  try {
    const file = path.join(dir, 'flood.pcap');
    writeFloodCapture({ syns: 20_000, out: file, spoofed: false, answered: true, synsPerSecond: 20_000 / 2 });
    const analysis = analyzeFiles([file]);
    assert.deepEqual(analysis.summary.handshakes, { attempted: 20_000, completed: 10_000, unanswered: 10_000, rejected: 0, synAckLost: 0 });
    const first = analysis.failedGroups[0]!;
    assert.deepEqual([first.clientSubnet, first.flows, first.clients], ['10.64.0.0/24', 128, 128]);
    const finding = analysis.findings[0]!;
    assert.deepEqual([finding.flowCount, finding.clientCount], [10_000, 10_000]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
