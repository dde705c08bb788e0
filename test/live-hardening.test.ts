import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCaptureFile } from '../src/capture/open';
import { parseHostContext } from '../src/context/load';
import { removeTraceLeftovers } from '../src/evidence/trace-leftovers';
import { REPO } from './cli-harness';

/**
 * What a `synscope live --write` leaves when it does not end cleanly, and what it writes
 * at all: in a throw-away namespace, connections to a listener on its loopback, each
 * sending a marker string. Needs root.
 */

const CLI = path.join(REPO, 'bin', 'synscope.js');
const MARKER = 'Authorization: secret-XYZ';
const PORT = 8080;

/** A listener that reads and drops what it gets, and a client that connects every 20 ms, sends MARKER and prints when (ms since 1970). */
const SERVER = `require('net').createServer((s) => { s.resume(); s.on('error', () => {}); }).listen(${PORT}, '127.0.0.1')`;
const CLIENT = `const net = require('net');
setInterval(() => {
  const s = net.connect(${PORT}, '127.0.0.1', () => { s.end(${JSON.stringify(MARKER)}); console.log(Date.now()); });
  s.on('error', () => {});
}, 20);
setTimeout(() => process.exit(0), 20000);`;

interface Lab {
  ns: string;
  dir: string;
  children: ChildProcess[];
  afterwards: (() => void)[];
}

async function withLab(name: string, body: (lab: Lab) => Promise<void>): Promise<void> {
  assert.equal(process.getuid?.(), 0, 'the namespace lab needs root');
  const ns = `ss${name}${process.pid}`;
  const lab: Lab = { ns, dir: fs.mkdtempSync(path.join(os.tmpdir(), `synscope-${name}-`)), children: [], afterwards: [] };
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    lab.children.push(spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], { stdio: 'ignore' }));
    await waitFor(() => execFileSync('ip', ['netns', 'exec', ns, 'ss', '-ltnH', `sport = :${PORT}`], { encoding: 'utf8' }).includes(`:${PORT}`), 10_000);
    await body(lab);
  } finally {
    for (const c of lab.children) c.kill('SIGKILL');
    for (const f of lab.afterwards) f();
    execFileSync('ip', ['netns', 'del', ns]);
    fs.rmSync(lab.dir, { recursive: true, force: true });
  }
}

