import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareWithExpectation, resolveScenarioArgs, type Expectation } from '../src/regress/expectation';
import { REPO, runCli } from './cli-harness';
import { verdictOf, type Report } from './docker-verdicts';
import { labLeftovers } from './docker-lab-leftovers';

/**
 * Record the real-kernel scenarios again from scratch in fresh network namespaces and
 * check that the new capture gets the stored expectations. Needs root (CI runs as root).
 */
/** writesContext: the recorder takes OUT CONTEXT.json; 'dir': it takes OUT-DIR and writes several hosts' files there. */
const SCENARIOS: [name: string, script: string, writesContext: boolean | 'dir', capture?: string][] = [
  ['docker0-overlap', 'record-docker0-overlap.sh', false],
  ['refusals', 'record-refusals.sh', false],
  ['route-conflict', 'record-route-conflict.sh', true],
  ['healthy', 'record-healthy.sh', false],
  ['rp-filter-strict', 'record-rp-filter-strict.sh', true],
  ['accept-queue-overflow', 'record-accept-queue-overflow.sh', true],
  ['syn-ack-lost', 'record-syn-ack-lost.sh', false],
  // File-format variants of refusals: same verdicts from other containers and link types.
  ['refusals-nanosecond', 'record-refusals-nanosecond.sh', false, 'capture.pcap'],
  ['refusals-big-endian', 'record-refusals-big-endian.sh', false, 'capture.pcap'],
  ['refusals-sll2', 'record-refusals-sll2.sh', false, 'capture.pcap'],
  ['refusals-vlan', 'record-refusals-vlan.sh', false],
  ['docker-gwbridge-ingress', 'record-docker-gwbridge-ingress.sh', true],
  ['published-port-docker-user-drop', 'record-published-port-docker-user-drop.sh', true],
  ['masquerade-outbound', 'record-masquerade-outbound.sh', true],
  ['redis-address-collision', 'record-redis-address-collision.sh', 'dir'],
  // Real Docker (docker-lab.sh): dockerd, a swarm init and teardown take longer.
  ['docker-real-docker-user-drop', 'record-docker-real-docker-user-drop.sh', true],
  ['docker-real-gwbridge-hostmode', 'record-docker-real-gwbridge-hostmode.sh', true],
  ['docker-real-swarm-ingress', 'record-docker-real-swarm-ingress.sh', true],
  ['docker-real-docker0-overlap', 'record-docker-real-docker0-overlap.sh', true],
  ['docker-real-double-route', 'record-docker-real-double-route.sh', true],
  ['docker-real-double-route-uplink-wins', 'record-docker-real-double-route-uplink-wins.sh', true],
  ['docker-real-compose-overlap', 'record-docker-real-compose-overlap.sh', true],
  ['docker-real-healthy', 'record-docker-real-healthy.sh', true],
  ['docker-real-listen-overflow', 'record-docker-real-listen-overflow.sh', true],
  ['docker-real-ip-forward-off', 'record-docker-real-ip-forward-off.sh', true],
  ['docker-real-icc-off', 'record-docker-real-icc-off.sh', true],
  ['docker-real-rp-filter', 'record-docker-real-rp-filter.sh', true],
  ['docker-real-syn-ack-lost', 'record-docker-real-syn-ack-lost.sh', true],
  ['docker-real-masquerade-missing', 'record-docker-real-masquerade-missing.sh', true],
  ['docker-real-host-input-drop', 'record-docker-real-host-input-drop.sh', true],
  ['docker-real-forward-policy-drop', 'record-docker-real-forward-policy-drop.sh', true],
  ['docker-real-localhost-bind', 'record-docker-real-localhost-bind.sh', true],
  ['docker-real-network-isolation', 'record-docker-real-network-isolation.sh', true],
  ['docker-real-publish-localhost', 'record-docker-real-publish-localhost.sh', true],
  ['docker-real-nftables-forward-drop', 'record-docker-real-nftables-forward-drop.sh', true],
  ['docker-real-internal-publish', 'record-docker-real-internal-publish.sh', true],
  ['docker-real-vm-bridge', 'record-docker-real-vm-bridge.sh', true],
  ['docker-real-outbound-overlap', 'record-docker-real-outbound-overlap.sh', true],
  ['docker-real-docker-user-replies', 'record-docker-real-docker-user-replies.sh', true],
  ['docker-real-ufw-forward', 'record-docker-real-ufw-forward.sh', true],
  ['docker-real-ufw-input', 'record-docker-real-ufw-input.sh', true],
  ['docker-real-nftables-flush', 'record-docker-real-nftables-flush.sh', true],
  ['docker-real-macvlan-host', 'record-docker-real-macvlan-host.sh', true],
  ['docker-real-conntrack-full', 'record-docker-real-conntrack-full.sh', true],
  ['docker-real-null-routes', 'record-docker-real-null-routes.sh', true],
  ['docker-real-ipv6-unrouted', 'record-docker-real-ipv6-unrouted.sh', true],
  // Two real dockerd nodes in one swarm: one attempt across them over the ingress overlay's VXLAN.
  ['docker-real-swarm-ingress-cross-node', 'record-docker-real-swarm-ingress-cross-node.sh', 'dir'],
  ['docker-real-swarm-ingress-vxlan-lost', 'record-docker-real-swarm-ingress-vxlan-lost.sh', 'dir'],
  // Two real dockerd hosts (no swarm) whose first containers share 172.17.0.55 (incident 004).
  ['docker-real-address-collision', 'record-docker-real-address-collision.sh', 'dir'],
];

