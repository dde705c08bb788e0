import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';

/**
 * `tcpdump -i any` and `synscope live -i any` in a namespace lab (test/lab/any-device-lab.sh:
 * a host with eth0 and a docker0 bridge, Docker's DNAT to a container, a DOCKER-USER drop and
 * a client inside docker0's subnet), against the same traffic captured on eth0 and docker0
 * by name. Needs root (CI runs as root).
 */
interface Report {
  inputs: { linkTypes: string[]; interfaces: string[] }[];
  summary: { handshakes: Record<string, number> };
  findings: { code: string; severity: string; evidence: Record<string, unknown> }[];
  flows: { id: string; outcome: string; interfaces: string[] }[];
  warnings: string[];
}

const KEY_EVIDENCE = ['service', 'bridge', 'subnet', 'clients', 'seenAt', 'missingAt', 'direction', 'synInterface', 'replyDevice'];

/**
 * A finding as the comparison sees it: code, severity, the evidence that names interfaces
 * and clients, and which addresses were ARPed for on the bridge (the host goes on asking
 * while a capture runs, so the count depends on when each capture stopped).
 */
function key(f: Report['findings'][number]): string {
  const arp = (f.evidence['arpRequestsOnBridge'] as { target: string }[] | undefined)?.map((a) => a.target) ?? null;
  return JSON.stringify([f.code, f.severity, KEY_EVIDENCE.map((k) => f.evidence[k] ?? null), arp]);
}

function keys(r: Report): string[] {
  return r.findings.map(key).sort();
}

function failedFlows(r: Report): string[] {
  return r.flows.map((f) => `${f.outcome} ${f.interfaces.join(',')}`).sort();
}

let labDir: string | null = null;

function lab(): string {
  if (labDir !== null) return labDir;
  assert.equal(process.getuid?.(), 0, 'the namespace lab needs root (ip netns add); run the tests as root');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-any-'));
  execFileSync('bash', [path.join(REPO, 'test', 'lab', 'any-device-lab.sh'), dir], { stdio: 'pipe', timeout: 90_000 });
  labDir = dir;
  return dir;
}

async function analyze(...args: string[]): Promise<Report> {
  const r = await runCli('analyze', ...args, '--json');
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

test('tcpdump -i any with the host context: the real interface names and the findings of a capture on eth0 and docker0', async () => {
  const dir = lab();
  const ctx = path.join(dir, 'context.json');
  const named = await analyze(path.join(dir, 'named.pcapng'), '--context', ctx);
  const any = await analyze(path.join(dir, 'any.pcap'), '--context', ctx);
  assert.deepEqual(any.inputs[0]!.linkTypes, ['LINUX_SLL2']);
  for (const name of ['eth0', 'docker0', 'veth-web']) assert.ok(any.inputs[0]!.interfaces.includes(name), any.inputs[0]!.interfaces.join(', '));
  assert.deepEqual(any.warnings, []);
  assert.deepEqual(any.summary.handshakes, named.summary.handshakes);
  assert.deepEqual(keys(any), keys(named));
  assert.deepEqual(failedFlows(any), failedFlows(named));
  // The per-interface findings the lab is built for.
  const overlap = any.findings.find((f) => f.code === 'bridge-subnet-overlap');
  assert.equal(overlap?.evidence['bridge'], 'docker0');
  assert.deepEqual(overlap?.evidence['clients'], ['172.17.0.50']);
  // A bridge floods the host's ARP request to its ports: -i any sees each request on docker0 and veth-web, counted once.
  const requests = (r: Report) => (r.findings.find((f) => f.code === 'bridge-subnet-overlap')!.evidence['arpRequestsOnBridge'] as { requests: number }[])[0]!.requests;
  assert.ok(Math.abs(requests(any) - requests(named)) <= 1, `${requests(any)} ARP requests with -i any, ${requests(named)} on docker0`);
});

test('synscope live -i any --write: its own report and the written files give the findings of the named capture', async () => {
  const dir = lab();
  const named = await analyze(path.join(dir, 'named.pcapng'), '--context', path.join(dir, 'named.context.json'));
  const live = JSON.parse(fs.readFileSync(path.join(dir, 'live-any.json'), 'utf8')) as Report;
  const written = await analyze(path.join(dir, 'live-any.pcapng'), '--context', path.join(dir, 'live-any.context.json'));
  assert.ok(named.findings.some((f) => f.code === 'nat-path-break' && f.evidence['seenAt'] === 'eth0' && f.evidence['missingAt'] === 'docker0'), keys(named).join('\n'));
  for (const r of [live, written]) {
    assert.deepEqual(r.inputs[0]!.linkTypes, ['LINUX_SLL2']);
    for (const name of ['eth0', 'docker0']) assert.ok(r.inputs[0]!.interfaces.includes(name), r.inputs[0]!.interfaces.join(', '));
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.summary.handshakes, named.summary.handshakes);
    assert.deepEqual(keys(r), keys(named));
    assert.deepEqual(failedFlows(r), failedFlows(named));
  }
});

test('without a context, or with one a week older, the ifindexes are not guessed: if<N> and a warning', async () => {
  const dir = lab();
  const bare = await analyze(path.join(dir, 'any.pcap'));
  assert.ok(bare.inputs[0]!.interfaces.every((n) => /^if\d+$/.test(n)), bare.inputs[0]!.interfaces.join(', '));
  assert.match(bare.warnings.join('\n'), /by ifindex only; no host context was given/);
  const old = JSON.parse(fs.readFileSync(path.join(dir, 'context.json'), 'utf8')) as { capturedAt: string };
  old.capturedAt = new Date(Date.parse(old.capturedAt) - 7 * 86400_000).toISOString();
  const oldPath = path.join(dir, 'old.context.json');
  fs.writeFileSync(oldPath, JSON.stringify(old));
  const stale = await analyze(path.join(dir, 'any.pcap'), '--context', oldPath);
  assert.ok(stale.inputs[0]!.interfaces.every((n) => /^if\d+$/.test(n)), stale.inputs[0]!.interfaces.join(', '));
  assert.match(stale.warnings[0]!, /does not belong to this capture: the snapshot was taken 7\.0 days before the capture began/);
  assert.ok(!stale.findings.some((f) => f.code === 'bridge-subnet-overlap'), 'the stale snapshot\'s bridges are not used');
});

test('live -i any inside another namespace than the first target\'s is refused with one line', async () => {
  const r = await runCli('live', '-i', 'lo', '--netns', '/proc/self/ns/net:any', '--duration', '1s', '--no-trace');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr.trim(), /^synscope: any is captured only in the first target's namespace/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
