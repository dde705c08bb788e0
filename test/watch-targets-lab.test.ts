import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './cli-harness';

/**
 * `synscope watch` with no interface, run inside a throw-away namespace: it starts on the
 * uplink and the bridge a Docker API (answered by this test on a unix socket) reports; a
 * network created later gets its bridge watched, one removed gets its bridge dropped, each
 * said in a `targets` event and on stderr (a bridge deleted while captured is a change, not a
 * failure), with a packet socket really opened on the new
 * bridge; SIGINT still ends it with 0. Needs root.
 */

const CLI = path.join(REPO, 'bin', 'synscope.js');
const NEW_NET_ID = '0123456789ab' + 'c'.repeat(52);
const NEW_BRIDGE = 'br-0123456789ab';

interface TargetsEvent {
  schema: string;
  type: 'targets';
  node: string;
  window: number;
  interfaces: { interface: string; role: string }[];
  added: { interface: string; role: string }[];
  removed: { interface: string; role: string }[];
}

test('watch without -i: uplink and Docker bridges found at start, a bridge that appears is added and one that goes is dropped (targets events), SIGINT exits 0', async () => {
  assert.equal(process.getuid?.(), 0, 'the namespace lab needs root');
  const ns = `sstargets${process.pid}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-targets-'));
  const socket = path.join(dir, 'docker.sock');
  const defaultBridge = { Name: 'bridge', Id: 'a'.repeat(64), Driver: 'bridge', Options: { 'com.docker.network.bridge.name': 'docker0' } };
  let networks: object[] = [defaultBridge];
  const docker = http.createServer((req, res) => {
    if (req.url !== '/networks') return void res.writeHead(404).end('{}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(networks));
  });
  await new Promise<void>((resolve) => docker.listen(socket, resolve));
  const children: ChildProcess[] = [];
  execFileSync('ip', ['netns', 'add', ns]);
  try {
    const ip = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args]);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'up4', 'type', 'veth', 'peer', 'name', 'up4-peer');
    for (const end of ['up4', 'up4-peer']) ip('link', 'set', end, 'up');
    ip('addr', 'add', '10.55.0.2/24', 'dev', 'up4');
    ip('route', 'add', 'default', 'via', '10.55.0.1', 'dev', 'up4');
    // Docker keeps its bridges up (IFF_UP), with or without containers.
    for (const bridge of ['docker0', NEW_BRIDGE]) ip('link', 'add', bridge, 'type', 'bridge');
    ip('link', 'set', 'docker0', 'up');

    const argv = [CLI, 'watch', '--window', '1s', '--docker-socket', socket, '--ingress-sandbox', path.join(dir, 'no-ingress_sbox')];
    const watch = spawn('ip', ['netns', 'exec', ns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(watch);
    let stdout = '';
    let stderr = '';
    watch.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    watch.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => watch.on('exit', (code) => resolve(code)));
    const targetsEvents = () => stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { type: string }).filter((e): e is TargetsEvent => e.type === 'targets');
    /** The interfaces some process has a packet socket bound to in the namespace (`ss -0`: "*:docker0"). */
    const captured = () => new Set([...execFileSync('ip', ['netns', 'exec', ns, 'ss', '-0', '-n', '-p'], { encoding: 'utf8' }).matchAll(/\*:(\S+)\s.*"node"/g)].map((m) => m[1]!));

    await waitFor(() => stderr.includes('capturing on'), 15_000, () => stderr);
    assert.match(stderr, /capturing on docker0 \[docker-bridge\], up4 \[uplink\] /);
    assert.deepEqual([...captured()].sort(), ['docker0', 'up4']);

    ip('link', 'set', NEW_BRIDGE, 'up');
    networks = [defaultBridge, { Name: 'web', Id: NEW_NET_ID, Driver: 'bridge', Options: {} }];
    await waitFor(() => targetsEvents().length >= 1 && stderr.includes(`added ${NEW_BRIDGE}`), 10_000, () => stdout + stderr);
    const added = targetsEvents()[0]!;
    assert.equal(added.schema, 'synscope.events/1');
    assert.equal(added.node, os.hostname());
    assert.deepEqual(added.added, [{ interface: NEW_BRIDGE, role: 'docker-bridge' }]);
    assert.deepEqual(added.removed, []);
    assert.deepEqual(added.interfaces.map((i) => i.interface), [NEW_BRIDGE, 'docker0', 'up4']);
    assert.match(stderr, new RegExp(`added ${NEW_BRIDGE}`));
    await waitFor(() => captured().has(NEW_BRIDGE), 10_000, () => stderr);

    // The bridge goes while captured (docker network rm deletes it before the API stops listing it).
    ip('link', 'del', NEW_BRIDGE);
    // The event (stdout) and its line (stderr) come through two pipes: either may be read first.
    await waitFor(() => targetsEvents().length >= 2 && stderr.includes(`dropped ${NEW_BRIDGE}`), 10_000, () => stdout + stderr);
    const removed = targetsEvents()[1]!;
    assert.deepEqual(removed.added, []);
    assert.deepEqual(removed.removed, [{ interface: NEW_BRIDGE, role: 'docker-bridge' }]);
    assert.ok(removed.window > added.window);
    assert.match(stderr, new RegExp(`dropped ${NEW_BRIDGE}`));
    // Mostly the handle sees the interface go first and says so; a window's rediscovery can be first (then nothing broke).
    if (stderr.includes(`${NEW_BRIDGE}: capture stopped`)) {
      assert.match(stderr, new RegExp(`${NEW_BRIDGE}: capture stopped: the interface was removed during the capture; capture goes on with the interfaces there are now`));
    }
    assert.match(stderr, new RegExp(`Docker reports bridge ${NEW_BRIDGE}, but there is no such interface here`));
    networks = [defaultBridge];
    assert.deepEqual([...captured()].sort(), ['docker0', 'up4']);

    watch.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.equal(targetsEvents().length, 2, 'no change without a change');
    assert.ok(!stderr.includes('internal error'), stderr);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    execFileSync('ip', ['netns', 'del', ns]);
    await new Promise((resolve) => docker.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Waits until `condition` holds; on timeout the error says what was awaited and what `state` shows. */
async function waitFor(condition: () => boolean, timeoutMs: number, state: () => string = () => ''): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${condition.toString()}\n${state()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
