import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCode, SynscopeError } from '../src/errors';
import { loadNativeAddon, type NativeAddon } from '../src/native/addon';
import { inNetns } from '../src/netns/in-netns';
import { resolveNamespaceSpec } from '../src/netns/namespace-spec';

/**
 * The setns(2) wrapper of the native addon, in throw-away namespaces. Needs root and a
 * built addon (`npm run build:native`): without them the tests fail, they do not skip.
 */
const NS = `ssnetns${process.pid}`;
const NS2 = `${NS}-b`;
const STEP_TIMEOUT_MS = 10_000;

let addon: NativeAddon;
let original = 0;

function threadNetns(): number {
  return fs.statSync('/proc/thread-self/ns/net').ino;
}

function inode(file: string): number {
  return fs.statSync(file).ino;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: 'pipe', timeout: STEP_TIMEOUT_MS });
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'this test creates network namespaces (ip netns add) and needs root; run the tests as root');
  const load = loadNativeAddon();
  assert.ok('addon' in load, 'reason' in load ? load.reason : '');
  addon = load.addon;
  original = threadNetns();
  ip('netns', 'add', NS);
  ip('netns', 'add', NS2);
});

after(() => {
  for (const ns of [NS, NS2]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Never created (before failed early).
    }
  }
});

test('runInNetns runs fn in the namespace, child processes inherit it, and the thread comes back', () => {
  const seen = addon.runInNetns(`/run/netns/${NS}`, () => ({
    inode: threadNetns(),
    links: (JSON.parse(ip('-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname),
  }));
  assert.equal(seen.inode, inode(`/run/netns/${NS}`));
  assert.deepEqual(seen.links, ['lo']);
  assert.equal(threadNetns(), original);
});

test('runInNetns returns to the namespace the thread was in, not the process start one, when nested', () => {
  const inner = addon.runInNetns(`/run/netns/${NS}`, () => {
    const deeper = addon.runInNetns(`/run/netns/${NS2}`, threadNetns);
    return { deeper, back: threadNetns() };
  });
  assert.equal(inner.deeper, inode(`/run/netns/${NS2}`));
  assert.equal(inner.back, inode(`/run/netns/${NS}`));
  assert.equal(threadNetns(), original);
});

test('an exception from fn propagates and the thread is back in its namespace', () => {
  const thrown = new Error('from inside');
  assert.throws(
    () =>
      addon.runInNetns(`/run/netns/${NS}`, () => {
        throw thrown;
      }),
    (e) => e === thrown,
  );
  assert.equal(threadNetns(), original);
});

test('a missing namespace file throws ENOENT naming the path, and fn never runs', () => {
  let ran = false;
  const missing = `/run/netns/${NS}-missing`;
  assert.throws(
    () => addon.runInNetns(missing, () => (ran = true)),
    (e: Error & { code?: string }) => e.code === 'ENOENT' && e.message.includes(missing),
  );
  assert.equal(ran, false);
  assert.equal(threadNetns(), original);
});

test('a file that is not a network namespace throws EINVAL', () => {
  for (const notNetns of ['/proc/self/ns/uts', '/etc/hostname']) {
    assert.throws(
      () => addon.runInNetns(notNetns, () => 0),
      (e: Error & { code?: string }) => e.code === 'EINVAL' && /not a network namespace/.test(e.message),
    );
  }
  assert.equal(threadNetns(), original);
});

test('enterNetns moves a one-shot child process for good', () => {
  const addonFile = path.join(__dirname, '..', '..', 'native', 'build', 'Release', 'synscope_native.node');
  const script = [
    `require(${JSON.stringify(addonFile)}).enterNetns(${JSON.stringify(`/run/netns/${NS}`)});`,
    `process.stdout.write(String(require('fs').statSync('/proc/thread-self/ns/net').ino));`,
  ].join('\n');
  const childInode = Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: STEP_TIMEOUT_MS }));
  assert.equal(childInode, inode(`/run/netns/${NS}`));
});

test('namespace specs resolve by name, by absolute path and by pid', async () => {
  const nsInode = inode(`/run/netns/${NS}`);
  const byName = resolveNamespaceSpec(NS);
  assert.deepEqual(byName, { path: `/run/netns/${NS}`, label: NS });
  const byPath = resolveNamespaceSpec(`/var/run/netns/${NS}`);
  // A namespace given by path is named by its file name (ingress_sbox), the path kept beside it.
  assert.deepEqual(byPath, { path: `/var/run/netns/${NS}`, label: NS });

  // `ip netns exec` enters the namespace and then execs sleep, so the pid is sleep's.
  const sleeper = spawn('ip', ['netns', 'exec', NS, 'sleep', '30'], { stdio: 'ignore' });
  try {
    const pid = sleeper.pid!;
    await waitFor(() => inodeOrNull(`/proc/${pid}/ns/net`) === nsInode, 15_000);
    assert.deepEqual(resolveNamespaceSpec(`/proc/${pid}/ns/net`), { path: `/proc/${pid}/ns/net`, label: `pid:${pid}` });
    for (const spec of [String(pid), `pid:${pid}`]) {
      const byPid = resolveNamespaceSpec(spec);
      assert.deepEqual(byPid, { path: `/proc/${pid}/ns/net`, label: `pid:${pid}` });
      assert.equal(inNetns(byPid, threadNetns), nsInode);
    }
    for (const resolved of [byName, byPath]) assert.equal(inNetns(resolved, threadNetns), nsInode);
    assert.equal(threadNetns(), original);
  } finally {
    sleeper.kill();
  }
});

test('an unknown namespace spec throws ERR_NETNS_NOT_FOUND listing the named namespaces', () => {
  for (const spec of [`${NS}-nope`, `/run/netns/${NS}-nope`, 'pid:999999999']) {
    assert.throws(
      () => resolveNamespaceSpec(spec),
      (e) => e instanceof SynscopeError && e.code === ErrorCode.NETNS_NOT_FOUND && e.message.includes(NS) && !e.message.includes('\n'),
    );
  }
  assert.throws(() => resolveNamespaceSpec('relative/path'), (e) => e instanceof SynscopeError && e.code === ErrorCode.BAD_USAGE);
});

test('inNetns(null) just calls fn; a namespace gone since it was resolved is ERR_NETNS_NOT_FOUND', () => {
  assert.equal(inNetns(null, () => 42), 42);
  const gone = { path: `/run/netns/${NS}-gone`, label: `${NS}-gone` };
  assert.throws(
    () => inNetns(gone, () => 0),
    (e) => e instanceof SynscopeError && e.code === ErrorCode.NETNS_NOT_FOUND,
  );
  assert.equal(threadNetns(), original);
});

function inodeOrNull(file: string): number | null {
  try {
    return inode(file);
  } catch {
    return null;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
