import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostContext } from '../src/context/host-context';
import { loadHostContext } from '../src/context/load';
import { MemorySink } from '../src/capture/byte-sink';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import { parseSubnet, subnetsOverlap } from '../src/net/cidr';
import { buildTcpFrame } from '../src/synth/frames';
import { BIN, REPO, runCli } from './cli-harness';

/**
 * `synscope context` for real, inside a network namespace built like a Docker host of
 * the incident reports: docker0, docker_gwbridge and br-<id> bridges, an uplink eth0 on
 * 192.168.0.0/24, and that prefix routed a second time through docker0. Needs root
 * (CI runs as root): without it the tests fail, they do not skip. Only namespaces this
 * file creates are touched; the test's own namespace is checked to be unchanged.
 */
const NS = `ssctx${process.pid}`;
const NS_UPLINK = `${NS}-up`;
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-context-netns-'));
const DOCKER_SOCKET = path.join(TMP, 'docker.sock');
const STEP_TIMEOUT_MS = 10_000;

let uplinkKind: 'dummy' | 'veth' = 'dummy';
let hostLinksBefore = '';
let dockerApi: http.Server | null = null;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe', timeout: STEP_TIMEOUT_MS });
}

function hostLinks(): string {
  const links = JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8', timeout: STEP_TIMEOUT_MS })) as { ifname: string }[];
  return links.map((l) => l.ifname).join(',');
}

/** `ip netns exec NS node bin/synscope.js ARGS`, asynchronous so this process can serve the fake Docker API meanwhile. */
function synscopeInNamespace(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', ['netns', 'exec', NS, process.execPath, BIN, ...args], { timeout: 30_000, cwd: REPO, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  assert.equal(process.getuid?.(), 0, 'this test builds network namespaces (ip netns add) and needs root; run the tests as root');
  hostLinksBefore = hostLinks();
  ip('netns', 'add', NS);
  ip('-n', NS, 'link', 'set', 'lo', 'up');
  try {
    ip('-n', NS, 'link', 'add', 'eth0', 'type', 'dummy');
  } catch {
    // Kernels without the dummy module: a veth created inside NS whose peer lives in a
    // second namespace, so nothing is ever created in this process's own namespace.
    uplinkKind = 'veth';
    ip('netns', 'add', NS_UPLINK);
    ip('-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', NS_UPLINK);
    ip('-n', NS_UPLINK, 'link', 'set', 'uplink0', 'up');
  }
  ip('-n', NS, 'addr', 'add', '192.168.0.10/24', 'dev', 'eth0');
  ip('-n', NS, 'link', 'set', 'eth0', 'up');
  for (const [name, addr] of [
    ['docker0', '172.17.0.1/16'],
    ['docker_gwbridge', '172.18.0.1/16'],
    ['br-0123456789ab', '172.20.0.1/16'],
  ] as const) {
    ip('-n', NS, 'link', 'add', name, 'type', 'bridge');
    ip('-n', NS, 'addr', 'add', addr, 'dev', name);
    ip('-n', NS, 'link', 'set', name, 'up');
  }
  ip('-n', NS, 'link', 'add', 'veth0c0ffee', 'type', 'veth', 'peer', 'name', 'ctr0');
  ip('-n', NS, 'link', 'set', 'veth0c0ffee', 'master', 'docker0', 'up');
  // The double route of the incident reports. `ip route add` of the same prefix and
  // metric in the same table is refused (EEXIST; `append` is accepted); another metric
  // or another table is accepted, and both are kept here: the main-table one at metric
  // 1000, and table 100 chosen by a policy rule for the br-<id> subnet.
  ip('-n', NS, 'route', 'add', '192.168.0.0/24', 'dev', 'docker0', 'metric', '1000');
  ip('-n', NS, 'route', 'add', '192.168.0.0/24', 'dev', 'docker0', 'table', '100');
  ip('-n', NS, 'rule', 'add', 'from', '172.20.0.0/16', 'lookup', '100', 'priority', '100');

  const networks = fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'context', 'docker-networks.json'), 'utf8');
  dockerApi = http.createServer((req, res) => {
    if (req.url === '/networks') res.writeHead(200, { 'Content-Type': 'application/json' }).end(networks);
    else res.writeHead(404).end('{"message":"page not found"}');
  });
  await new Promise<void>((resolve) => dockerApi!.listen(DOCKER_SOCKET, resolve));
});

after(async () => {
  for (const ns of [NS, NS_UPLINK]) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: STEP_TIMEOUT_MS });
    } catch {
      // not created
    }
  }
  if (dockerApi !== null) {
    dockerApi.closeAllConnections();
    await new Promise<void>((resolve) => dockerApi!.close(() => resolve()));
  }
  fs.rmSync(TMP, { recursive: true, force: true });
});

