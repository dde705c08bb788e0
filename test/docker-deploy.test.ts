import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './cli-harness';
import { leftovers, readEnv, rootNetwork } from './docker-lab-leftovers';
import { runLabScript } from './lab-script';

/**
 * deploy/Dockerfile and deploy/synscope-stack.yml deployed for real (test/lab/deploy-watch.sh):
 * the image built offline on a lab dockerd, the stack deployed as a global service on a
 * one-node swarm, a published port that answers and a port the node drops, and then
 * `docker service logs` carries the finding, the metrics answer on the node, kernel evidence
 * is collected inside the task, and nothing of the lab is left. Needs root, Debian's
 * docker.io, containerd, runc and busybox-static, libpcap0.8, and the native addon built.
 */

const LAB = path.join(REPO, 'test', 'lab', 'deploy-watch.sh');

interface Event {
  type: string;
  node: string;
  code: string;
  subject: string;
  clients: string[];
}

interface ServiceSpec {
  Mode: { Global?: object };
  TaskTemplate: {
    ContainerSpec: {
      Args: string[];
      CapabilityAdd?: string[];
      CapabilityDrop?: string[];
      Mounts: { Source: string; Target: string; ReadOnly?: boolean; BindOptions?: { Propagation?: string } }[];
    };
  };
}

interface LiveReport {
  kernel?: { events?: { total: number }; unavailable: { source: string; reason: string }[] };
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line !== undefined, `no ${name} in the metrics:\n${text}`);
  return Number(line.slice(name.length + 1));
}

function appArmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

test('the image built offline and the stack deployed on a lab swarm: service logs carry finding-opened, the node serves metrics, the task traces the kernel, nothing is left', { timeout: 300_000 }, (t) => {
  assert.equal(process.getuid?.(), 0, 'the Docker lab needs root (ip netns add, dockerd); run the tests as root');
  const before = rootNetwork();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-docker-deploy-'));
  try {
    runLabScript('deploy-watch.sh', LAB, [out], { timeoutMs: 240_000 });
    const read = (name: string) => fs.readFileSync(path.join(out, name), 'utf8');

    assert.equal(read('image.txt').trim(), '["synscope"] ["watch","--metrics",":9464"]');

    const [service] = JSON.parse(read('service.json')) as { Spec: ServiceSpec }[];
    const spec = service!.Spec;
    assert.ok(spec.Mode.Global !== undefined, 'the service is not global');
    const container = spec.TaskTemplate.ContainerSpec;
    assert.deepEqual(container.CapabilityDrop, ['ALL']);
    assert.deepEqual([...(container.CapabilityAdd ?? [])].sort(), ['CAP_NET_RAW', 'CAP_SYS_ADMIN']);
    const mounts = Object.fromEntries(container.Mounts.map((m) => [m.Target, m]));
    assert.equal(mounts['/var/run/docker.sock']?.ReadOnly, true);
    assert.equal(mounts['/var/run/docker/netns']?.ReadOnly, true);
    assert.equal(mounts['/var/run/docker/netns']?.BindOptions?.Propagation, 'rslave');

    // The events, as `docker service logs` carries them: the dropped port opened a finding on
    // node1 (the task has the node's hostname: host network), the answering one none.
    const events = read('service.log')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Event);
    const opened = events.filter((e) => e.type === 'finding-opened');
    assert.deepEqual(
      opened.map((e) => [e.node, e.code, e.subject, e.clients]),
      [['node1', 'filtered', '192.0.2.1:8081', ['192.0.2.10']]],
      `the service's log:\n${read('service.log')}`,
    );
    // Given no interface, watch in the task found them through the mounted socket and netns directory.
    assert.deepEqual(container.Args.filter((a) => a === '-i' || a === '--netns'), []);
    assert.match(
      read('service.log'),
      /^synscope: capturing on docker0 \[docker-bridge\], docker_gwbridge \[docker-bridge\], eth0 \[uplink\], ingress_sbox:eth0 \[ingress-sandbox\], ingress_sbox:eth1 \[ingress-sandbox\] \(native\)/m,
    );
    // The kernel evidence the task collects, said once at the start: tracefs needs SYS_ADMIN
    // and, under AppArmor, a profile that allows the mount.
    const kernelEvents = read('service.log')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; node: string; window: number; sources: { source: string; available: boolean; reason?: string }[] })
      .filter((e) => e.type === 'kernel-evidence');
    assert.equal(kernelEvents.length, 1, `the service's log:\n${read('service.log')}`);
    const tracefsAvailable = kernelEvents[0]!.sources.find((s) => s.source === 'tracefs')?.available;
    assert.equal(tracefsAvailable, !appArmorEnabled(), `kernel-evidence: ${JSON.stringify(kernelEvents[0])}`);
    assert.equal(kernelEvents[0]!.node, 'node1');

    const metrics = read('metrics.txt');
    assert.ok(metric(metrics, 'synscope_packets_total{interface="eth0"}') > 0);
    assert.ok(metric(metrics, 'synscope_handshakes_total{outcome="completed"}') > 0, 'the published port answered no handshake');
    assert.ok(metric(metrics, 'synscope_handshakes_total{outcome="unanswered"}') > 0);
    assert.equal(metric(metrics, 'synscope_findings_open{code="filtered",severity="error"}'), 1);
    assert.equal(metric(metrics, 'synscope_kernel_evidence_available{source="tracefs"}'), appArmorEnabled() ? 0 : 1);

    // Kernel evidence inside the task: a private tracefs mounted with CAP_SYS_ADMIN. Under
    // Docker's default AppArmor profile the mount is denied and the reason must say so.
    const kernel = (JSON.parse(read('live-in-task.json')) as LiveReport).kernel;
    assert.ok(kernel !== undefined, 'live in the task collected no kernel evidence at all');
    const tracefs = kernel.unavailable.filter((u) => u.source === 'tracefs');
    if (appArmorEnabled()) {
      assert.ok(tracefs.length > 0, 'AppArmor is on, yet tracefs worked in the task: the README is wrong');
    } else {
      assert.deepEqual(tracefs, [], 'no AppArmor here, yet tracefs was unavailable in the task');
      assert.ok(kernel.events !== undefined, 'tracefs worked but no events section');
    }
    t.diagnostic(`kernel evidence in the task: ${JSON.stringify(kernel.unavailable)}, ${kernel.events?.total ?? 0} trace events`);

    assert.equal(read('removed.txt').trim(), '', 'a task container is left after docker stack rm');
    const { LAB: lab, DOCKER_LAB_TMP: tmp } = readEnv(path.join(out, 'lab.env'));
    assert.deepEqual(leftovers(lab!, tmp!), [], 'the teardown left things behind');
    assert.equal(rootNetwork(), before, "the root namespace's network changed");
    t.diagnostic(read('timings.txt').trim().split('\n').map((l) => `${l} s`).join(', '));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
