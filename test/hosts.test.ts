import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import { parseSubnet } from '../src/net/cidr';
import { loadHostContext } from '../src/context/load';
import { crossHostCollisionRule, type HostFacts } from '../src/diagnose/rules/cross-host-collision';
import { analyzeHosts } from '../src/hosts/analyze-hosts';
import type { Flow } from '../src/flow/flow';
import { REPO, runCli } from './cli-harness';
import { handMadeFlow } from './flow-fixtures';
import { tempDir } from './temp-dir';

const SCENARIO = path.join(REPO, 'captures', 'redis-address-collision');
const NODE_A = path.join(SCENARIO, 'node-a.pcapng');
const NODE_B = path.join(SCENARIO, 'node-b.pcapng');

function redisHosts(nodeB = NODE_B) {
  return [
    { name: 'node-a', files: [NODE_A], context: loadHostContext(path.join(SCENARIO, 'node-a.context.json')) },
    { name: 'node-b', files: [nodeB], context: loadHostContext(path.join(SCENARIO, 'node-b.context.json')) },
  ];
}

test('several hosts: the container address both hosts use is one cross-host collision; the shared gateway address is not', () => {
  const a = analyzeHosts(redisHosts(), { allFlows: true });
  const collisions = a.findings.filter((f) => f.code === 'address-collision');
  assert.deepEqual(collisions.map((f) => f.evidence['address']), ['172.17.0.55']);
  const owners = collisions[0]!.evidence['owners'] as { host: string; interface: string; macs: string[] }[];
  assert.deepEqual(owners.map((o) => [o.host, o.interface]), [['node-a', 'docker0'], ['node-b', 'docker0']]);
  assert.notDeepEqual(owners[0]!.macs, owners[1]!.macs);
  assert.equal(collisions[0]!.confidence, 'high', 'connections with it are seen at both hosts');
  // Flow ids and interface names say which host they belong to.
  assert.ok(a.flows.every((f) => /^node-[ab]\/f\d+$/.test(f.id)), a.flows.map((f) => f.id).join(' '));
  assert.deepEqual([...new Set(a.interfaceNames)].sort(), ['docker0@node-a', 'docker0@node-b', 'eth0@node-a', 'eth0@node-b']);
  // The cluster-bus handshake was captured at both hosts: it counts once.
  assert.deepEqual(a.summary.handshakes, { attempted: 3, completed: 3, unanswered: 0, rejected: 0, synAckLost: 0 });
  assert.deepEqual(a.hosts?.map((h) => h.name), ['node-a', 'node-b']);
});

test('several hosts: the capture clock offset comes from the handshake both hosts saw', () => {
  const dir = tempDir('synscope-hosts-');
  const shifted = path.join(dir, 'node-b-late.pcapng');
  shiftCapture(NODE_B, shifted, 2.5);
  const same = analyzeHosts(redisHosts(), {}).hosts![1]!;
  assert.equal(same.clockMatches, 1);
  assert.ok(Math.abs(same.clockOffsetSeconds!) < 0.01, `lab clocks are one kernel clock: ${same.clockOffsetSeconds}`);
  const late = analyzeHosts(redisHosts(shifted), {}).hosts![1]!;
  assert.ok(Math.abs(late.clockOffsetSeconds! - 2.5) < 0.01, `offset ${late.clockOffsetSeconds}`);
});

