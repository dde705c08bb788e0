import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, runCli } from './cli-harness';
import { checkVerdicts, verdictOf, type Report, type VerdictScenario } from './docker-verdicts';
import { runLabScript } from './lab-script';

/**
 * The real-Docker bridge scenarios (docker-real-docker0-overlap, -compose-overlap,
 * -double-route, -healthy): the verdicts of the stored captures, and every remedy synscope
 * prints for them applied in the lab and shown to make the failing client connect. Each
 * recorder builds its lab on a real dockerd (test/lab/docker-lab.sh) and captures with
 * `synscope live --write`; with DOCKER_REMEDY_DIR set it hands over to
 * test/lab/docker-bridge-remedy.sh while the lab runs, which analyzes the written files, turns
 * the one ERROR's remedy lines into steps (test/lab/bridge-remedy-plan.js: daemon.json keys,
 * the dockerd restart, docker commands as printed, the containers moved), applies them and
 * tries the client again. Needs root and Debian's docker.io.
 */

interface Scenario extends VerdictScenario {
  /** The remedy is applied in the lab (scenarios with a failing client). */
  remedy: boolean;
}

const overlap = (r: Report) => r.findings.find((f) => f.code === 'bridge-subnet-overlap')!;

const SCENARIOS: Scenario[] = [
  {
    name: 'docker-real-docker0-overlap',
    failing: { '172.17.0.50': 'bridge-subnet-overlap' },
    healthy: ['192.0.2.10'],
    remedy: true,
    check(r) {
      const f = overlap(r);
      assert.equal(f.evidence.bridge, 'docker0');
      assert.equal(f.evidence.subnet, '172.17.0.0/16');
      assert.equal(f.evidence.repliesFrom, '172.17.0.2', 'the container answers the DNATed SYN');
      assert.equal(r.findings.length, 1, 'no route-conflict: the host is not the one replying');
    },
  },
  {
    name: 'docker-real-compose-overlap',
    failing: { '192.168.5.20': 'bridge-subnet-overlap' },
    healthy: ['192.0.2.10'],
    remedy: true,
    check(r) {
      const f = overlap(r);
      assert.match(String(f.evidence.bridge), /^br-[0-9a-f]{12}$/, "the stack network's own bridge");
      assert.equal(f.evidence.subnet, '192.168.0.0/20');
      assert.equal(f.evidence.repliesFrom, '192.168.0.2');
      assert.equal(r.findings.length, 1);
    },
  },
  {
    name: 'docker-real-outbound-overlap',
    failing: { '172.17.0.2': 'bridge-subnet-overlap' },
    healthy: ['192.0.2.1'],
    remedy: true,
    check(r) {
      const f = overlap(r);
      assert.match(String(f.evidence.bridge), /^br-[0-9a-f]{12}$/, "the stack network's own bridge");
      assert.deepEqual([f.evidence.network, f.evidence.subnet, f.evidence.servers, f.confidence], ['stack_default', '192.168.0.0/20', ['192.168.5.20'], 'high']);
      assert.match(String(f.evidence.forwardVerdictBy), /^-A DOCKER-ISOLATION-STAGE-2 -o br-/, "Docker's isolation rule is where cli's SYNs die, named as a side fact");
      assert.match(f.remedy[0]!, /^Recreate the network stack_default /);
      assert.deepEqual(r.findings.map((x) => x.code), ['bridge-subnet-overlap'], 'no nat-path-break proposing docker network connect');
    },
  },
  {
    name: 'docker-real-double-route-uplink-wins',
    // eth0's route wins: the container the DNAT targets is looked for on eth0, every client fails.
    failing: { '192.168.0.50': 'bridge-subnet-overlap', '203.0.113.20': 'bridge-subnet-overlap' },
    healthy: [],
    remedy: true,
    check(r) {
      const f = overlap(r);
      assert.equal(f.evidence.dnatTarget, '192.168.0.2');
      assert.equal(f.evidence.dnatTargetRoutedVia, 'eth0');
      assert.equal((f.evidence.doubleRoute as { winner: string }).winner, '192.168.0.0/24 dev eth0');
      assert.deepEqual(r.findings.map((x) => x.code), ['bridge-subnet-overlap'], 'no filtered, no route-conflict beside it');
    },
  },
  {
    name: 'docker-real-double-route',
    failing: { '192.168.0.50': 'bridge-subnet-overlap' },
    healthy: ['203.0.113.20'],
    remedy: true,
    check(r) {
      const f = overlap(r);
      assert.equal(f.evidence.bridge, 'docker0');
      assert.equal(f.evidence.subnet, '192.168.0.0/24');
      const d = f.evidence.doubleRoute as { prefix: string; routes: string[]; winner: string };
      assert.equal(d.prefix, '192.168.0.0/24', 'the double route is the evidence');
      assert.deepEqual([...d.routes].sort(), ['192.168.0.0/24 dev docker0', '192.168.0.0/24 dev eth0']);
      assert.equal(d.winner, '192.168.0.0/24 dev docker0');
      assert.ok(!r.findings.some((x) => x.code === 'route-conflict'), 'no separate route-conflict when docker0 owns the prefix');
    },
  },
  {
    name: 'docker-real-healthy',
    failing: {},
    healthy: ['192.0.2.10', '198.51.100.20', '203.0.113.20'],
    remedy: false,
    check(r) {
      assert.deepEqual(r.findings, [], 'no finding at all');
      assert.equal(r.summary.handshakes.completed, r.summary.handshakes.attempted);
    },
  },
];

