import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { toReportJson, writeReportJson } from '../src/report/json';
import { REPO, runCli, STACK_LINE } from './cli-harness';
import { tempDir } from './temp-dir';

const OVERLAP = path.join(REPO, 'captures', 'docker0-overlap', 'capture.pcapng');
const REFUSALS = path.join(REPO, 'captures', 'refusals', 'capture.pcapng');

function tmpFile(name: string, bytes: Uint8Array): string {
  const dir = tempDir('synscope-cli-');
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

test('--help lists the commands and analyze --help shows examples', async () => {
  const top = await runCli('--help');
  assert.equal(top.code, 0);
  assert.match(top.stdout, /analyze/);
  const sub = await runCli('analyze', '--help');
  assert.equal(sub.code, 0);
  assert.match(sub.stdout, /Examples:/);
  assert.match(sub.stdout, /--bridge <NAME=CIDR>/);
});

test('a missing file is one line naming it, exit 2', async () => {
  const r = await runCli('analyze', '/nonexistent/x.pcap');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /\/nonexistent\/x\.pcap/);
  assert.match(r.stderr, /ERR_READ_FAILED/);
});

test('a file that is not a capture names the file and byte 0, exit 2, no stack', async () => {
  const p = tmpFile('notes.pcap', Buffer.from('this is not a capture file at all\n'));
  const r = await runCli('analyze', p);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: byte 0: .*ERR_BAD_MAGIC`));
  assert.doesNotMatch(r.stderr, STACK_LINE);
});

test('bad usage exits 2: unknown option, bad --bridge, bad --fail-on, no files, a ring size out of range', async () => {
  for (const args of [
    ['analyze', '--frobnicate', REFUSALS],
    ['analyze', '--bridge', 'docker0', REFUSALS],
    ['analyze', '--bridge', 'docker0=300.1.0.0/16', REFUSALS],
    ['analyze', '--fail-on', 'fatal', REFUSALS],
    ['analyze'],
    ['live', '-i', 'lo', '-B', '12'],
    ['live', '-i', 'lo', '-B', 'lots'],
  ]) {
    const r = await runCli(...args);
    assert.equal(r.code, 2, `exit code for ${args.join(' ')}`);
    assert.ok(r.stderr.length > 0, `a message for ${args.join(' ')}`);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  }
});

test('refusals: RST, ICMP admin-prohibited and a silent DROP each get their verdict', async () => {
  const r = await runCli('analyze', REFUSALS, '--json');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.schema, 'synscope.report/2');
  const h = report.summary.handshakes;
  assert.deepEqual(h, { attempted: 4, completed: 1, unanswered: 1, rejected: 2, synAckLost: 0 });
  assert.equal(h.attempted, h.completed + h.rejected + h.synAckLost + h.unanswered);
  const byCode = (code: string) => report.findings.filter((f: { code: string }) => f.code === code);
  const rejected = byCode('rejected');
  assert.equal(rejected.length, 2);
  assert.deepEqual(rejected.map((f: { evidence: { service: string } }) => f.evidence.service).sort(), ['192.0.2.1:8081', '192.0.2.1:8083']);
  assert.ok(rejected.some((f: { evidence: { how: string } }) => /administratively prohibited/.test(f.evidence.how)));
  assert.ok(rejected.some((f: { evidence: { how: string } }) => f.evidence.how === 'RST'));
  const filtered = byCode('filtered');
  assert.equal(filtered.length, 1);
  assert.equal(filtered[0].evidence.service, '192.0.2.1:8082');
  assert.ok(filtered[0].evidence.syns >= 3, 'retransmitted SYNs are counted in one attempt');
  assert.equal(report.flows.length, 3, 'only the failed attempts are listed by default');
});

test('--all-flows lists the completed handshake too', async () => {
  const r = await runCli('analyze', REFUSALS, '--json', '--all-flows');
  const report = JSON.parse(r.stdout);
  assert.ok(report.flows.some((f: { state: string; outcome: string }) => f.outcome === 'completed' && f.state === 'SF'));
});

test('docker0 overlap: --bridge names docker0 and only the client inside its subnet', async () => {
  const r = await runCli('analyze', OVERLAP, '--json', '--bridge', 'docker0=172.17.0.0/16');
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const overlap = report.findings.filter((f: { code: string }) => f.code === 'bridge-subnet-overlap');
  assert.equal(overlap.length, 1);
  assert.equal(overlap[0].evidence.bridge, 'docker0');
  assert.equal(overlap[0].evidence.subnet, '172.17.0.0/16');
  assert.deepEqual(overlap[0].evidence.clients, ['172.17.0.50']);
  assert.ok(overlap[0].evidence.arpRequestsOnBridge.length > 0, 'ARP for the client on docker0 is evidence');
  assert.equal(overlap[0].confidence, 'high');
  const proposed = overlap[0].evidence.proposedSubnet as string;
  assert.ok(proposed && !proposed.startsWith('172.17.'), `proposed ${proposed}`);
  assert.ok(overlap[0].remedy.some((line: string) => line.includes('"bip"')));
  assert.equal(report.findings.filter((f: { code: string }) => f.code === 'filtered').length, 0, 'the overlap explains the silence');
});

test('docker0 overlap without --bridge: the host ARPing for the client on docker0 names the overlap, subnet unknown, and --fail-on error exits 1', async () => {
  const r = await runCli('analyze', OVERLAP, '--fail-on', 'error');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /ERROR bridge-subnet-overlap \(confidence high\): 1 client gets no answer: this host sends the replies\s+into docker0/);
  assert.doesNotMatch(r.stdout, /ERROR filtered/);
  assert.match(r.stdout, /172\.17\.0\.50/);
  const ok = await runCli('analyze', OVERLAP, '--fail-on', 'error', '--bridge', 'docker_gwbridge=10.99.0.0/16');
  assert.equal(ok.code, 1, 'an unrelated bridge changes nothing');
});

test('a capture cut off mid-record is analyzed up to the cut, with a one-line warning, exit 0', async () => {
  const whole = fs.readFileSync(REFUSALS);
  const p = tmpFile('cut.pcapng', whole.subarray(0, whole.length - 37));
  const r = await runCli('analyze', p);
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stderr.trim().split('\n');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /ends in the middle of a record at byte \d+/);
  assert.match(r.stdout, /capture-incomplete/);
});

test('the streamed JSON report is exactly JSON.stringify of the report document', async () => {
  for (const args of [[REFUSALS], [OVERLAP]]) {
    for (const allFlows of [false, true]) {
      const a = analyzeFiles(args, { allFlows });
      let streamed = '';
      writeReportJson(a, (c) => (streamed += c));
      assert.equal(streamed, JSON.stringify(toReportJson(a), null, 2) + '\n');
    }
  }
  const empty = analyzeFiles([path.join(REPO, 'test', 'fixtures', 'corpus', 'tcpdump', 'empty.pcap')]);
  let streamed = '';
  writeReportJson(empty, (c) => (streamed += c));
  assert.equal(streamed, JSON.stringify(toReportJson(empty), null, 2) + '\n');
});

test('--context: the bridge subnets of a host snapshot find the overlap without --bridge', async () => {
  const snapshot = {
    schema: 'synscope.context/1',
    capturedAt: '2026-11-22T10:41:00.000Z',
    hostname: 'lab-host',
    namespace: 'host',
    kernelRelease: '6.1.0',
    interfaces: [
      { name: 'eth0', index: 2, kind: 'physical', mac: null, mtu: 1500, up: true, addresses: [{ family: 4, address: '192.0.2.1', prefixLength: 24 }], master: null, ports: [] },
      { name: 'docker0', index: 3, kind: 'bridge', mac: null, mtu: 1500, up: true, addresses: [{ family: 4, address: '172.17.0.1', prefixLength: 16 }], master: null, ports: [] },
    ],
  };
  const p = tmpFile('host.json', Buffer.from(JSON.stringify(snapshot)));
  const r = await runCli('analyze', OVERLAP, '--json', '--context', p);
  assert.equal(r.code, 0, r.stderr);
  const overlap = JSON.parse(r.stdout).findings.filter((f: { code: string }) => f.code === 'bridge-subnet-overlap');
  assert.equal(overlap.length, 1);
  assert.equal(overlap[0].evidence.bridge, 'docker0');
  assert.equal(overlap[0].evidence.bridgeSource, 'context');
  assert.deepEqual(overlap[0].evidence.clients, ['172.17.0.50']);

  const bad = tmpFile('bad.json', Buffer.from('{"schema": "something/else"}'));
  const refused = await runCli('analyze', OVERLAP, '--context', bad);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /bad\.json.*ERR_BAD_CONTEXT/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
});
