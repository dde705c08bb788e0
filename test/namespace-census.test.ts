import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { parseProcNet } from '../src/context/parse-proc-net';
import { DIAGNOSTIC_COUNTERS } from '../src/evidence/kernel-counters';
import { countersThrough, listenersThrough, localAddresses, namespaceCensus, namespaceOf } from '../src/evidence/namespace-census';
import { KernelWindow } from '../src/live/kernel-window';

/**
 * A live window also reads the counters of the host's other namespaces (a container's, where a
 * listener behind DNAT counts its drops), through a process in each. Builds a namespace with a
 * process in it and an address; needs root and fails without it.
 */
const NS = `sscensus${process.pid}`;
const READY_MS = 10_000;
let holder: ChildProcess | null = null;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'this test builds a network namespace (ip netns add) and needs root');
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['-n', NS, 'addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
  execFileSync('ip', ['-n', NS, 'addr', 'add', 'fd99::1/128', 'dev', 'lo', 'nodad']);
  // The process in NS holds a listener on 127.0.0.1:8000 (a server bound to localhost), for 120 s at most.
  const listen = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 8000)); s.listen(); time.sleep(120)";
  holder = spawn('ip', ['netns', 'exec', NS, 'python3', '-c', listen], { stdio: 'ignore' });
  const inode = fs.statSync(`/run/netns/${NS}`).ino;
  const until = Date.now() + READY_MS;
  while (namespaceOf(holder.pid!) !== inode || !(listenersThrough(holder.pid!) ?? []).includes('127.0.0.1:8000')) {
    assert.ok(Date.now() < until, `the process did not enter ${NS} and listen within ${READY_MS} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
});

after(() => {
  holder?.kill();
  execFileSync('ip', ['netns', 'delete', NS]);
});

test('local addresses come from fib_trie\'s /32 host LOCAL leaves and if_inet6, loopback and link-local left out', () => {
  const fibTrie = [
    'Main:',
    '  +-- 0.0.0.0/0 3 0 5',
    '     |-- 0.0.0.0',
    '        /0 universe UNICAST',
    '           |-- 127.0.0.1',
    '              /32 host LOCAL',
    '     +-- 172.17.0.0/16 2 0 2',
    '           |-- 172.17.0.0',
    '              /16 link UNICAST',
    '           |-- 172.17.0.2',
    '              /32 host LOCAL',
    '        |-- 172.17.255.255',
    '           /32 link BROADCAST',
    'Local:',
    '           |-- 172.17.0.2',
    '              /32 host LOCAL',
  ].join('\n');
  const ifInet6 = 'fd000000000000000000000000000002 04 40 00 82     eth0\nfe8000000000000000fc00fffe000001 04 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n';
  assert.deepEqual(localAddresses(fibTrie, ifInet6), ['172.17.0.2', 'fd00::2']);
});

test('the diagnostic counters read through a process are the ones the whole parse gives', () => {
  const all = Object.assign({}, ...['netstat', 'snmp'].map((f) => parseProcNet(fs.readFileSync(`/proc/${holder!.pid}/net/${f}`, 'utf8')))) as Record<string, number>;
  const through = countersThrough(holder!.pid!);
  assert.ok(Object.keys(through).length >= 10, JSON.stringify(through));
  for (const [name, value] of Object.entries(through)) {
    assert.ok((DIAGNOSTIC_COUNTERS as readonly string[]).includes(name), name);
    assert.ok(Math.abs(all[name]! - value) <= 2, `${name}: ${value} against ${all[name]}`);
  }
  assert.deepEqual(Object.keys(through).sort(), DIAGNOSTIC_COUNTERS.filter((c) => all[c] !== undefined).sort());
});

test('the census finds each namespace once, through a process in it', () => {
  const census = namespaceCensus();
  assert.equal(census.get(fs.statSync(`/run/netns/${NS}`).ino) !== undefined, true, `${NS} is found through its process`);
  assert.equal(census.get(fs.statSync('/proc/self/ns/net').ino) !== undefined, true, 'this process\'s own namespace too');
});

test('a window reads the other namespaces\' diagnostic counters and addresses, not the targets\' again', () => {
  const window = new KernelWindow([null], false);
  window.begin();
  // A SYN to a closed port inside NS: its kernel answers with a RST (Tcp.OutRsts +1).
  try {
    execFileSync('ip', ['netns', 'exec', NS, 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/9'], { stdio: 'ignore', timeout: READY_MS });
  } catch {
    // Refused, as it should be.
  }
  const evidence = window.end();
  const mine = (evidence.otherNamespaces ?? []).filter((o) => o.addresses.includes('10.99.0.1'));
  assert.equal(mine.length, 1, JSON.stringify(evidence.otherNamespaces));
  assert.deepEqual(mine[0]!.addresses.sort(), ['10.99.0.1', 'fd99::1']);
  assert.deepEqual(mine[0]!.listeners, ['127.0.0.1:8000'], 'its listening sockets, read through its process');
  assert.ok((mine[0]!.deltas['Tcp.OutRsts'] ?? 0) >= 1, JSON.stringify(mine[0]));
  assert.match(mine[0]!.namespace, /^pid:\d+$/);
  assert.ok(Object.keys(mine[0]!.deltas).every((c) => /^(TcpExt|Tcp|Ip|IpExt)\./.test(c)), 'only the diagnostic counters');
  assert.equal(evidence.counters.length, 1, 'the target itself is read once, as a target');
  assert.ok(!(evidence.counters[0]!.addresses ?? []).includes('10.99.0.1') && evidence.counters[0]!.addresses !== undefined, 'the target\'s own addresses, not the other namespace\'s');
  const ours = fs.statSync('/proc/self/ns/net').ino;
  assert.ok(!(evidence.otherNamespaces ?? []).some((o) => namespaceOf(Number(o.namespace.slice('pid:'.length))) === ours), 'not among the others');
});

test('listeners of a process that is gone are unknown (null), not an empty list', () => {
  assert.equal(listenersThrough(2 ** 22 + 1), null, 'no such pid');
});

/** `n` SYNs to a closed port inside NS, each answered by a RST from NS's kernel (Tcp.OutRsts +n). */
function refusedInside(n: number): void {
  execFileSync('ip', ['netns', 'exec', NS, 'bash', '-c', `for i in $(seq ${n}); do (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; done; true`], { stdio: 'ignore', timeout: READY_MS });
}

test("watch's next window begins from the last one's end readings: what moved in between counts in the next one", () => {
  const target = { path: `/run/netns/${NS}`, label: NS };
  const first = new KernelWindow([target, null], false);
  first.begin();
  refusedInside(2);
  const firstRsts = (e: ReturnType<KernelWindow['end']>) => e.counters.find((c) => c.namespace === NS)!.deltas['Tcp.OutRsts'] ?? 0;
  assert.equal(firstRsts(first.end()), 2, 'the target counts the window\'s own RSTs');
  refusedInside(3); // between one window's end and the next one's begin
  const next = new KernelWindow([target, null], false);
  next.begin(first);
  refusedInside(1);
  assert.equal(firstRsts(next.end()), 4, 'the 3 RSTs between the windows count in the next one, the target\'s as the others\'');
  // The same for NS as another namespace of the host, read through its process.
  const other = new KernelWindow([null], false);
  other.begin();
  other.end();
  refusedInside(3);
  const after = new KernelWindow([null], false);
  after.begin(other);
  const mine = (after.end().otherNamespaces ?? []).find((o) => o.addresses.includes('10.99.0.1'));
  assert.equal(mine?.deltas['Tcp.OutRsts'], 3, JSON.stringify(mine));
  // Without the window before, its own begin is the start: the RSTs before it are not its.
  refusedInside(2);
  const alone = new KernelWindow([target], false);
  alone.begin();
  assert.equal(firstRsts(alone.end()), 0);
});

test('a target namespace made again under the same path between two windows is read afresh, not against the old one', () => {
  const name = `${NS}-again`;
  const target = { path: `/run/netns/${name}`, label: name };
  const make = () => {
    execFileSync('ip', ['netns', 'add', name]);
    execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  };
  const refused = (n: number) => execFileSync('ip', ['netns', 'exec', name, 'bash', '-c', `for i in $(seq ${n}); do (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; done; true`], { stdio: 'ignore', timeout: READY_MS });
  make();
  try {
    const first = new KernelWindow([target], false);
    first.begin();
    refused(4);
    first.end();
    // A process keeps the old namespace alive while the new one is made, so the two surely differ (a freed inode number could come back).
    const keeper = spawn('ip', ['netns', 'exec', name, 'sleep', '30'], { stdio: 'ignore' });
    const until = Date.now() + READY_MS;
    while (namespaceOf(keeper.pid!) !== fs.statSync(target.path).ino) {
      assert.ok(Date.now() < until, `the keeper did not enter ${name}`);
      execFileSync('sleep', ['0.01']);
    }
    execFileSync('ip', ['netns', 'delete', name]);
    make();
    keeper.kill();
    refused(1); // in the new namespace, before the next window begins
    const next = new KernelWindow([target], false);
    next.begin(first);
    refused(2);
    assert.equal(next.end().counters[0]?.deltas['Tcp.OutRsts'], 2, 'counted from the new namespace\'s own begin');
  } finally {
    execFileSync('ip', ['netns', 'delete', name]);
  }
});
