import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCaptureFile } from '../src/capture/open';
import { REPO, runCli, STACK_LINE } from './cli-harness';

/**
 * `synscope live` in real network namespaces: the docker_gwbridge ingress lab of
 * test/lab/gwbridge-topology.sh (client namespaces, a node with docker_gwbridge and
 * Docker's DNAT rules, an ingress_sbox behind the bridge), with bounded traffic.
 * Needs root (CI runs as root).
 */
interface LiveRun {
  dir: string;
  code: number;
  report: Report;
  stderr: string;
}

interface Report {
  inputs: { source: string; format: string; interfaces: string[]; packets: number; droppedByCapture: number | null }[];
  summary: { packets: number; handshakes: { attempted: number; completed: number; unanswered: number } };
  findings: { code: string; evidence: Record<string, unknown> }[];
  flows: unknown[];
}

function liveLab(mode: 'bridge' | 'container' | 'pid', backend = 'auto'): LiveRun {
  assert.equal(process.getuid?.(), 0, 'the namespace lab needs root (ip netns add); run the tests as root');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-live-${mode}-`));
  execFileSync('bash', [path.join(REPO, 'test', 'lab', 'live-gwbridge.sh'), dir, mode, backend], { stdio: 'pipe', timeout: 60_000 });
  const stderr = fs.readFileSync(path.join(dir, 'stderr.txt'), 'utf8');
  const code = Number(fs.readFileSync(path.join(dir, 'exit-code'), 'utf8'));
  assert.equal(code, 0, stderr);
  return { dir, code, stderr, report: JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report };
}

function findingCodes(report: Report): string[] {
  return report.findings.map((f) => f.code);
}

test('live on the uplink and docker_gwbridge names the overlap and only the client inside the subnet', () => {
  const { report, dir } = liveLab('bridge');
  assert.deepEqual(
    report.inputs.map((i) => [i.source, i.format, i.interfaces]),
    [
      ['live:eth0', 'live', ['eth0']],
      ['live:docker_gwbridge', 'live', ['docker_gwbridge']],
    ],
  );
  assert.ok(report.inputs.every((i) => i.packets > 0 && i.droppedByCapture === 0), JSON.stringify(report.inputs));
  // Two good connections and the office client's attempt, counted once across both hops (DNAT).
  assert.equal(report.summary.handshakes.attempted, 3);
  assert.equal(report.summary.handshakes.completed, 2);
  const overlap = report.findings.find((f) => f.code === 'bridge-subnet-overlap');
  assert.ok(overlap, `findings: ${findingCodes(report).join(', ')}`);
  assert.equal(overlap.evidence['bridge'], 'docker_gwbridge');
  assert.equal(overlap.evidence['subnet'], '172.18.0.0/16');
  assert.deepEqual(overlap.evidence['clients'], ['172.18.50.20']);
  // The good client is in no finding's evidence.
  assert.ok(!JSON.stringify(report.findings).includes('192.0.2.10'), JSON.stringify(report.findings));
  // --write: pcapng with one interface block per captured interface and the context beside it.
  const reader = openCaptureFile(path.join(dir, 'capture.pcapng'));
  try {
    let packets = 0;
    while (reader.next() !== null) packets++;
    assert.equal(packets, report.summary.packets);
    assert.deepEqual(reader.interfaces.map((i) => i.name), ['eth0', 'docker_gwbridge']);
    assert.deepEqual(reader.interfaces.map((i) => i.dropped), [0, 0], 'a statistics block closes each interface');
  } finally {
    reader.close();
  }
  const context = JSON.parse(fs.readFileSync(path.join(dir, 'capture.context.json'), 'utf8')) as { namespace: string; interfaces: { name: string }[]; kernelEvidence?: { counters: { namespace: string }[] } };
  assert.match(context.namespace, /-host$/);
  assert.ok(context.interfaces.some((i) => i.name === 'docker_gwbridge'));
  assert.deepEqual(context.kernelEvidence?.counters.map((c) => c.namespace), [context.namespace]);
});

test('analyze on what live --write produced reaches the live run\'s findings', async () => {
  const { report, dir } = liveLab('bridge');
  const again = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', path.join(dir, 'capture.context.json'), '--json');
  assert.equal(again.code, 0, again.stderr);
  const offline = JSON.parse(again.stdout) as Report & { kernel?: unknown };
  assert.deepEqual(offline.findings, report.findings);
  assert.deepEqual(offline.summary, report.summary);
  assert.deepEqual(offline.flows, report.flows);
});

test('live --netns NAME:IFACE captures inside the container namespace (ingress_sbox)', () => {
  const { report } = liveLab('container');
  assert.equal(report.inputs.length, 1);
  assert.deepEqual(report.inputs[0]!.interfaces, ['eth1']);
  // Inside ingress_sbox the DNATed SYNs arrive from the clients' own addresses.
  assert.equal(report.summary.handshakes.attempted, 3);
  assert.equal(report.summary.handshakes.completed, 2);
  assert.equal(report.summary.handshakes.unanswered, 1);
  // From inside, the cause shows as eth1's own connected subnet holding the client: ARP
  // for it on eth1 and no SYN-ACK. Nothing else (no full accept queue, no firewall).
  assert.deepEqual(findingCodes(report), ['bridge-subnet-overlap']);
  const overlap = report.findings[0]!;
  assert.equal(overlap.evidence['bridge'], 'eth1');
  assert.equal(overlap.evidence['subnet'], '172.18.0.0/16');
  assert.deepEqual(overlap.evidence['clients'], ['172.18.50.20']);
});

test('live --netns PID:IFACE enters the namespace of a process (the service in ingress_sbox)', () => {
  const { report, stderr } = liveLab('pid');
  assert.match(stderr, /capturing on pid:\d+:eth1/);
  assert.equal(report.summary.handshakes.attempted, 3);
  assert.equal(report.summary.handshakes.unanswered, 1);
});

test('the cap backend captures the same lab', () => {
  const { report, stderr } = liveLab('container', 'cap');
  assert.match(stderr, /\(cap\)/);
  assert.equal(report.summary.handshakes.attempted, 3);
  assert.equal(report.summary.handshakes.unanswered, 1);
  assert.equal(report.inputs[0]!.droppedByCapture, null, 'cap reports no drop counters');
});

test('SIGINT stops a live capture cleanly: the report is printed and --write is complete', async () => {
  assert.equal(process.getuid?.(), 0);
  const ns = `sslive${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-live-sigint-'));
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const out = path.join(dir, 'lo.pcapng');
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'synscope.js'), 'live', '--netns', `${ns}:lo`, '--write', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => stderr.includes('capturing on'), 10_000);
    // Five refused connections on the namespace's loopback, bounded in time.
    execFileSync('ip', ['netns', 'exec', ns, 'bash', '-c', 'for p in 1 2 3 4 5; do timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/9" 2>/dev/null || true; done']);
    // No wait needed before the signal: the stop drains every ring to empty.
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Report;
    assert.equal(report.summary.handshakes.attempted, 5);
    assert.deepEqual(findingCodes(report), ['rejected']);
    const reader = openCaptureFile(out);
    try {
      let packets = 0;
      while (reader.next() !== null) packets++;
      assert.equal(packets, report.summary.packets);
      assert.equal(reader.stats.truncatedAt, null, 'the file ends on a whole block');
      assert.equal(reader.interfaces[0]!.dropped, 0);
    } finally {
      reader.close();
    }
    assert.ok(fs.existsSync(path.join(dir, 'lo.context.json')));
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('an interface removed during a live capture stops it with one line naming the interface', async () => {
  assert.equal(process.getuid?.(), 0);
  const ns = `ssgone${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    execFileSync('ip', ['-n', ns, 'link', 'add', 'gone0', 'type', 'veth', 'peer', 'name', 'gone1']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'gone0', 'up']);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'gone1', 'up']);
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'synscope.js'), 'live', '--netns', `${ns}:gone0`, '--duration', '20s', '--no-trace'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(() => stderr.includes('capturing on'), 10_000);
    execFileSync('ip', ['-n', ns, 'link', 'del', 'gone0']);
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.equal(code, 2, stderr);
    const lines = stderr.trim().split('\n');
    assert.match(lines[lines.length - 1]!, /gone0.*capture stopped/);
    assert.doesNotMatch(stderr, STACK_LINE);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
  }
});

test('live errors are one line with exit 2: unknown interface (listing those that exist), namespace, usage', async () => {
  const cases: [string[], RegExp][] = [
    [['live', '-i', 'nosuchdev0', '--duration', '1s'], /no interface named nosuchdev0; interfaces there: .*\blo\b/],
    [['live', '--netns', 'nosuchns0:eth0', '--duration', '1s'], /nosuchns0/],
    [['live', '--netns', 'eth0', '--duration', '1s'], /expected NS:IFACE/],
    [['live', '-i', 'lo', '--duration', 'soon'], /--duration "soon"/],
    [['live', '--duration', '1s'], /at least one -i IFACE/],
    [['live', '-i', 'lo', '--filter', 'tcp and and', '--duration', '1s'], /not a valid BPF filter/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, STACK_LINE);
  }
});

test('live without CAP_NET_RAW says which capability is missing', () => {
  const r = spawnAsNobody(['live', '-i', 'lo', '--duration', '1s']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /CAP_NET_RAW/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

function spawnAsNobody(args: string[]): { code: number; stderr: string } {
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, path.join(REPO, 'bin', 'synscope.js'), ...args], { stdio: 'pipe', timeout: 20_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { status: number | null; stderr: Buffer };
    return { code: err.status ?? -1, stderr: err.stderr.toString() };
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