test('cross-host rule: needs the address to leave one host untranslated and be dialled directly on another, by a different machine', () => {
  const subnet = parseSubnet('172.17.0.0/16')!;
  const leak = handMadeFlow({ id: 'f1', clientIp: '172.17.0.9', serverIp: '10.0.0.1', serverPort: 6379, outcome: 'completed' });
  const dial = handMadeFlow({ id: 'f2', clientIp: '172.17.0.1', serverIp: '172.17.0.9', serverPort: 6379, outcome: 'completed' });
  const facts = (host: string, mac: string, flows: Flow[], stitched: string[] = []): HostFacts => ({
    host,
    bridges: [{ name: 'docker0', subnet, source: 'context' }],
    macsByAddress: new Map([['172.17.0.9', [{ mac, interface: 'docker0', packets: 2 }]]]),
    flows,
    stitchedFlows: new Set(stitched),
    ownAddresses: new Set(host === 'a' ? ['172.17.0.1', '10.0.0.1'] : ['172.17.0.1', '10.0.0.2']),
  });
  const codes = (fs: ReturnType<typeof crossHostCollisionRule>) => fs.map((f) => [f.code, f.confidence]);
  assert.deepEqual(codes(crossHostCollisionRule([facts('a', '02:00:00:00:00:01', [leak]), facts('b', '02:00:00:00:00:02', [dial])])), [['address-collision', 'high']]);
  // The same MAC on both sides: one machine.
  assert.deepEqual(crossHostCollisionRule([facts('a', '02:00:00:00:00:01', [leak]), facts('b', '02:00:00:00:00:01', [dial])]), []);
  // Docker < 27 derived the MAC from the address: equal MACs say nothing, the connections still do.
  assert.deepEqual(codes(crossHostCollisionRule([facts('a', '02:42:ac:11:00:09', [leak]), facts('b', '02:42:ac:11:00:09', [dial])])), [['address-collision', 'medium']]);
  // Two ordinary hosts: the same address on both, but it never left its host untranslated.
  assert.deepEqual(crossHostCollisionRule([facts('a', '02:00:00:00:00:01', [leak], ['f1']), facts('b', '02:00:00:00:00:02', [dial])]), []);
  assert.deepEqual(crossHostCollisionRule([facts('a', '02:00:00:00:00:01', [leak]), facts('b', '02:00:00:00:00:02', [dial], ['f2'])]), [], 'a DNATed published port is no direct dial');
  assert.deepEqual(crossHostCollisionRule([facts('a', '02:00:00:00:00:01', []), facts('b', '02:00:00:00:00:02', [dial])]), []);
});

