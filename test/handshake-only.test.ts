import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';

interface Finding { code: string; severity: string; confidence: string; explanation: string; evidence: Record<string, unknown> }

async function findings(name: string): Promise<Finding[]> {
  const r = await runCli('analyze', path.join(REPO, 'test', 'fixtures', 'capture', `${name}-syn-only.pcapng`), '--json');
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
}

test('a capture of handshakes only (tcp[tcpflags] & tcp-syn != 0) of a healthy host: no lost SYN-ACK, one warning that says why', async () => {
  const f = await findings('healthy');
  assert.deepEqual(f.map((x) => [x.code, x.severity]), [['capture-incomplete', 'warning']], 'every answered attempt lacks its ACK only because the filter left it out');
  assert.deepEqual([f[0]!.evidence.handshakeOnly, f[0]!.evidence.rstsCaptured], [true, false]);
  assert.match(f[0]!.explanation, /a SYN-ACK lost on the way cannot be told from one answered/);
});

test('handshakes only: a client that sent SYNs again after a prompt SYN-ACK still shows the SYN-ACK lost', async () => {
  const f = await findings('syn-ack-lost');
  const lost = f.filter((x) => x.code === 'syn-ack-lost');
  assert.equal(lost.length, 1);
  assert.deepEqual(lost[0]!.evidence.clients, ['10.40.0.20']);
  assert.equal(lost[0]!.confidence, 'medium', 'lowered: the capture is incomplete');
});

test('handshakes only: a full accept queue still shows (late answers), counted against the SYN-ACKed attempts, with the timestamp drop not ruled out', async () => {
  const f = await findings('accept-queue-overflow');
  const overflow = f.find((x) => x.code === 'listen-overflow');
  assert.ok(overflow !== undefined, JSON.stringify(f.map((x) => x.code)));
  assert.ok(!f.some((x) => x.code === 'syn-ack-lost'));
  assert.match(overflow.explanation, /cannot be ruled out/);
});
