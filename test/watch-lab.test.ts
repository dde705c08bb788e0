import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './cli-harness';
import { freePort } from './free-port';
import { scrapeMetrics } from './metrics-scrape';

/**
 * `synscope watch` on a throw-away namespace's loopback: listeners on BLOCKED and SERVED, an
 * iptables DROP inside the namespace for BLOCKED, and a client connecting to both every 100 ms. The
 * filtered finding must open, show in /metrics, and resolve once the rule is gone; SIGINT
 * must end watch with 0 and no trace instance left, and the --write ring's file, analyzed
 * afterwards, must hold every connection the client made. Needs root.
 */

const CLI = path.join(REPO, 'bin', 'synscope.js');
const BLOCKED = 9090;
const SERVED = 9091;
/** Listens on both ports: the DROP rule is all that stands between the client and BLOCKED. */
const SERVER = `for (const port of [${BLOCKED}, ${SERVED}]) require('net').createServer((s) => { s.resume(); s.on('error', () => {}); }).listen(port, '127.0.0.1')`;
/** Tries both ports every 100 ms (each attempt given up after 500 ms); prints "ok" per connection made. At most 60 s. */
const CLIENT = `const net = require('net');
let rounds = 0;
const timer = setInterval(() => {
  if (++rounds > 600) process.exit(0);
  for (const port of [${BLOCKED}, ${SERVED}]) {
    const s = net.connect(port, '127.0.0.1', () => { console.log('ok'); s.end(); });
    s.setTimeout(500, () => s.destroy());
    s.on('error', () => {});
  }
}, 100);
process.on('SIGTERM', () => { clearInterval(timer); setTimeout(() => process.exit(0), 600); });`;
const DROP_RULE = ['INPUT', '-p', 'tcp', '--dport', String(BLOCKED), '-j', 'DROP'];

interface WatchEvent {
  schema: string;
  type: string;
  code: string;
  subject: string;
  subjectKind: string;
  node: string;
  clients: string[];
  clientCount: number;
  flowCount: number;
  firstSeen: string;
  lastSeen: string;
  window: { index: number; start: string; end: string };
  healthyWindows?: number;
}

