import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';

interface Report {
  summary: { tcpPackets: number; handshakes: Record<string, number>; decodeProblems: Record<string, number> };
  findings: { code: string; severity: string; confidence: string; evidence: Record<string, unknown> }[];
}

async function analyze(capture: string, context: string): Promise<Report> {
  const r = await runCli('analyze', capture, '--context', context, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

const verdicts = (r: Report) => r.findings.map((f) => [f.code, f.severity, f.confidence, f.evidence.clients]);

test('a capture whose snap length cut the TCP headers after their flags (tcpdump -i any -s 54) gives the full capture\'s verdicts', async () => {
  const scenario = path.join(REPO, 'captures', 'docker-real-icc-off');
  const context = path.join(scenario, 'context.json');
  const full = await analyze(path.join(scenario, 'capture.pcapng'), context);
  const cut = await analyze(path.join(REPO, 'test', 'fixtures', 'capture', 'docker-real-icc-off-snap54.pcapng'), context);
  assert.ok(cut.summary.decodeProblems['truncated-tcp']! > 0, 'the fixture is cut inside the TCP headers');
  assert.equal(cut.summary.tcpPackets, full.summary.tcpPackets);
  assert.deepEqual(cut.summary.handshakes, full.summary.handshakes);
  // Linux 6.18 has no tcp_tw_recycle: nothing here depends on the options the snap length cut.
  assert.deepEqual(verdicts(cut), verdicts(full));
  assert.ok(verdicts(full).length > 0);
});

test('with the SYNs\' timestamps cut away, a PAWS drop is not called a full accept queue with high confidence', async () => {
  const scenario = path.join(REPO, 'captures', 'tw-recycle-nat');
  const context = path.join(scenario, 'context.json');
  const full = await analyze(path.join(scenario, 'capture.pcap'), context);
  assert.ok(full.findings.some((f) => f.code === 'paws-timestamp-reject'));
  const cut = await analyze(path.join(REPO, 'test', 'fixtures', 'capture', 'tw-recycle-nat-snap68.pcap'), context);
  assert.deepEqual(cut.summary.handshakes, full.summary.handshakes);
  for (const f of cut.findings.filter((x) => x.code === 'listen-overflow')) {
    assert.notEqual(f.confidence, 'high', 'without timestamps, a timestamp drop cannot be ruled out');
    assert.match((f as unknown as { explanation: string }).explanation, /cannot be ruled out/);
  }
  assert.ok(cut.findings.some((f) => f.code === 'capture-incomplete' && f.evidence.handshakeOptionsCut === 291));
});