/** Starts synscope live in the lab and waits for its "capturing on" line. */
async function startLive(lab: Lab, args: string[]): Promise<{ child: ChildProcess; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null }> }> {
  const child = spawn(process.execPath, [CLI, 'live', '--netns', `${lab.ns}:lo`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  await waitFor(() => stderr.includes('capturing on'), 15_000);
  return { child, stderr: () => stderr, exited };
}

/** Starts the client; `sent()` lists when each marker went out. */
function startClient(lab: Lab): { sent: () => number[] } {
  const child = spawn('ip', ['netns', 'exec', lab.ns, process.execPath, '-e', CLIENT], { stdio: ['ignore', 'pipe', 'ignore'] });
  lab.children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { sent: () => out.split('\n').filter((l) => l !== '').map(Number) };
}

function tracefsMounts(): string[] {
  return fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'tracefs')
    .map((f) => f[1]!);
}

/** Calls `fn` with a private tracefs mount. */
function withTracefs<T>(fn: (root: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-test-tracefs-'));
  execFileSync('mount', ['-t', 'tracefs', 'nodev', dir]);
  try {
    return fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    fs.rmdirSync(dir);
  }
}

/** The synscope trace instances that exist now. */
function traceInstances(): string[] {
  return withTracefs((root) => fs.readdirSync(path.join(root, 'instances')).filter((n) => n.startsWith('synscope-')));
}

interface WrittenPacket {
  caplen: number;
  origLen: number;
  at: number;
  syn: boolean;
}

function readWritten(file: string): { packets: WrittenPacket[]; truncatedAt: number | null } {
  const reader = openCaptureFile(file);
  try {
    const packets: WrittenPacket[] = [];
    for (let rec = reader.next(); rec !== null; rec = reader.next()) {
      // Ethernet on loopback: 14 + IPv4 header; TCP flags at byte 13 of the TCP header.
      const ihl = (rec.data[rec.offset + 14]! & 0x0f) * 4;
      const flags = rec.caplen > 14 + ihl + 13 ? rec.data[rec.offset + 14 + ihl + 13]! : 0;
      packets.push({ caplen: rec.caplen, origLen: rec.origLen, at: rec.tsSec + rec.tsNsec / 1e9, syn: (flags & 0x12) === 0x02 });
    }
    return { packets, truncatedAt: reader.stats.truncatedAt };
  } finally {
    reader.close();
  }
}

test('kill -9 of live --write leaves a readable capture up to the last second and a context file; the next run removes its trace instance and mount', async () => {
  await withLab('kill', async (lab) => {
    const out = path.join(lab.dir, 'kill.pcapng');
    const mountsBefore = new Set(tracefsMounts());
    const live = await startLive(lab, ['--write', out]);
    const client = startClient(lab);
    await waitFor(() => {
      const sent = client.sent();
      return sent.length > 0 && sent[sent.length - 1]! - sent[0]! >= 2500;
    }, 20_000);
    const killedPid = live.child.pid!;
    live.child.kill('SIGKILL');
    // Should an assertion fail before the next run sweeps, the machine is not left with the killed run's instance.
    lab.afterwards.push(() => withTracefs((root) => removeTraceLeftovers(root, root)));
    const killedAt = Date.now();
    await live.exited;
    const sentBefore = client.sent().filter((t) => t <= killedAt - 1000).length;
    const leftoverMounts = tracefsMounts().filter((m) => !mountsBefore.has(m) && path.basename(m).startsWith('synscope-tracefs-'));
    const leftoverInstances = traceInstances().filter((n) => n.startsWith(`synscope-${killedPid}-`));
    assert.equal(leftoverInstances.length, 1, 'the killed run left its trace instance (else this test proves nothing)');
    assert.ok(leftoverMounts.length === 1 || ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].some((m) => mountsBefore.has(m)), 'it left its temporary tracefs mount, unless tracefs was mounted already');

    const dump = spawnSync('tcpdump', ['-nr', out], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    const written = readWritten(out);
    assert.equal(written.truncatedAt, null, 'the file ends on a whole block');
    const syns = written.packets.filter((p) => p.syn).length;
    assert.ok(sentBefore >= 20, `traffic flowed (${sentBefore} connections before the last second)`);
    assert.ok(syns >= sentBefore, `the file holds the ${sentBefore} connections made at least 1 s before the kill (it has ${syns} SYNs)`);
    assert.equal(dump.stdout.trim().split('\n').length, written.packets.length);
    const analyzed = spawnSync(process.execPath, [CLI, 'analyze', out, '--json'], { encoding: 'utf8' });
    assert.equal(analyzed.status, 0, analyzed.stderr);
    assert.ok((JSON.parse(analyzed.stdout) as { summary: { handshakes: { completed: number } } }).summary.handshakes.completed >= sentBefore);

    const contextFile = path.join(lab.dir, 'kill.context.json');
    const context = parseHostContext(fs.readFileSync(contextFile, 'utf8'), contextFile);
    assert.ok(context.unavailable.some((u) => u.source === 'kernel evidence'), 'the context says it was not completed');

    const next = await startLive(lab, ['--duration', '1s']);
    assert.equal((await next.exited).code, 0, next.stderr());
    assert.deepEqual(traceInstances().filter((n) => n.startsWith(`synscope-${killedPid}-`)), []);
    for (const m of leftoverMounts) {
      assert.ok(!tracefsMounts().includes(m), `${m} is unmounted`);
      assert.ok(!fs.existsSync(m), `${m} is removed`);
    }
  });
});

test('a second SIGINT exits 130 at once during a capture', async () => {
  await withLab('twice', async (lab) => {
    const live = await startLive(lab, ['--write', path.join(lab.dir, 'twice.pcapng')]);
    const client = startClient(lab);
    await waitFor(() => client.sent().length >= 20, 10_000);
    live.child.kill('SIGINT');
    await waitFor(() => !signalPending(live.child.pid!, 'SIGINT'), 5_000);
    const second = Date.now();
    live.child.kill('SIGINT');
    const end = await live.exited;
    const took = Date.now() - second;
    assert.equal(end.code, 130, live.stderr());
    assert.ok(took < 2000, `exited ${took} ms after the second SIGINT`);
  });
});

test('a second SIGINT exits 130 at once while JavaScript is busy (as when building a report)', async () => {
  // What live arms: a JavaScript listener that stops on the first signal, the addon in front of it.
  const script = `
    const { exitOnSecondSignal } = require(${JSON.stringify(path.join(REPO, 'dist', 'src', 'live', 'second-signal.js'))});
    let first = 0;
    process.on('SIGINT', () => { first++; });
    process.on('SIGTERM', () => { first++; });
    exitOnSecondSignal(['SIGINT', 'SIGTERM']);
    process.stdout.write('ready\\n');
    const until = Date.now() + 20000;
    while (Date.now() < until);
    process.exit(first === 0 ? 3 : 0);`;
  for (const second of ['SIGINT', 'SIGTERM'] as const) {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(() => out.includes('ready'), 10_000);
    child.kill('SIGINT');
    await waitFor(() => !signalPending(child.pid!, 'SIGINT'), 5_000);
    const sent = Date.now();
    child.kill(second);
    const end = await exited;
    const took = Date.now() - sent;
    assert.deepEqual(end, { code: 130, signal: null }, `SIGINT then ${second}`);
    assert.ok(took < 2000, `exited ${took} ms after the second signal`);
  }
});

test('live --write keeps no payload: each packet is cut after its headers with its original length; --keep-payload keeps it', async () => {
  await withLab('payload', async (lab) => {
    for (const keep of [false, true]) {
      const out = path.join(lab.dir, `${keep ? 'kept' : 'cut'}.pcapng`);
      const live = await startLive(lab, ['--write', out, ...(keep ? ['--keep-payload'] : [])]);
      const client = startClient(lab);
      await waitFor(() => client.sent().length >= 5, 10_000);
      lab.children.pop()!.kill('SIGKILL');
      live.child.kill('SIGINT');
      assert.equal((await live.exited).code, 0, live.stderr());
      const bytes = fs.readFileSync(out);
      const written = readWritten(out);
      // A segment carrying the marker: 14 Ethernet + 20 IPv4 + 32 TCP (timestamps) + the marker.
      const carriers = written.packets.filter((p) => p.origLen === 14 + 20 + 32 + MARKER.length);
      assert.ok(carriers.length >= 5, `${carriers.length} segments with the marker were written`);
      if (keep) {
        assert.ok(bytes.includes(MARKER));
        assert.ok(carriers.every((p) => p.caplen === p.origLen));
      } else {
        assert.ok(!bytes.includes(MARKER), 'no marker bytes in the file');
        assert.ok(!bytes.includes('secret-XYZ'));
        assert.ok(carriers.every((p) => p.caplen === 14 + 20 + 32), 'cut right after the TCP options');
      }
    }
  });
});

/** Whether `signal` waits to be delivered to process `pid` (two kills in a row would merge into one delivery). */
function signalPending(pid: number, signal: NodeJS.Signals): boolean {
  const bit = 1n << BigInt(os.constants.signals[signal] - 1);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & bit) !== 0n);
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('live -c N stops by itself after N packets, written and analyzed; -q prints no progress or "capturing on" line', async () => {
  await withLab('count', async (lab) => {
    const out = path.join(lab.dir, 'counted.pcapng');
    const live = await startLive(lab, ['-c', '30', '--write', out, '--json']);
    const client = startClient(lab);
    const ended = await Promise.race([live.exited, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    assert.notEqual(ended, null, 'live -c 30 did not stop by itself');
    assert.equal(ended!.code, 0, live.stderr());
    assert.ok(client.sent().length > 0);
    assert.equal(readWritten(out).packets.length, 30);

    const quiet = spawn(process.execPath, [CLI, 'live', '--netns', `${lab.ns}:lo`, '-q', '-c', '10', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    quiet.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    quiet.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => quiet.kill('SIGKILL'), 20_000);
      quiet.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, stderr);
    assert.equal(JSON.parse(stdout).summary.packets, 10);
    assert.doesNotMatch(stderr, /capturing on|packets/);
  });
});

test('live -c N -w - writes pcapng to standard output that tshark reads, and the report to stderr or --report', async () => {
  await withLab('stdout', async (lab) => {
    startClient(lab);
    const report = path.join(lab.dir, 'report.json');
    // The pipe as an operator types it: tshark reads what synscope writes, as it is written.
    const piped = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `"${process.execPath}" "${CLI}" live --netns ${lab.ns}:lo -c 40 -w - --report ${report} --json | tshark -r - -T fields -e frame.number -e tcp.dstport`],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(piped.status, 0, piped.stderr);
    const frames = piped.stdout.trim().split('\n');
    assert.equal(frames.length, 40, piped.stdout);
    assert.ok(frames.some((l) => l.endsWith(`\t${PORT}`)), 'tshark saw no packet to the listener');
    assert.equal(JSON.parse(fs.readFileSync(report, 'utf8')).summary.packets, 40);

    const toStderr = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" live --netns ${lab.ns}:lo -q -c 10 -f tcp -w - > ${lab.dir}/out.pcapng`], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(toStderr.status, 0, toStderr.stderr);
    assert.match(toStderr.stderr, /^Handshakes$/m, 'the text report goes to stderr when -w - holds stdout');
    assert.match(toStderr.stderr, /the filter 'tcp' keeps no ICMP errors about TCP .* -f '\(tcp\) or icmp or icmp6 or arp'/);
    assert.equal(readWritten(path.join(lab.dir, 'out.pcapng')).packets.length, 10);
    assert.equal(fs.existsSync(path.join(lab.dir, '-.context.json')) || fs.existsSync('-.context.json'), false);
  });
});

/** Sizes in bytes of the packet-socket rings mapped into process `pid` (libpcap's TPACKET ring shows as a shared socket mapping). */
function captureRings(pid: number): number[] {
  return fs
    .readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((l) => / rw-s .* socket:\[\d+\]$/.test(l))
    .map((l) => {
      const [from, to] = l.split(' ')[0]!.split('-').map((h) => parseInt(h, 16)) as [number, number];
      return to - from;
    });
}

test('live -B KiB sizes the kernel capture ring per interface (default 32 MiB)', async () => {
  await withLab('ring', async (lab) => {
    for (const [args, kib] of [[['-B', '4096'], 4096], [[], 32 * 1024]] as const) {
      const live = await startLive(lab, [...args, '--duration', '30s', '--json']);
      try {
        const rings = captureRings(live.child.pid!);
        assert.equal(rings.length, 1, `one ring for one interface: ${rings.join(', ')}`);
        // libpcap rounds the ring up to whole blocks: within 10 % above the asked size.
        assert.ok(rings[0]! >= kib * 1024 && rings[0]! <= kib * 1024 * 1.1, `ring of ${rings[0]} bytes for -B ${kib}`);
      } finally {
        live.child.kill('SIGINT');
        await live.exited;
      }
    }
  });
});