/** Recorders that start a real dockerd get 180 s, the others 60 s. */
const timeoutOf = (name: string) => (name.startsWith('docker-real-') ? 180_000 : 60_000);

/**
 * A user network's bridge is br-<first 12 hex digits of its ID>, a new ID in every recording:
 * in a report of a new recording, each such bridge is renamed to the one the stored context
 * gives the network of the same name, so the verdicts compare.
 */
function sameBridgeNames(report: string, newContext: string, storedContext: string): string {
  type Nets = { dockerNetworks?: { name: string; bridge: string | null }[] | null };
  const read = (f: string) => (fs.existsSync(f) ? ((JSON.parse(fs.readFileSync(f, 'utf8')) as Nets).dockerNetworks ?? []) : []);
  const stored = read(storedContext);
  for (const n of read(newContext)) {
    const was = stored.find((m) => m.name === n.name)?.bridge;
    if (n.bridge?.startsWith('br-') && was?.startsWith('br-')) report = report.split(n.bridge).join(was);
  }
  return report;
}

for (const [name, script, writesContext, capture = 'capture.pcapng'] of SCENARIOS) {
  test(`re-recording ${name} in network namespaces gives the stored verdicts`, async () => {
    assert.equal(process.getuid?.(), 0, 'the namespace lab needs root (ip netns add); run the tests as root');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-lab-${name}-`));
    const out = path.join(dir, capture);
    const outputs = writesContext === 'dir' ? [dir] : writesContext ? [out, path.join(dir, 'context.json')] : [out];
    // A real-Docker recorder of one host keeps the report its live run printed (DOCKER_LIVE_JSON).
    const liveJson = name.startsWith('docker-real-') && writesContext !== 'dir' ? path.join(dir, 'live.json') : null;
    // The recorder's stderr goes with any difference: what the lab said while it ran.
    const recorded = spawnSync('bash', [path.join(REPO, 'test', 'lab', script), ...outputs], {
      encoding: 'utf8',
      timeout: timeoutOf(name),
      env: { ...process.env, ...(liveJson !== null && { DOCKER_LIVE_JSON: liveJson }) },
    });
    assert.equal(recorded.status, 0, `${script} exited ${recorded.status ?? recorded.signal}: ${recorded.stderr}`);
    assert.deepEqual(labLeftovers(`ss${recorded.pid}`), [], `${script} left its lab behind`);
    const expect = JSON.parse(fs.readFileSync(path.join(REPO, 'captures', name, 'expect.json'), 'utf8')) as Expectation;
    // A several-host recorder's files are named by the --host arguments of its expect.json.
    const files = writesContext === 'dir' ? [] : [out];
    const r = await runCli('analyze', ...files, '--json', '--all-flows', ...resolveScenarioArgs(expect.args ?? [], dir, fs.existsSync));
    assert.equal(r.code, 0, r.stderr);
    const diffs = compareWithExpectation(JSON.parse(sameBridgeNames(r.stdout, path.join(dir, 'context.json'), path.join(REPO, 'captures', name, 'context.json'))), expect);
    assert.deepEqual(diffs, [], `${diffs.join('\n')}\nrecorder stderr: ${recorded.stderr}`);
    if (liveJson !== null) {
      const plain = await runCli('analyze', ...files, '--json', ...resolveScenarioArgs(expect.args ?? [], dir, fs.existsSync));
      assert.deepEqual(verdictOf(JSON.parse(fs.readFileSync(liveJson, 'utf8')) as Report), verdictOf(JSON.parse(plain.stdout) as Report), `${name}: the live report and analyze of its files disagree`);
    }
  });
}
