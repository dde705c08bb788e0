import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureBackend } from '../src/live/capture-backend';
import { captureDropWarnings } from '../src/live/capture-drops';
import { parseDuration } from '../src/live/duration';
import { interfaceName, runLiveCapture } from '../src/live/live-capture';
import { writeReportJson } from '../src/report/json';

test('live interface names: the first target namespace keeps plain names, every other one is qualified', () => {
  const sbox = { path: '/run/netns/sbox', label: 'sbox' };
  const other = { path: '/proc/42/ns/net', label: 'pid:42' };
  assert.equal(interfaceName({ device: 'eth0', namespace: null }, null), 'eth0');
  assert.equal(interfaceName({ device: 'eth1', namespace: sbox }, sbox), 'eth1');
  assert.equal(interfaceName({ device: 'eth0', namespace: other }, sbox), 'eth0@pid:42');
  // `--netns sbox:eth0 -i eth0`: the host's eth0 must not merge with sbox's.
  assert.equal(interfaceName({ device: 'eth0', namespace: null }, sbox), 'eth0@host');
});

test('live --duration: units, and no value past what a timer can wait', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('2'), 2000);
  assert.equal(parseDuration('24h'), 86_400_000);
  for (const bad of ['0', '-1s', 'soon', '1000h', '30d']) assert.throws(() => parseDuration(bad), /--duration/);
});

test('capture drops (ps_drop, ps_ifdrop, trace ring) reach the JSON warnings', async () => {
  const backend: CaptureBackend = {
    name: 'native',
    open: () => ({ linkType: 1, poll: () => 0, stats: () => ({ received: 1000, dropped: 7, ifDropped: 3 }), close: () => undefined }),
  };
  const result = await runLiveCapture(
    { targets: [{ device: 'lo', namespace: null }], backend, filter: '', snaplen: 256, bufferBytes: 1 << 20, durationMs: 10, write: null, analyze: {}, trace: false },
    new AbortController().signal,
  );
  let json = '';
  writeReportJson(result.analysis, (chunk) => (json += chunk));
  const warnings = (JSON.parse(json) as { warnings: string[] }).warnings;
  assert.ok(warnings.some((w) => /^lo: the capture dropped 7 of 1000 packets .*ps_drop/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /^lo: the interface or its driver dropped 3 packets .*ps_ifdrop/.test(w)), warnings.join('\n'));
  assert.deepEqual(captureDropWarnings([{ name: 'eth0', stats: null }, { name: 'eth1', stats: { received: 5, dropped: 0, ifDropped: 0 } }], 0), []);
  assert.match(captureDropWarnings([], 12)[0]!, /^tracefs: 12 kernel trace events were lost/);
});
