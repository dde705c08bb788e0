import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { kernelAvailability, kernelAvailabilityText } from '../src/evidence/kernel-availability';
import { KernelWindow } from '../src/live/kernel-window';
import { KernelAvailabilityLog } from '../src/watch/kernel-availability-log';
import { WatchMetrics } from '../src/watch/metrics';
import { REPO } from './cli-harness';

const DENIED = 'no tracefs mounted, and mounting one failed: mount: permission denied';

test('kernel evidence availability: a trace session that did not start gives its tracefs reason, an unreadable namespace its counters', () => {
  assert.deepEqual(kernelAvailability(true, []), [
    { source: 'tracefs', available: true },
    { source: 'counters', available: true },
  ]);
  assert.deepEqual(kernelAvailability(false, [{ source: 'counters of pid:7', reason: 'ENOENT' }, { source: 'tracefs', reason: DENIED }]), [
    { source: 'tracefs', available: false, reason: DENIED },
    { source: 'counters', available: false, reason: 'counters of pid:7: ENOENT' },
  ]);
  // Only the events missing (an old kernel): the session's own note is the reason.
  assert.deepEqual(kernelAvailability(false, [{ source: 'skb:kfree_skb', reason: 'this kernel has no skb:kfree_skb trace event' }])[0], {
    source: 'tracefs',
    available: false,
    reason: 'this kernel has no skb:kfree_skb trace event',
  });
  assert.equal(
    kernelAvailabilityText(kernelAvailability(false, [{ source: 'tracefs', reason: DENIED }])),
    `kernel evidence: tracefs unavailable (${DENIED}); counters available`,
  );
});

test('the kernel-evidence event body comes at the start and again only when availability changes', () => {
  const log = new KernelAvailabilityLog();
  const denied = kernelAvailability(false, [{ source: 'tracefs', reason: DENIED }]);
  assert.deepEqual(log.observe('node1', 0, denied), { node: 'node1', window: 0, sources: denied });
  assert.equal(log.observe('node1', 1, kernelAvailability(false, [{ source: 'tracefs', reason: DENIED }])), null);
  const back = kernelAvailability(true, []);
  assert.deepEqual(log.observe('node1', 2, back), { node: 'node1', window: 2, sources: back });
  assert.equal(log.observe('node1', 3, back), null);
});

test('the kernel evidence gauge: one sample per source, 0 or 1, absent until watch knows', () => {
  const m = new WatchMetrics(['eth0']);
  assert.ok(!m.exposition().includes('synscope_kernel_evidence_available'));
  m.setKernelAvailability(kernelAvailability(false, [{ source: 'tracefs', reason: DENIED }]));
  const lines = m.exposition().split('\n').filter((l) => l.startsWith('synscope_kernel_evidence_available'));
  assert.deepEqual(lines, ['synscope_kernel_evidence_available{source="tracefs"} 0', 'synscope_kernel_evidence_available{source="counters"} 1']);
  m.setKernelAvailability(kernelAvailability(true, []));
  assert.ok(m.exposition().includes('synscope_kernel_evidence_available{source="tracefs"} 1\n'));
});

test("a kernel window's availability: --no-trace says so, a namespace that cannot be entered loses the counters", () => {
  const window = new KernelWindow([null, { path: '/nonexistent/synscope-netns', label: 'gone' }], false);
  window.begin();
  const now = window.availability();
  window.end();
  assert.deepEqual(now[0], { source: 'tracefs', available: false, reason: 'not asked for (--no-trace)' });
  assert.equal(now[1]!.source, 'counters');
  assert.equal(now[1]!.available, false);
  assert.match(now[1]!.reason!, /^counters of gone: /);
});

test('watch writes one kernel-evidence event at its start (and a line on stderr) and none for later windows that collect the same', { timeout: 60_000 }, async () => {
  assert.equal(process.getuid?.(), 0, 'capture needs root; run the tests as root');
  // A network namespace of its own (unshare -n, exec'd through to node: one PID), so watch captures on a loopback no one else uses.
  const cli = path.join(REPO, 'bin', 'synscope.js');
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" "${cli}" watch -i lo --no-trace --window 1s --metrics 127.0.0.1:9464`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** The metrics, read from inside watch's namespace; '' until they answer. */
  const metrics = () => spawnSync('nsenter', ['-t', String(child.pid), '-n', 'curl', '-sf', '--max-time', '2', 'http://127.0.0.1:9464/metrics'], { encoding: 'utf8' }).stdout ?? '';
  const windows = (text: string) => Number(/^synscope_windows_total (\d+)$/m.exec(text)?.[1] ?? 0);
  // Three windows concluded: the 2nd and 3rd must not repeat the event.
  const deadline = Date.now() + 40_000;
  let text = '';
  while (windows((text = metrics())) < 3 && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.ok(windows(text) >= 3, `watch did not conclude 3 windows in 40 s:\n${stderr}`);
  assert.match(text, /^synscope_kernel_evidence_available\{source="tracefs"\} 0$/m);
  assert.match(text, /^synscope_kernel_evidence_available\{source="counters"\} 1$/m);
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; node: string; window: number; sources: unknown });
  const kernel = events.filter((e) => e.type === 'kernel-evidence');
  assert.equal(kernel.length, 1, stdout);
  assert.deepEqual(kernel[0]!.sources, [
    { source: 'tracefs', available: false, reason: 'not asked for (--no-trace)' },
    { source: 'counters', available: true },
  ]);
  assert.equal(kernel[0]!.window, 0);
  assert.match(stderr, /^synscope: kernel evidence: tracefs unavailable \(not asked for \(--no-trace\)\); counters available$/m);
  assert.equal(stderr.match(/^synscope: kernel evidence/gm)?.length, 1, stderr);
});