for (const s of SCENARIOS) {
  test(`stored ${s.name}: one ERROR per failing client with the lab's cause, no healthy client in any finding`, async () => {
    const dir = path.join(REPO, 'captures', s.name);
    const r = await runCli('analyze', path.join(dir, 'capture.pcapng'), '--context', path.join(dir, 'context.json'), '--json');
    assert.equal(r.code, 0, r.stderr);
    checkVerdicts(s, JSON.parse(r.stdout) as Report, `captures/${s.name}`);
  });
}

function readTsv(file: string): { kind: string; rc: number; secs: number; arg: string }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [kind, rc, secs, ...rest] = l.split('\t');
      return { kind: kind!, rc: Number(rc), secs: Number(secs), arg: rest.join('\t') };
    });
}

for (const s of SCENARIOS.filter((x) => x.remedy)) {
  test(`${s.name}: the printed remedy, applied in the real-Docker lab, makes the failing client connect`, { timeout: 200_000 }, (t) => {
    assert.equal(process.getuid?.(), 0, 'the Docker lab needs root; run the tests as root');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `synscope-remedy-${s.name}-`));
    const started = Date.now();
    runLabScript(`${s.name}: the lab`, path.join(REPO, 'test', 'lab', `record-${s.name}.sh`), [path.join(dir, 'out.pcapng'), path.join(dir, 'out.json')], {
      timeoutMs: 180_000,
      env: { ...process.env, DOCKER_REMEDY_DIR: dir, DOCKER_LIVE_JSON: path.join(dir, 'live.json') },
    });
    const analyzed = JSON.parse(fs.readFileSync(path.join(dir, 'analyzed.json'), 'utf8')) as Report;
    const live = JSON.parse(fs.readFileSync(path.join(dir, 'live.json'), 'utf8')) as Report;
    checkVerdicts(s, analyzed, `${s.name} (analyze of the written files)`);
    assert.deepEqual(verdictOf(live), verdictOf(analyzed), `${s.name}: the live report and analyze of its files disagree`);

    const proposed = String(overlap(analyzed).evidence.proposedSubnet);
    // Clients of one finding share its remedy; the lab applies it once, for the first of them.
    const plan = (c: string) => fs.readFileSync(path.join(dir, `steps-${c}.tsv`), 'utf8');
    const appliedFor = (c: string) => Object.keys(s.failing).find((first) => plan(first) === plan(c))!;
    for (const client of Object.keys(s.failing)) {
      const before = fs.readFileSync(path.join(dir, `before-${client}.txt`), 'utf8');
      assert.equal(before, '', `${client} got an answer before the remedy:\n${before}`);
      const by = appliedFor(client);
      const steps = readTsv(path.join(dir, `applied-${by}.tsv`));
      assert.ok(steps.some((st) => st.kind === 'restart' || st.kind === 'docker'), `${client}: no remedy step was applied`);
      steps.forEach((st, i) => {
        const out = fs.readFileSync(path.join(dir, `step-${by}-${i + 1}.out`), 'utf8');
        assert.equal(st.rc, 0, `${client}: remedy step ${st.kind} "${st.arg}" failed (${st.rc}):\n${out}`);
      });
      if (overlap(analyzed).evidence.bridge === 'docker0') {
        // Why the docker0 remedy says `docker start`: the restart leaves a container without a restart policy stopped.
        const restarted = fs.readFileSync(path.join(dir, `step-${by}-${steps.findIndex((st) => st.kind === 'restart') + 1}.out`), 'utf8');
        assert.match(restarted, /^web Exited /m, `web is not stopped after dockerd's restart:\n${restarted}`);
        assert.ok(steps.some((st) => st.kind === 'docker' && st.arg === 'docker start web'), 'the remedy starts web again');
      }
      if (s.name === 'docker-real-compose-overlap') {
        // The network recreated and the container moved to it is the fix, its published port carried over; the pool and restart keep new networks off the range.
        const mid = fs.readFileSync(path.join(dir, `before-restart-${client}.txt`), 'utf8');
        assert.match(mid, /^HTTP\/1\.[01] 200 OK/, `${client} gets no page once the container is on the new network (before the restart):\n${mid}`);
      }
      t.diagnostic(`${client}: ${steps.map((st) => `${st.kind}${st.arg === '-' ? '' : ` ${st.arg}`} (${st.secs} s)`).join('; ')}`);
      const after = fs.readFileSync(path.join(dir, `after-${client}.txt`), 'utf8');
      assert.match(after, /^HTTP\/1\.[01] 200 OK/, `${client} still gets no page after the remedy:\n${after}`);
    }
    for (const good of fs.readdirSync(dir).filter((f) => f.startsWith('after-good-'))) {
      assert.match(fs.readFileSync(path.join(dir, good), 'utf8'), /^HTTP\/1\.[01] 200 OK/, `${good}: a healthy client broke`);
    }
    // The moved network is on the subnet the finding proposed, and no bridge network is left on the old one.
    const networks = fs.readFileSync(path.join(dir, 'networks-after.txt'), 'utf8');
    const moved = overlap(analyzed).evidence.bridge === 'docker0' ? 'bridge' : 'stack_default2';
    assert.match(networks, new RegExp(`^${moved} ${proposed.replace(/\./g, '\\.')}$`, 'm'), `${moved} is not on ${proposed}:\n${networks}`);
    assert.ok(!networks.includes(` ${overlap(analyzed).evidence.subnet}`), `a network is still on ${String(overlap(analyzed).evidence.subnet)}:\n${networks}`);
    t.diagnostic(`${s.name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