test('cross-host rule: Docker naming the container at the address on each host makes them two machines, and the remedy concrete', () => {
  const subnet = parseSubnet('172.17.0.0/16')!;
  const leak = handMadeFlow({ id: 'f1', clientIp: '172.17.0.9', serverIp: '10.0.0.1', serverPort: 6379, outcome: 'completed' });
  const dial = (port: number) => handMadeFlow({ id: 'f2', clientIp: '172.17.0.1', serverIp: '172.17.0.9', serverPort: port, outcome: 'completed' });
  const facts = (host: string, flows: Flow[], container?: string): HostFacts => ({
    host,
    bridges: [{ name: 'docker0', subnet, source: 'context' }],
    macsByAddress: new Map([['172.17.0.9', [{ mac: '02:42:ac:11:00:09', interface: 'docker0', packets: 2 }]]]),
    flows,
    stitchedFlows: new Set(),
    ownAddresses: new Set(host === 'a' ? ['172.17.0.1', '10.0.0.1'] : ['172.17.0.1', '10.0.0.2']),
    ownNetworks: new Map([[host === 'a' ? '10.0.0.1' : '10.0.0.2', '10.0.0.0/24']]),
    bridgeContainers: new Map(container === undefined ? [] : [['172.17.0.9', container]]),
  });
  const [named] = crossHostCollisionRule([facts('a', [leak], 'cache-1'), facts('b', [dial(6379)], 'cache-2')]);
  assert.equal(named?.confidence, 'high', 'two containers Docker names on two hosts are two machines, derived MACs or not');
  assert.match(named!.explanation, /each host's Docker names who holds it: cache-1 on a, cache-2 on b/);
  assert.deepEqual((named!.evidence.owners as { container?: string }[]).map((o) => o.container), ['cache-1', 'cache-2']);
  // The peers dial 6379 and the service it reached holds 6379 on a: another host port.
  assert.match(named!.remedy[0]!, /^Make cache-1 on a announce a routable address instead of 172\.17\.0\.9: a's 10\.0\.0\.1, .*docker run -p HOSTPORT:6379, HOSTPORT a port free on a .*cluster-announce-ip 10\.0\.0\.1 and cluster-announce-port HOSTPORT/);
  assert.match(named!.remedy[1]!, /ip route add 10\.0\.0\.0\/24 dev/);
  // Peers dialling another port than the one it reached: that port, published as it is.
  const [free] = crossHostCollisionRule([facts('a', [leak], 'cache-1'), facts('b', [dial(16379)], 'cache-2')]);
  assert.match(free!.remedy[0]!, /docker run -p 16379:16379; then, for Redis Cluster, cluster-announce-ip 10\.0\.0\.1 and cluster-announce-port 16379/);
  assert.match(free!.remedy[0]!, /its cluster bus published too \(port 26379 in the container unless cluster-port says otherwise\): -p BUSPORT:26379 with cluster-announce-bus-port BUSPORT/, 'without the bus published, peers reach the data port but cannot gossip');
  // One side unnamed: the connections alone, medium, and the remedy stays general.
  const [half] = crossHostCollisionRule([facts('a', [leak], 'cache-1'), facts('b', [dial(6379)])]);
  assert.equal(half?.confidence, 'medium');
  const [unnamed] = crossHostCollisionRule([facts('a', [leak]), facts('b', [dial(6379)])]);
  assert.match(unnamed!.remedy[0]!, /^Make the service announce a routable address instead of 172\.17\.0\.9: for Redis Cluster/);
});

test('docker-real-address-collision (two real dockerd, fixed-cidr): one high-confidence collision naming redis-c and redis-d, the remedy naming node-a\'s address', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-address-collision');
  const hosts = ['node-a', 'node-b'].map((name) => ({ name, files: [path.join(dir, `${name}.pcapng`)], context: loadHostContext(path.join(dir, `${name}.context.json`)) }));
  const findings = analyzeHosts(hosts, {}).findings;
  assert.deepEqual(findings.map((f) => [f.code, f.severity, f.confidence, f.evidence.address]), [['address-collision', 'error', 'high', '172.17.0.55']]);
  const owners = findings[0]!.evidence.owners as { host: string; macs: string[]; container?: string }[];
  assert.deepEqual(owners.map((o) => [o.host, o.macs, o.container]), [['node-a', ['02:42:ac:11:00:37'], 'redis-c'], ['node-b', ['02:42:ac:11:00:37'], 'redis-d']]);
  assert.match(findings[0]!.remedy[0]!, /Make redis-c on node-a .* node-a's 10\.100\.1\.100, .*docker run -p HOSTPORT:6379/);
  assert.match(findings[0]!.remedy[1]!, /ip route add 10\.100\.1\.0\/24 dev/);
});

test('several hosts: two ordinary Docker hosts with a container at the same address are no collision', () => {
  const scenario = (name: string) => path.join(REPO, 'captures', name);
  const a = analyzeHosts(
    [
      { name: 'web1', files: [path.join(scenario('published-port-docker-user-drop'), 'capture.pcapng')], context: loadHostContext(path.join(scenario('published-port-docker-user-drop'), 'context.json')) },
      { name: 'web2', files: [path.join(scenario('masquerade-outbound'), 'capture.pcapng')], context: loadHostContext(path.join(scenario('masquerade-outbound'), 'context.json')) },
    ],
    {},
  );
  assert.deepEqual(a.findings.filter((f) => f.code === 'address-collision'), []);
});

test('analyze --host: every capture must belong to one host; snapshots are named by host', async () => {
  const ok = await runCli('analyze', '--host', `node-a=${NODE_A}`, '--host', `node-b=${NODE_B}`, '--context', `node-a=${path.join(SCENARIO, 'node-a.context.json')}`, '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { hosts: { name: string }[] }).hosts.map((h) => h.name), ['node-a', 'node-b']);
  const cases: [string[], RegExp][] = [
    [[NODE_A, NODE_B, '--host', `node-a=${NODE_A}`], /not assigned: .*node-b\.pcapng/],
    [['--host', `node-a=${NODE_A}`, '--context', path.join(SCENARIO, 'node-a.context.json')], /names no host.*--context HOST=FILE/],
    [['--host', `node-a=${NODE_A}`, '--context', `nodea=${path.join(SCENARIO, 'node-a.context.json')}`], /unknown host "nodea"/],
    [['--host', `node-a=${NODE_A}`, '--context', `node-a=${path.join(SCENARIO, 'node-a.context.json')}`, '--context', `node-a=${path.join(SCENARIO, 'node-b.context.json')}`], /more than once/],
    [['--host', `node-a=${NODE_A}`, '--host', `node-a=${NODE_B}`], /names must differ/],
    [['--host', 'node-a'], /--host expects NAME=FILE/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli('analyze', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

/** Copy a pcapng with every timestamp moved by `seconds` (another host's clock). */
function shiftCapture(from: string, to: string, seconds: number): void {
  const reader = openCaptureFile(from);
  const writer = new PcapngWriter(new FileSink(to));
  try {
    const added = new Set<number>();
    for (let rec = reader.next(); rec !== null; rec = reader.next()) {
      if (!added.has(rec.interfaceIndex)) {
        for (let i = added.size; i <= rec.interfaceIndex; i++) {
          const iface = reader.interfaces[i]!;
          writer.addInterface({ linkType: iface.linkType, name: iface.name ?? undefined, tsResolution: 'ns' });
          added.add(i);
        }
      }
      const ns = rec.tsNsec + Math.round((seconds % 1) * 1e9);
      writer.writePacket(rec.interfaceIndex, rec.data.subarray(rec.offset, rec.offset + rec.caplen), rec.tsSec + Math.floor(seconds) + Math.floor(ns / 1e9), ns % 1e9, rec.origLen);
    }
  } finally {
    reader.close();
    writer.close();
  }
}
