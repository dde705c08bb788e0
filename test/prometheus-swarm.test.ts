import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './cli-harness';
import { leftovers, readEnv, rootNetwork } from './docker-lab-leftovers';
import { runLabScript } from './lab-script';

/**
 * deploy/synscope-stack.yml on a two-node lab swarm, scraped by a real Prometheus
 * (test/lab/deploy-watch-swarm.sh): a task on each node, each finding its own interfaces;
 * Prometheus (Debian's package, run in a lab namespace) has both agents up, and its HTTP API
 * gives each node's counters under its own instance label: packets per interface, completed
 * handshakes on both, the DROPped port's unanswered attempts and open finding on node2 only.
 * The task's container run without CAP_SYS_ADMIN says why tracefs and ingress_sbox are unavailable. Nothing of the lab, and
 * no Prometheus, is left. Needs root, the Docker lab's packages, prometheus, the native addon.
 */

const LAB = path.join(REPO, 'test', 'lab', 'deploy-watch-swarm.sh');
const NODE1 = '192.0.2.1:9464';
const NODE2 = '192.0.2.2:9464';

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

interface Event {
  type: string;
  node: string;
  code?: string;
  subject?: string;
  sources?: { source: string; available: boolean; reason?: string }[];
}

test('two swarm nodes, one global synscope service, one Prometheus: each node scraped, its counters and findings read back per instance', { timeout: 400_000 }, (t) => {
  assert.equal(process.getuid?.(), 0, 'the Docker lab needs root (ip netns add, dockerd); run the tests as root');
  const before = rootNetwork();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-prometheus-swarm-'));
  try {
    runLabScript('deploy-watch-swarm.sh', LAB, [out], { timeoutMs: 340_000 });
    const read = (name: string) => fs.readFileSync(path.join(out, name), 'utf8');
    const query = (name: string): Sample[] => {
      const answer = JSON.parse(read(`q-${name}.json`)) as { status: string; data: { result: Sample[] } };
      assert.equal(answer.status, 'success', `q-${name}.json: ${read(`q-${name}.json`)}`);
      return answer.data.result;
    };
    /** The value of the one sample of `samples` with these labels. */
    const value = (samples: Sample[], labels: Record<string, string>): number => {
      const found = samples.filter((s) => Object.entries(labels).every(([k, v]) => s.metric[k] === v));
      assert.equal(found.length, 1, `${JSON.stringify(labels)}: ${found.length} samples in ${JSON.stringify(samples.map((s) => s.metric))}`);
      return Number(found[0]!.value[1]);
    };

    // Two nodes with their own hostnames, a running task on each.
    assert.deepEqual(read('nodes.txt').trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')).sort(), ['node1 Ready', 'node2 Ready']);
    assert.deepEqual(read('tasks.txt').trim().split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')).sort(), ['node1 Running', 'node2 Running']);

    const targets = (JSON.parse(read('targets.json')) as { data: { activeTargets: { labels: { instance: string }; health: string; lastError: string }[] } }).data.activeTargets;
    assert.deepEqual(
      targets.map((x) => [x.labels.instance, x.health, x.lastError]).sort(),
      [
        [NODE1, 'up', ''],
        [NODE2, 'up', ''],
      ],
    );

    // Each node's agent found its interfaces and captured on its uplink; the LAN's traffic
    // reached both (the client's attempts), the DROP only node2's.
    const packets = query('packets');
    for (const instance of [NODE1, NODE2]) {
      const interfaces = packets.filter((s) => s.metric.instance === instance).map((s) => s.metric.interface).sort();
      assert.deepEqual(interfaces, ['docker0', 'docker_gwbridge', 'eth0', 'eth0@ingress_sbox', 'eth1@ingress_sbox'], instance);
      assert.ok(value(packets, { instance, interface: 'eth0' }) > 0, `${instance}: no packets on eth0`);
      // The published port is DNATed to the web container on docker0.
      assert.ok(value(packets, { instance, interface: 'docker0' }) > 0, `${instance}: no packets on docker0`);
    }
    const handshakes = query('handshakes');
    assert.ok(value(handshakes, { instance: NODE1, outcome: 'completed' }) > 0);
    assert.ok(value(handshakes, { instance: NODE2, outcome: 'completed' }) > 0);
    assert.equal(value(handshakes, { instance: NODE1, outcome: 'unanswered' }), 0, 'node1 drops nothing');
    assert.ok(value(handshakes, { instance: NODE2, outcome: 'unanswered' }) > 0);
    const findings = query('findings');
    assert.deepEqual(
      findings.map((s) => [s.metric.instance, s.metric.code, s.metric.severity, s.value[1]]),
      [[NODE2, 'filtered', 'error', '1']],
    );
    const kernel = query('kernel');
    for (const instance of [NODE1, NODE2]) assert.equal(value(kernel, { instance, source: 'counters' }), 1);
    for (const instance of [NODE1, NODE2]) assert.ok(value(query('windows'), { instance }) >= 1);

    // The events of both nodes, through the manager's `docker service logs`.
    const events = read('service.log')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Event);
    assert.deepEqual(events.filter((e) => e.type === 'kernel-evidence').map((e) => e.node).sort(), ['node1', 'node2']);
    // The gauge and the event agree on tracefs for each node.
    for (const [node, instance] of [['node1', NODE1], ['node2', NODE2]] as const) {
      const said = events.find((e) => e.type === 'kernel-evidence' && e.node === node)!.sources!.find((s) => s.source === 'tracefs')!;
      assert.equal(value(kernel, { instance, source: 'tracefs' }), said.available ? 1 : 0, node);
    }
    assert.deepEqual(
      events.filter((e) => e.type === 'finding-opened').map((e) => [e.node, e.code, e.subject]),
      [['node2', 'filtered', '192.0.2.2:8081']],
    );

    // The task's container without CAP_SYS_ADMIN: no tracefs can be mounted, and the event says so, with the reason.
    const denied = read('no-sys-admin.log')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Event)
      .filter((e) => e.type === 'kernel-evidence');
    assert.equal(denied.length, 1, read('no-sys-admin.log'));
    const tracefs = denied[0]!.sources!.find((s) => s.source === 'tracefs')!;
    assert.equal(tracefs.available, false);
    assert.match(tracefs.reason ?? '', /mount/);
    assert.match(read('no-sys-admin.log'), /^synscope: kernel evidence: tracefs unavailable \(/m);
    // Nor can it enter ingress_sbox: a note, and capture on what it can reach.
    assert.match(read('no-sys-admin.log'), /^synscope: note: ingress_sbox not looked into: /m);
    assert.match(read('no-sys-admin.log'), /^synscope: capturing on docker0 \[docker-bridge\], docker_gwbridge \[docker-bridge\], eth0 \[uplink\] \(native\)/m);

    assert.equal(read('prometheus-gone.txt').trim(), '', 'Prometheus still runs after it was stopped');
    const { LAB: lab, DOCKER_LAB_TMP: tmp } = readEnv(path.join(out, 'lab.env'));
    assert.deepEqual(leftovers(lab!, tmp!), [], 'the teardown left things behind');
    assert.equal(rootNetwork(), before, "the root namespace's network changed");
    t.diagnostic(read('timings.txt').trim().split('\n').map((l) => `${l} s`).join(', '));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
