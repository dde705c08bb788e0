import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { removeTraceLeftovers } from '../src/evidence/trace-leftovers';
import { startTraceSession } from '../src/evidence/trace-session';

/**
 * The sweep a session makes at its start spares what a living session holds (its
 * instance, and the temporary mount it opened it through) and removes what nobody
 * holds. Needs root; builds only its own instances.
 */

function mountedTracefs(): string[] {
  return fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[2] === 'tracefs').map((l) => l.split(' ')[1]!);
}

test('a running session survives the sweep; an instance of a dead owner does not', async () => {
  assert.equal(process.getuid?.(), 0, 'tracefs needs root; run the tests as root');
  const started = startTraceSession({ useExistingMount: false });
  assert.ok(started.ok, JSON.stringify(!started.ok && started.unavailable));
  const session = started.session;
  const root = path.dirname(path.dirname(session.instanceDir));
  // An older version's name whose PID is not alive, and one whose PID is (this process).
  const dead = path.join(root, 'instances', 'synscope-4194305-1');
  const living = path.join(root, 'instances', `synscope-${process.pid}-1`);
  fs.mkdirSync(dead);
  fs.mkdirSync(living);
  try {
    // Old enough that only the held file protects it, not its age.
    const until = fs.statSync(session.instanceDir).ctimeMs + 2100;
    while (Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const removed = removeTraceLeftovers(root, null);
    assert.ok(removed.instances.includes('synscope-4194305-1'));
    assert.ok(!fs.existsSync(dead));
    assert.ok(fs.existsSync(living), 'an older version\'s instance is kept while its PID lives');
    assert.ok(fs.existsSync(session.instanceDir), 'the running session\'s instance is kept');
    assert.ok(!removed.mounts.includes(session.mountPoint!));
    assert.ok(mountedTracefs().includes(session.mountPoint!), 'and its mount');
  } finally {
    fs.rmdirSync(living);
    const result = session.stop();
    assert.ok(!result.unavailable.some((u) => /cannot/.test(u.reason)), JSON.stringify(result.unavailable));
  }
  assert.ok(!fs.existsSync(session.instanceDir));
  assert.ok(!fs.existsSync(session.mountPoint!));
});