test('watch: a DROP rule opens a filtered finding (events and /metrics), removing it resolves it after --resolve-after healthy windows, SIGINT exits 0 cleanly', async () => {
  assert.equal(process.getuid?.(), 0, 'the namespace lab needs root');
  const ns = `sswatch${process.pid}`;
  const children: ChildProcess[] = [];
  const cleanups: (() => void)[] = [];
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const inNs = (...args: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...args], { encoding: 'utf8' });
    inNs('ip', 'link', 'set', 'lo', 'up');
    inNs('iptables', '-A', ...DROP_RULE);
    children.push(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], { stdio: 'ignore' }));
    await waitFor(() => inNs('ss', '-ltnH').includes(`:${BLOCKED}`) && inNs('ss', '-ltnH').includes(`:${SERVED}`), 10_000);

    const port = await freePort();
    const ringDir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-watch-ring-'));
    cleanups.push(() => fs.rmSync(ringDir, { recursive: true, force: true }));
    const watch = spawn(process.execPath, [CLI, 'watch', '--netns', `${ns}:lo`, '--window', '2s', '--resolve-after', '2', '--metrics', `127.0.0.1:${port}`, '--write', ringDir, '--ring', '3', '--ring-size', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(watch);
    let stdout = '';
    let stderr = '';
    watch.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    watch.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => watch.on('exit', (code) => resolve(code)));
    const events = () => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as WatchEvent);
    const about = (type: string) => events().filter((e) => e.type === type && e.code === 'filtered' && e.subject === `127.0.0.1:${BLOCKED}`);
    await waitFor(() => stderr.includes('capturing on'), 15_000);

    const client = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(client);
    let made = 0;
    client.stdout!.on('data', (d: Buffer) => (made += d.toString().split('\n').filter((l) => l === 'ok').length));

    await waitFor(() => about('finding-opened').length > 0, 20_000, () => stdout + stderr);
    const opened = about('finding-opened')[0]!;
    assert.equal(opened.schema, 'synscope.events/1');
    assert.equal(opened.node, os.hostname());
    assert.equal(opened.subjectKind, 'service');
    assert.deepEqual(opened.clients, ['127.0.0.1']);
    assert.equal(opened.clientCount, 1);
    assert.ok(opened.flowCount > 0);
    assert.ok(Date.parse(opened.window.start) < Date.parse(opened.window.end));
    assert.ok(!events().some((e) => e.subject === `127.0.0.1:${SERVED}`), 'the served port is healthy');

    const during = await scrapeMetrics(port);
    assert.equal(during.get('synscope_findings_open{code="filtered",severity="error"}'), 1);
    assert.ok(during.get('synscope_packets_total{interface="lo"}')! > 0);
    assert.equal(during.get('synscope_capture_drops_total{interface="lo"}'), 0);
    assert.ok(during.get('synscope_handshakes_total{outcome="completed"}')! > 0);
    assert.ok(during.get('synscope_handshakes_total{outcome="unanswered"}')! > 0);
    assert.ok(during.get('synscope_windows_total')! >= 1);
    assert.ok(during.has('synscope_window_seconds'));

    inNs('iptables', '-D', ...DROP_RULE);
    await waitFor(() => about('finding-resolved').length > 0, 30_000, () => stdout + stderr);
    const resolved = about('finding-resolved')[0]!;
    assert.equal(resolved.healthyWindows, 2);
    assert.equal(resolved.flowCount, 0);
    assert.equal(resolved.firstSeen, opened.firstSeen);
    const lastFailing = Math.max(...[...about('finding-opened'), ...about('finding-ongoing')].map((e) => e.window.index));
    assert.equal(resolved.window.index, lastFailing + 2, 'resolved in the second healthy window after the last failing one');
    assert.equal(about('finding-opened').length, 1, 'no flapping: opened once');

    // Every connection the client made is a completed handshake in some window: none lost at a window's edge.
    client.kill('SIGTERM');
    await new Promise((resolve) => client.once('exit', resolve));
    const windowsAfterClient = (await scrapeMetrics(port)).get('synscope_windows_total')!;
    await waitFor(async () => (await scrapeMetrics(port)).get('synscope_windows_total')! >= windowsAfterClient + 2, 10_000);
    const after = await scrapeMetrics(port);
    assert.equal(after.get('synscope_handshakes_total{outcome="completed"}'), made);
    assert.equal(after.get('synscope_findings_open{code="filtered",severity="error"}'), 0);

    const stoppedAt = Date.now();
    watch.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    const took = Date.now() - stoppedAt;
    assert.ok(took < 5000, `watch took ${took} ms to stop after SIGINT`);
    assert.deepEqual(traceInstancesOf(watch.pid!), [], 'watch removed its trace instances');
    assert.ok(!stderr.includes('internal error'), stderr);

    // The ring's file, closed at SIGINT with the last window's context beside it, tells the same story.
    const files = fs.readdirSync(ringDir).sort();
    assert.equal(files.length, 2, files.join(' '));
    assert.match(files[1]!, /^synscope-.*_00001_\d{14}\.pcapng$/);
    assert.equal(files[0], files[1]!.replace('.pcapng', '.context.json'));
    const report = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', path.join(ringDir, files[1]!), '--json'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })) as {
      summary: { handshakes: { completed: number } };
      findings: { code: string }[];
    };
    assert.equal(report.summary.handshakes.completed, made, 'the ring holds every connection the client made');
    assert.ok(report.findings.some((f) => f.code === 'filtered'));
  } finally {
    for (const c of children) c.kill('SIGKILL');
    for (const c of cleanups) c();
    execFileSync('ip', ['netns', 'del', ns]);
  }
});
/** The trace instances of process `pid` that exist now (other synscope runs on the machine have their own). */
function traceInstancesOf(pid: number): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-test-tracefs-'));
  execFileSync('mount', ['-t', 'tracefs', 'nodev', dir]);
  try {
    return fs.readdirSync(path.join(dir, 'instances')).filter((n) => n.startsWith(`synscope-${pid}-`));
  } finally {
    execFileSync('umount', [dir]);
    fs.rmdirSync(dir);
  }
}

/** Waits until `condition` holds; on timeout the error says what was awaited and what `state` shows. */
async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, state: () => string = () => ''): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${condition.toString()}\n${state()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
