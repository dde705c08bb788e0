import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from './cli-harness';
import { leftovers, readEnv, rootNetwork } from './docker-lab-leftovers';
import { runLabScript } from './lab-script';

/**
 * The real-Docker lab (test/lab/docker-lab.sh): a real dockerd contained in a lab network
 * namespace publishes a container's port, a client on the node's uplink fetches the page,
 * `synscope context` reads the real Engine API, swarm init brings docker_gwbridge and
 * ingress_sbox, a swarm service's published port answers through the routing mesh's
 * stand-in, and the teardown leaves nothing behind, twice in a row. Needs root and
 * Debian's docker.io, containerd, runc and busybox-static (CI installs them).
 */

const CHECK = path.join(REPO, 'test', 'lab', 'docker-lab-check.sh');

interface DockerNetwork {
  name: string;
  driver: string;
  subnets: string[];
  bridge: string | null;
}

interface Context {
  interfaces: { name: string; kind: string }[];
  dockerNetworks: DockerNetwork[] | null;
  unavailable: { source: string; reason: string }[];
}

function checkRun(attempt: string): Record<string, number> {
  const before = rootNetwork();
  const hostname = os.hostname();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-docker-lab-${attempt.replace(' ', '-')}-`));
  runLabScript(`${attempt}: docker-lab-check.sh`, CHECK, [out], { timeoutMs: 150_000 });
  const { LAB: lab, DOCKER_LAB_TMP: tmp } = readEnv(path.join(out, 'lab.env'));
  assert.match(lab ?? '', /^ss\d+$/);
  assert.match(tmp ?? '', /^\/tmp\/synscope-docker-/);

  // The node has a UTS namespace of its own: its Engine is named after it, the root's hostname stays.
  assert.equal(fs.readFileSync(path.join(out, 'engine-name.txt'), 'utf8').trim(), 'node1');
  assert.equal(os.hostname(), hostname, `${attempt}: the root namespace's hostname changed`);

  // The published port, through Docker's own DNAT on the node, from a client on its uplink.
  const page = fs.readFileSync(path.join(out, 'page.txt'), 'utf8');
  assert.match(page, /^HTTP\/1\.[01] 200 OK/, `${attempt}: the client got no page through 192.0.2.1:8080:\n${page}`);
  assert.match(page, /synscope docker lab/);

  // synscope context in the node namespace, with the real Engine API's networks.
  const ctx = JSON.parse(fs.readFileSync(path.join(out, 'context.json'), 'utf8')) as Context;
  assert.deepEqual(ctx.unavailable.filter((u) => u.source === 'docker'), [], `${attempt}: the Docker API was unavailable`);
  const docker0 = ctx.interfaces.find((i) => i.name === 'docker0');
  assert.equal(docker0?.kind, 'bridge', `${attempt}: no docker0 bridge in the node's context`);
  const networks = (ctx.dockerNetworks ?? []).map((n) => [n.name, n.driver, n.bridge, n.subnets.join(',')]);
  assert.deepEqual(
    networks.filter(([name]) => name === 'bridge' || name === 'host' || name === 'none'),
    [
      ['bridge', 'bridge', 'docker0', '172.17.0.0/16'],
      ['host', 'host', null, ''],
      ['none', 'null', null, ''],
    ],
  );

  // swarm init: docker_gwbridge on the node, ingress_sbox in EXEC_ROOT/netns, reachable.
  assert.match(fs.readFileSync(path.join(out, 'gwbridge.txt'), 'utf8'), /docker_gwbridge\s+inet 172\.18\.0\.1\/16/);
  assert.match(fs.readFileSync(path.join(out, 'sandboxes.txt'), 'utf8'), /^ingress_sbox$/m);
  const sbox = fs.readFileSync(path.join(out, 'ingress-sbox.txt'), 'utf8');
  assert.match(sbox, /inet 10\.0\.0\.\d+\/24/, `${attempt}: ingress_sbox has no ingress-network address:\n${sbox}`);
  assert.match(sbox, /inet 172\.18\.0\.\d+\/16/, `${attempt}: ingress_sbox has no docker_gwbridge address:\n${sbox}`);
  // A swarm service's published port through the node, ingress_sbox (IPVS stand-in) and the overlay.
  const meshPage = fs.readFileSync(path.join(out, 'ingress-page.txt'), 'utf8');
  assert.match(meshPage, /^HTTP\/1\.[01] 200 OK/, `${attempt}: no page through the ingress stand-in on 192.0.2.1:8081:\n${meshPage}`);

  // Nothing left, and the root namespace's network untouched.
  assert.deepEqual(leftovers(lab!, tmp!), [], `${attempt}: the teardown left things behind`);
  assert.equal(rootNetwork(), before, `${attempt}: the root namespace's network changed`);

  const timings: Record<string, number> = {};
  for (const line of fs.readFileSync(path.join(out, 'timings.txt'), 'utf8').trim().split('\n')) {
    const [what, secs] = line.split(' ');
    timings[what!] = Number(secs);
  }
  fs.rmSync(out, { recursive: true, force: true });
  return timings;
}

test('a real dockerd in a lab namespace publishes a port, feeds synscope context, runs swarm init with a published service and leaves nothing, twice in a row', { timeout: 320_000 }, (t) => {
  assert.equal(process.getuid?.(), 0, 'the Docker lab needs root (ip netns add, dockerd); run the tests as root');
  for (const attempt of ['first run', 'second run']) {
    const timings = checkRun(attempt);
    t.diagnostic(`${attempt}: ${Object.entries(timings).map(([k, v]) => `${k} ${v} s`).join(', ')}`);
  }
});
