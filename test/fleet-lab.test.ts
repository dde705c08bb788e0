import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostSummary } from '../src/analysis';
import { REPO } from './cli-harness';
import { leftovers, readEnv, rootNetwork } from './docker-lab-leftovers';
import { runLabScript } from './lab-script';

/**
 * `synscope fleet` on a real three-node swarm (test/lab/fleet-lab.sh): dockerds contained in
 * lab namespaces, the image built on node1 and copied to node2 (node3 has none), incident 004
 * reproduced across node1 and node2. One fleet run reports every node, the cross-host
 * address-collision and the clock offsets; a second run killed with SIGTERM removes its
 * service; nothing of the lab is left. Needs root, Debian's docker.io, containerd, runc and
 * busybox-static, libpcap0.8, and the native addon built.
 */

const LAB = path.join(REPO, 'test', 'lab', 'fleet-lab.sh');

interface Report {
  hosts: HostSummary[];
  findings: { code: string; severity: string; title: string; evidence: { address: string; owners: { host: string; interface: string }[]; connections: { host: string; role: string; server: string }[] } }[];
  summary: { handshakes: { attempted: number; completed: number } };
}

let out = '';
let before_ = '';
let labError: string | null = null;
const read = (name: string) => fs.readFileSync(path.join(out, name), 'utf8');

before(() => {
  before_ = rootNetwork();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-fleet-lab-'));
  try {
    runLabScript('fleet-lab.sh', LAB, [out], { timeoutMs: 480_000 });
  } catch (e) {
    labError = (e as Error).message;
  }
});

after(() => fs.rmSync(out, { recursive: true, force: true }));

test('fleet on a three-node lab swarm: one report over every node, the cross-host address-collision naming node1 and node2, clock offsets, the service removed', { timeout: 600_000 }, (t) => {
  assert.equal(process.getuid?.(), 0, 'the Docker lab needs root (ip netns add, dockerd); run the tests as root');
  assert.equal(labError, null, labError ?? '');
  assert.deepEqual(read('nodes.txt').trim().split('\n').sort(), ['node1 Ready Active', 'node2 Ready Active', 'node3 Ready Active']);
  assert.equal(read('fleet.rc').trim(), '0', read('fleet.err'));
  const report = JSON.parse(read('fleet.json')) as Report;
  assert.deepEqual(report.hosts.map((h) => h.name), ['node1', 'node2', 'node3']);

  const collisions = report.findings.filter((f) => f.code === 'address-collision');
  assert.deepEqual(collisions.map((f) => [f.severity, f.title]), [['error', '172.17.0.55 is a different machine on node1 and node2']], read('fleet.err'));
  const evidence = collisions[0]!.evidence;
  assert.deepEqual(evidence.owners.map((o) => [o.host, o.interface]), [['node1', 'docker0'], ['node2', 'docker0']]);
  assert.deepEqual(evidence.connections.map((c) => [c.host, c.role, c.server]), [['node1', 'client', '192.0.2.1:6379'], ['node2', 'server', '172.17.0.55:6379']]);

  // node2's capture clock against node1's, from handshakes both saw (one kernel clock here: about 0).
  const node2 = report.hosts[1]!;
  assert.ok(node2.clockMatches > 0, 'no handshake seen at both nodes');
  assert.ok(node2.clockOffsetSeconds !== null && Math.abs(node2.clockOffsetSeconds) < 0.5, `offset ${node2.clockOffsetSeconds}`);
  assert.ok(report.hosts[0]!.sources.includes('node1/live:docker0') && report.hosts[0]!.sources.includes('node1/live:eth0'), `node1 captured on ${report.hosts[0]!.sources.join(', ')}`);
  assert.ok(report.summary.handshakes.completed > 0);

  // Each node's evidence went through `docker service logs` as chunks and came back whole, over 16 KiB.
  const err = read('fleet.err');
  for (const node of ['node1', 'node2']) {
    const m = new RegExp(`^synscope: ${node}: \\d+ events in \\d+ bytes of log lines \\((\\d+) chunk events; largest event (\\d+) bytes\\)$`, 'm').exec(err);
    assert.ok(m !== null, `no event counts for ${node}:\n${err}`);
    assert.ok(Number(m[1]) > 1 && Number(m[2]) > 16 * 1024, `${node}: ${m[0]}`);
  }
  assert.equal(read('services-after.txt').trim(), '', 'the fleet service is left after the run');
  t.diagnostic(err.trim().split('\n').join(' | '));
  t.diagnostic(read('timings.txt').trim().split('\n').map((l) => `${l} s`).join(', '));
});

test('fleet: a node that cannot run the job (no image there) is in the report as not answering, with the reason', () => {
  assert.equal(labError, null, labError ?? '');
  const report = JSON.parse(read('fleet.json')) as Report;
  const node3 = report.hosts.find((h) => h.name === 'node3');
  assert.equal(node3?.noAnswer, 'task rejected: No such image: synscope-lab/synscope:lab; no log lines');
  assert.deepEqual(node3?.sources, []);
  assert.ok(report.hosts.filter((h) => h.name !== 'node3').every((h) => h.noAnswer === undefined));
});

test('a fleet killed with -9 leaves its service; the next run removes it once the killed run\'s deadline has passed, and says so', () => {
  const leftover = read('leftover.txt').trim();
  assert.match(leftover, /^synscope-fleet-[0-9a-f]{8}$/, 'kill -9 left no service: the sweep is not tested');
  assert.equal(read('swept.rc').trim(), '0', read('swept.err'));
  assert.match(read('swept.err'), new RegExp(`^synscope: removed ${leftover}, left by an earlier synscope fleet that did not end \\(its run gave up at `, 'm'));
  const report = JSON.parse(read('swept.json')) as { warnings: string[] };
  assert.ok(report.warnings.some((w) => w.startsWith(`removed ${leftover}`)), report.warnings.join('\n'));
  assert.equal(read('services-after-sweep.txt').trim(), '', 'fleet services left after the sweeping run');
});

test('fleet killed with SIGTERM while the nodes capture: exit 130 and its service removed', () => {
  assert.equal(labError, null, labError ?? '');
  assert.equal(read('killed.rc').trim(), '130', read('killed.err'));
  assert.match(read('killed.err'), /^synscope: service synscope-fleet-[0-9a-f]{8} removed$/m);
  assert.equal(read('services-after-kill.txt').trim(), '', 'the killed fleet left its service');
});

test("a line over 16 KiB on Docker's log path: json-file stores it in 16 KiB pieces (why fleet nodes chunk their events); service logs joins them", (t) => {
  assert.equal(labError, null, labError ?? '');
  const lines = read('split.log').split('\n').filter((l) => l !== '');
  const entries = Number(read('split-entries.txt').trim());
  t.diagnostic(`one 20000-byte line: ${entries} json-file entries on its node; through docker service logs ${lines.length} line(s) of ${lines.map((l) => l.length).join(', ')} bytes`);
  assert.ok(entries >= 2, `json-file stored the line in ${entries} entries`);
  assert.ok(lines.length > 0, `no log lines: ${read('split-status.txt')}`);
  assert.equal(lines.join(''), '0123456789'.repeat(2000), 'the pieces do not make the line');
});

test('fleet lab: nothing of the lab is left, the root network unchanged', () => {
  assert.equal(labError, null, labError ?? '');
  const { LAB: lab, DOCKER_LAB_TMP: tmp } = readEnv(path.join(out, 'lab.env'));
  assert.deepEqual(leftovers(lab!, tmp!), [], 'the teardown left things behind');
  assert.equal(rootNetwork(), before_, "the root namespace's network changed");
});
