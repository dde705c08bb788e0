import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { REPO } from './cli-harness';
import type { Discovery } from '../src/watch/default-targets';
import { targetChange } from '../src/watch/target-changes';

/**
 * What `synscope watch` captures on by itself, found in a throw-away namespace: veth
 * uplinks with IPv4 and IPv6 default routes, fake Docker bridges (ip link add type
 * bridge) that a Docker Engine API answered by this test on a unix socket reports, and a
 * second namespace standing in for ingress_sbox. Discovery runs in a child inside the
 * namespace, as watch would. Needs root.
 */

const DISCOVERY = path.join(REPO, 'dist', 'src', 'watch', 'default-targets.js');
const run = promisify(execFile);

/** The Engine API's GET /networks answer for a network (only the fields discovery reads). */
function network(name: string, id: string, driver: string, bridgeName?: string): object {
  return { Name: name, Id: id, Driver: driver, Scope: 'local', Options: bridgeName === undefined ? {} : { 'com.docker.network.bridge.name': bridgeName } };
}

const USER_NET_ID = '0123456789ab' + 'c'.repeat(52);
const LATER_NET_ID = 'fedcba987654' + 'd'.repeat(52);

test('watch discovery: uplinks of the default routes, the bridges the Docker API reports that exist here, the ingress sandbox\'s interfaces; a bridge that comes and one that goes are a change', async () => {
  assert.equal(process.getuid?.(), 0, 'the namespace lab needs root');
  const ns = `ssdisc${process.pid}`;
  const sandboxNs = `ssdisc${process.pid}-sbox`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-discovery-'));
  const socket = path.join(dir, 'docker.sock');
  let networks: object[] = [
    network('bridge', 'a'.repeat(64), 'bridge', 'docker0'),
    network('docker_gwbridge', 'b'.repeat(64), 'bridge'),
    network('web', USER_NET_ID, 'bridge'),
    network('named', 'e'.repeat(64), 'bridge', 'custombr'),
    network('ingress', 'f'.repeat(64), 'overlay'),
    network('host', '1'.repeat(64), 'host'),
  ];
  const docker = http.createServer((req, res) => {
    if (req.url !== '/networks') return void res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(networks));
  });
  await new Promise<void>((resolve) => docker.listen(socket, resolve));
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['netns', 'add', sandboxNs]);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
    ip('link', 'set', 'lo', 'up');
    // veth pairs, not dummies: this kernel has no dummy module. The peers hold no route.
    for (const dev of ['up4', 'up6', 'side0']) {
      ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}-peer`);
      for (const end of [dev, `${dev}-peer`]) ip('link', 'set', end, 'up');
    }
    ip('addr', 'add', '10.55.0.2/24', 'dev', 'up4');
    ip('route', 'add', 'default', 'via', '10.55.0.1', 'dev', 'up4');
    ip('addr', 'add', '10.56.0.2/24', 'dev', 'side0');
    ip('-6', 'addr', 'add', '2001:db8:55::2/64', 'dev', 'up6', 'nodad');
    ip('-6', 'route', 'add', 'default', 'via', '2001:db8:55::1', 'dev', 'up6');
    for (const bridge of ['docker0', 'docker_gwbridge', 'br-0123456789ab', 'custombr', 'br-notdocker0']) ip('link', 'add', bridge, 'type', 'bridge');
    execFileSync('ip', ['-n', sandboxNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);

    const discover = async (dockerSocket: string): Promise<Discovery> => {
      const program = `require(${JSON.stringify(DISCOVERY)}).discoverWatchTargets(${JSON.stringify({ dockerSocket, ingressSandbox: `/run/netns/${sandboxNs}` })}).then((d) => console.log(JSON.stringify(d)))`;
      const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', program], { timeout: 20_000 });
      return JSON.parse(stdout) as Discovery;
    };
    const shown = (d: Discovery) => d.targets.map((t) => `${t.namespace === null ? '' : `${t.namespace.label}:`}${t.device} ${t.role}`);

    const first = await discover(socket);
    assert.deepEqual(shown(first), [
      'br-0123456789ab docker-bridge',
      'custombr docker-bridge',
      'docker0 docker-bridge',
      'docker_gwbridge docker-bridge',
      'up4 uplink',
      'up6 uplink',
      `${sandboxNs}:eth0 ingress-sandbox`,
      `${sandboxNs}:eth1 ingress-sandbox`,
    ]);
    assert.deepEqual(first.notes, []);

    // A network comes (its bridge with it), one goes, and one is reported whose bridge is gone.
    ip('link', 'add', 'br-fedcba987654', 'type', 'bridge');
    ip('link', 'del', 'custombr');
    networks = networks.filter((n) => (n as { Name: string }).Name !== 'named').concat(network('later', LATER_NET_ID, 'bridge'), network('stale', '9'.repeat(64), 'bridge', 'br-gone'));
    const second = await discover(socket);
    const change = targetChange(first.targets, second.targets);
    assert.ok(change !== null);
    assert.deepEqual(change.added.map((t) => t.device), ['br-fedcba987654']);
    assert.deepEqual(change.removed.map((t) => t.device), ['custombr']);
    assert.deepEqual(second.notes, ['Docker reports bridge br-gone, but there is no such interface here']);
    assert.equal(targetChange(second.targets, second.targets), null, 'the same interfaces are no change');

    // No Docker daemon: the uplinks and the sandbox are still watched, and the note says why the bridges are not.
    const missing = path.join(dir, 'no-docker.sock');
    const alone = await discover(missing);
    assert.deepEqual(shown(alone), ['up4 uplink', 'up6 uplink', `${sandboxNs}:eth0 ingress-sandbox`, `${sandboxNs}:eth1 ingress-sandbox`]);
    assert.deepEqual(alone.notes, [`Docker bridges not looked for: no socket at ${missing}`]);
  } finally {
    execFileSync('ip', ['netns', 'del', ns]);
    execFileSync('ip', ['netns', 'del', sandboxNs]);
    await new Promise((resolve) => docker.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
