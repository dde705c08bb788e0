import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { counterDeltas } from '../src/evidence/kernel-counters';
import type { DropEvent } from '../src/evidence/kernel-evidence';
import { startTraceSession, type TraceSession } from '../src/evidence/trace-session';

/**
 * A real trace session: SYNs to a closed port inside a throwaway network namespace must
 * come back as NO_SOCKET drops within the window, and the trace instance and any
 * temporary tracefs mount must be gone afterwards. Needs root (CI runs as root): without
 * it the tests fail, they do not skip. Only the namespace this file creates is touched.
 */
const NS = `sstrace${process.pid}`;
const ATTEMPTS = 20;
const CLOSED_PORT = 9;
const STEP_TIMEOUT_MS = 20_000;
const COUNTERS_JS = path.resolve(__dirname, '../src/evidence/kernel-counters.js');

before(() => {
  assert.equal(process.getuid?.(), 0, 'this test records kernel trace events and builds a network namespace; run the tests as root');
  execFileSync('ip', ['netns', 'add', NS], { stdio: 'pipe' });
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
});

after(() => {
  execFileSync('ip', ['netns', 'del', NS], { stdio: 'pipe' });
});

/**
 * ATTEMPTS connections to a closed port on the namespace's loopback, one after another
 * (each is refused at once; 1 s limit each), with the namespace's counters read before
 * and after by the same code the live mode uses.
 */
function refusedAttemptsInNamespace(): { before: Record<string, number>; after: Record<string, number> } {
  const script = `
    const net = require('node:net');
    const { readKernelCounters } = require(${JSON.stringify(COUNTERS_JS)});
    const attempt = () => new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: ${CLOSED_PORT}, timeout: 1000 });
      const end = (r) => { s.destroy(); resolve(r); };
      s.on('connect', () => end('connected')).on('timeout', () => end('timeout')).on('error', (e) => end(e.code));
    });
    (async () => {
      const before = readKernelCounters();
      const outcomes = [];
      for (let i = 0; i < ${ATTEMPTS}; i++) outcomes.push(await attempt());
      const after = readKernelCounters();
      process.stdout.write(JSON.stringify({ before, after, outcomes }));
    })();`;
  const out = execFileSync('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  const parsed = JSON.parse(out) as { before: Record<string, number>; after: Record<string, number>; outcomes: string[] };
  assert.deepEqual(parsed.outcomes, new Array(ATTEMPTS).fill('ECONNREFUSED'));
  return parsed;
}

function mountedTracefs(): string[] {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'tracefs').map((l) => l.split(' ')[1]!);
}

function assertCleanedUp(session: TraceSession): void {
  assert.equal(fs.existsSync(session.instanceDir), false, `${session.instanceDir} must be removed`);
  if (session.mountPoint !== null) {
    assert.equal(mountedTracefs().includes(session.mountPoint), false, `${session.mountPoint} must be unmounted`);
    assert.equal(fs.existsSync(session.mountPoint), false, `${session.mountPoint} must be removed`);
  }
}

test('trace session: SYNs to a closed port in a throwaway namespace show up as NO_SOCKET drops in the window', () => {
  const started = startTraceSession({ useExistingMount: false });
  assert.ok(started.ok, started.ok ? '' : JSON.stringify(started.unavailable));
  const session = started.session;
  try {
    assert.notEqual(session.mountPoint, null, 'a private tracefs mount was asked for');
    assert.ok(mountedTracefs().includes(session.mountPoint!));
    assert.ok(fs.statSync(session.instanceDir).isDirectory());
    assert.equal(fs.readFileSync(path.join(session.instanceDir, 'trace_clock'), 'utf8').includes('[mono]'), true);

    const from = Date.now() / 1000;
    const counters = refusedAttemptsInNamespace();
    const to = Date.now() / 1000;
    const result = session.stop();

    assertCleanedUp(session);
    assert.deepEqual(result.unavailable, []);
    const noSocket = result.events.filter((e): e is DropEvent => e.kind === 'drop' && e.reason === 'NO_SOCKET' && e.protocol === 0x0800 && e.location?.startsWith('tcp_v4_rcv') === true);
    const inWindow = noSocket.filter((e) => e.at >= from - 0.05 && e.at <= to + 0.05);
    // Other processes on the host may add drops of their own; ours are at least ATTEMPTS.
    assert.ok(inWindow.length >= ATTEMPTS, `${inWindow.length} NO_SOCKET drops in the window, ${noSocket.length} in all`);
    assert.ok(result.events.every((e, i) => i === 0 || result.events[i - 1]!.at <= e.at), 'events in time order');

    const deltas = counterDeltas(NS, counters.before, counters.after, to - from);
    assert.equal(deltas.namespace, NS);
    assert.equal(deltas.deltas['Tcp.OutRsts'], ATTEMPTS, 'the namespace answered each SYN with a RST');
    assert.equal(deltas.deltas['Tcp.AttemptFails'], ATTEMPTS);
  } finally {
    session.abort();
  }
});

test('trace session: with the default mount choice, stop() and abort() leave nothing behind', () => {
  const started = startTraceSession();
  assert.ok(started.ok, started.ok ? '' : JSON.stringify(started.unavailable));
  const session = started.session;
  assert.ok(fs.existsSync(session.instanceDir));
  assert.equal(session.instanceDir.includes(`/instances/synscope-${process.pid}-`), true);
  session.abort();
  assertCleanedUp(session);
  assert.deepEqual(session.stop().events, [], 'stop() after abort() reads nothing');
  session.abort();
});

test('trace session: a process that exits without stop() removes its instance and mount', () => {
  const sessionJs = path.resolve(__dirname, '../src/evidence/trace-session.js');
  const script = `
    const { startTraceSession } = require(${JSON.stringify(sessionJs)});
    const started = startTraceSession({ useExistingMount: false });
    if (!started.ok) throw new Error(JSON.stringify(started.unavailable));
    process.stdout.write(JSON.stringify({ instanceDir: started.session.instanceDir, mountPoint: started.session.mountPoint }));
    process.exit(0);`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: STEP_TIMEOUT_MS })) as { instanceDir: string; mountPoint: string };
  assert.equal(fs.existsSync(out.instanceDir), false);
  assert.equal(mountedTracefs().includes(out.mountPoint), false);
  assert.equal(fs.existsSync(out.mountPoint), false);
});
