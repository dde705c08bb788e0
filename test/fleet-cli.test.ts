import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockerRequest } from '../src/context/docker-api';
import { runCli, STACK_LINE } from './cli-harness';

/** A stand-in Engine API on a unix socket: GET /info and /version as the test says, and the requests it got. */
async function fakeEngine(swarm: object, apiVersion = '1.41'): Promise<{ socket: string; requests: string[]; close: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-fleet-cli-'));
  const socket = path.join(dir, 'docker.sock');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const body = req.url === '/info' ? { Swarm: swarm } : req.url === '/version' ? { ApiVersion: apiVersion } : null;
    res.writeHead(body === null ? 404 : 200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? { message: 'not here' }));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, requests, close: () => new Promise<void>((resolve) => server.close(() => (fs.rmSync(dir, { recursive: true, force: true }), resolve()))) };
}

test('fleet refuses, in one line and exit 2, a missing socket, a daemon outside a swarm, a worker, an API older than global jobs; and creates nothing', async () => {
  const missing = await runCli('fleet', '--docker-socket', '/nonexistent/docker.sock');
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, 'synscope: Docker Engine API: no socket at /nonexistent/docker.sock [ERR_BAD_USAGE]\n');

  const cases: [object, string, RegExp][] = [
    [{ LocalNodeState: 'inactive' }, '1.41', /is not in a swarm \(state inactive\): run fleet on a manager of the swarm/],
    [{ LocalNodeState: 'active', ControlAvailable: false }, '1.41', /is a swarm worker, not a manager/],
    [{ LocalNodeState: 'active', ControlAvailable: true }, '1.40', /speaks API 1\.40; fleet needs 1\.41 \(Docker 20\.10\) for global jobs/],
  ];
  for (const [swarm, version, message] of cases) {
    const engine = await fakeEngine(swarm, version);
    try {
      const r = await runCli('fleet', '--docker-socket', engine.socket, '--duration', '1s');
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.doesNotMatch(r.stderr, STACK_LINE);
      assert.ok(!engine.requests.some((q) => q.startsWith('POST')), `it created something: ${engine.requests.join(', ')}`);
    } finally {
      await engine.close();
    }
  }
});

test('fleet --help has examples and says what the job may do', async () => {
  const r = await runCli('fleet', '--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /\$ sudo synscope fleet --duration 20s/);
  assert.match(r.stdout, /NET_RAW and SYS_ADMIN/);
  assert.match(r.stdout, /removes the service, also on Ctrl-C or SIGTERM/);
});

test('a stop ends a Docker API request the engine never answers (fleet stopped while the logs are read), and a stop given already aborted sends nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-fleet-stop-'));
  const socket = path.join(dir, 'docker.sock');
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  try {
    const stop = new AbortController();
    const started = Date.now();
    const pending = dockerRequest(socket, 'GET', '/v1.41/services/x/logs', null, 60_000, stop.signal);
    while (held.length === 0) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    const answer = await pending;
    assert.deepEqual(answer, { ok: false, reason: `stopped before ${socket} answered` });
    assert.ok(Date.now() - started < 5_000, 'the stop did not end the request');
    const before = held.length;
    assert.equal((await dockerRequest(socket, 'GET', '/info', null, 60_000, AbortSignal.abort())).ok, false);
    assert.equal(held.length, before);
  } finally {
    for (const res of held) res.destroy();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