test('synscope context in a Docker-like namespace reports the bridges, the uplink and both routes', async () => {
  const out = path.join(TMP, 'host.json');
  const r = await synscopeInNamespace(['context', '--output', out, '--docker-socket', DOCKER_SOCKET]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^wrote ${out}: \\d+ interfaces, 3 bridges, \\d+ routes, \\d+ policy rules, 6 Docker networks(; unavailable: .*)?\\n$`));

  const ctx: HostContext = loadHostContext(out);
  assert.equal(ctx.namespace, NS);
  const iface = (name: string) => {
    const i = ctx.interfaces.find((x) => x.name === name);
    assert.ok(i, `no ${name} in ${ctx.interfaces.map((x) => x.name).join(', ')}`);
    return i;
  };
  for (const [name, subnet] of [
    ['docker0', '172.17.0.1/16'],
    ['docker_gwbridge', '172.18.0.1/16'],
    ['br-0123456789ab', '172.20.0.1/16'],
  ] as const) {
    const b = iface(name);
    assert.equal(b.kind, 'bridge', name);
    assert.equal(b.up, true, name);
    assert.ok(b.addresses.some((a) => `${a.address}/${a.prefixLength}` === subnet), `${name} lacks ${subnet}: ${JSON.stringify(b.addresses)}`);
  }
  assert.deepEqual(iface('docker0').ports, ['veth0c0ffee']);
  assert.equal(iface('veth0c0ffee').master, 'docker0');
  const eth0 = iface('eth0');
  assert.equal(eth0.kind, uplinkKind);
  assert.ok(eth0.addresses.some((a) => a.address === '192.168.0.10' && a.prefixLength === 24));

  const lan = ctx.routes.filter((x) => x.family === 4 && x.table === 'main' && x.destination === '192.168.0.0/24');
  assert.deepEqual(
    lan.map((x) => `${x.device} metric ${x.metric}`).sort(),
    ['docker0 metric 1000', 'eth0 metric 0'],
  );
  assert.deepEqual(
    ctx.routes.filter((x) => x.table === '100').map((x) => `${x.destination} dev ${x.device}`),
    ['192.168.0.0/24 dev docker0'],
  );
  assert.ok(ctx.routes.some((x) => x.table === 'local' && x.type === 'local' && x.destination === '172.17.0.1/32'));
  assert.deepEqual(
    ctx.rules.filter((x) => x.family === 4).map((x) => `${x.priority} ${x.from ?? 'all'} ${x.action} ${x.table}`),
    ['0 all lookup local', '100 172.20.0.0/16 lookup 100', '32766 all lookup main', '32767 all lookup default'],
  );

  const docker = ctx.dockerNetworks ?? [];
  assert.deepEqual(
    docker.filter((n) => n.bridge !== null).map((n) => `${n.bridge}=${n.subnets[0]}`).sort(),
    ['br-0123456789ab=172.20.0.0/16', 'docker0=172.17.0.0/16', 'docker_gwbridge=172.18.0.0/16'],
  );
  assert.ok(!ctx.unavailable.some((u) => u.source === 'docker'));
  assert.ok(ctx.sysctls['net.ipv4.conf.docker0.rp_filter'] !== undefined, 'per-interface rp_filter of the namespace');
  assert.ok(Object.keys(ctx.counters).length > 50);
});

test('synscope context without a Docker socket records why, still exits 0, and writes JSON to stdout', async () => {
  const missing = path.join(TMP, 'no-such-docker.sock');
  const r = await synscopeInNamespace(['context', '--docker-socket', missing]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no summary line when the snapshot goes to stdout');
  const ctx = JSON.parse(r.stdout) as HostContext;
  assert.equal(ctx.schema, 'synscope.context/1');
  assert.equal(ctx.dockerNetworks, null);
  assert.deepEqual(ctx.unavailable.find((u) => u.source === 'docker'), { source: 'docker', reason: `no socket at ${missing}` });
  assert.ok(ctx.interfaces.some((i) => i.name === 'docker_gwbridge' && i.kind === 'bridge'));

  const out = path.join(TMP, 'nodocker.json');
  const w = await synscopeInNamespace(['context', '--output', out, '--docker-socket', missing]);
  assert.equal(w.code, 0, w.stderr);
  assert.ok(w.stderr.includes(`unavailable: docker (no socket at ${missing})`), w.stderr);
  assert.ok(!w.stderr.includes('Docker network'), 'no Docker count when the API was not reached');
});

test('synscope context --output into a missing directory: one line, exit 2', async () => {
  const r = await synscopeInNamespace(['context', '--output', path.join(TMP, 'no', 'such', 'dir.json'), '--docker-socket', DOCKER_SOCKET]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^synscope: .*dir\.json: cannot write host context: .*\[ERR_WRITE_FAILED\]\n$/);
});

test("the test's own network namespace is unchanged", () => {
  assert.equal(hostLinks(), hostLinksBefore);
});

test('analyze with the namespace snapshot names docker_gwbridge and only the client inside its subnet', async () => {
  const out = path.join(TMP, 'host-for-analyze.json');
  const r = await synscopeInNamespace(['context', '--output', out, '--docker-socket', DOCKER_SOCKET]);
  assert.equal(r.code, 0, r.stderr);
  // A capture on the namespace's eth0: a client inside docker_gwbridge's 172.18.0.0/16
  // retries its SYN three times unanswered; a client from elsewhere completes. It is taken
  // when the snapshot was and carries eth0's MAC, as a real one would (or the snapshot is
  // not used: match-capture.ts).
  const taken = loadHostContext(out);
  const mac = taken.interfaces.find((i) => i.name === 'eth0')!.mac!;
  const sink = new MemorySink();
  const writer = new PcapngWriter(sink);
  const eth0 = writer.addInterface({ linkType: 1, name: 'eth0' });
  const t0 = Math.floor(Date.parse(taken.capturedAt) / 1000);
  const server = { dst: '192.168.0.10', dstPort: 443, dstMac: mac };
  for (let i = 0; i < 3; i++) {
    writer.writePacket(eth0, buildTcpFrame({ src: '172.18.0.77', srcPort: 40000, ...server, seq: 1000, ack: 0, flags: 0x02 }), t0 + i, 0);
  }
  writer.writePacket(eth0, buildTcpFrame({ src: '203.0.113.5', srcPort: 50000, ...server, seq: 5000, ack: 0, flags: 0x02 }), t0 + 4, 0);
  writer.writePacket(eth0, buildTcpFrame({ src: '192.168.0.10', srcPort: 443, srcMac: mac, dst: '203.0.113.5', dstPort: 50000, seq: 9000, ack: 5001, flags: 0x12 }), t0 + 4, 1000);
  writer.writePacket(eth0, buildTcpFrame({ src: '203.0.113.5', srcPort: 50000, ...server, seq: 5001, ack: 9001, flags: 0x10 }), t0 + 4, 2000);
  writer.close();
  const capture = path.join(TMP, 'eth0.pcapng');
  fs.writeFileSync(capture, sink.toBuffer());

  const a = await runCli('analyze', capture, '--context', out, '--json');
  assert.equal(a.code, 0, a.stderr);
  const report = JSON.parse(a.stdout);
  assert.deepEqual(report.warnings, []);
  assert.deepEqual(report.summary.handshakes, { attempted: 2, completed: 1, unanswered: 1, rejected: 0, synAckLost: 0 });
  const overlap = report.findings.filter((f: { code: string }) => f.code === 'bridge-subnet-overlap');
  assert.equal(overlap.length, 1, JSON.stringify(report.findings.map((f: { code: string }) => f.code)));
  assert.equal(overlap[0].evidence.bridge, 'docker_gwbridge');
  assert.equal(overlap[0].evidence.subnet, '172.18.0.0/16');
  assert.deepEqual(overlap[0].evidence.clients, ['172.18.0.77']);
  assert.ok(overlap[0].remedy.some((line: string) => line.includes('docker swarm leave')), 'docker_gwbridge is recreated out of the swarm');
  const proposed = parseSubnet(overlap[0].evidence.proposedSubnet as string);
  assert.ok(proposed, 'a concrete subnet is proposed');
  const snapshot = loadHostContext(out);
  for (const used of [...snapshot.interfaces.flatMap((i) => i.addresses.map((x) => `${x.address}/${x.prefixLength}`)), ...snapshot.routes.map((x) => x.destination)]) {
    const s = parseSubnet(used);
    if (s !== null && s.version === 4 && !used.startsWith('0.0.0.0/')) assert.ok(!subnetsOverlap(s, proposed), `${proposed.text} overlaps ${used}`);
  }
  const conflicts = report.findings.filter((f: { code: string }) => f.code === 'route-conflict');
  const double = conflicts.filter((f: { evidence: { prefix?: string } }) => f.evidence.prefix === '192.168.0.0/24');
  assert.equal(double.length, 1, 'the double route of 192.168.0.0/24 is reported from the snapshot');
  assert.equal(double[0].severity, 'warning', 'no failed flow goes through it');
  const reply = conflicts.filter((f: { evidence: { replyDevice?: string } }) => f.evidence.replyDevice !== undefined);
  // One failure, one ERROR: the host's reply route into docker_gwbridge is the overlap itself.
  assert.equal(reply.length, 0, 'no route-conflict of its own for the client the overlap explains');
  assert.equal(overlap[0].evidence.repliesFrom, 'host', 'the host itself answers (no DNAT), and its replies go into the bridge');
  assert.equal(report.findings.filter((f: { code: string }) => f.code === 'filtered').length, 0, 'the overlap explains the silence');
});
