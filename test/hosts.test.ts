import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import { parseSubnet } from '../src/net/cidr';
import { loadHostContext } from '../src/context/load';
import { crossHostCollisionRule, type HostFacts } from '../src/diagnose/rules/cross-host-collision';
import { analyzeHosts } from '../src/hosts/analyze-hosts';
import { REPO, runCli } from './cli-harness';

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
  assert.deepEqual(a.summary.handshakes, { attempted: 4, completed: 4, unanswered: 0, rejected: 0, synAckLost: 0 });
  assert.deepEqual(a.hosts?.map((h) => h.name), ['node-a', 'node-b']);
});

test('several hosts: the capture clock offset comes from the handshake both hosts saw', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-hosts-'));
  const shifted = path.join(dir, 'node-b-late.pcapng');
  shiftCapture(NODE_B, shifted, 2.5);
  const same = analyzeHosts(redisHosts(), {}).hosts![1]!;
  assert.equal(same.clockMatches, 1);
  assert.ok(Math.abs(same.clockOffsetSeconds!) < 0.01, `lab clocks are one kernel clock: ${same.clockOffsetSeconds}`);
  const late = analyzeHosts(redisHosts(shifted), {}).hosts![1]!;
  assert.ok(Math.abs(late.clockOffsetSeconds! - 2.5) < 0.01, `offset ${late.clockOffsetSeconds}`);
});

test('cross-host rule: the same address with the same MAC on two hosts is one machine, not a collision', () => {
  const subnet = parseSubnet('172.17.0.0/16')!;
  const facts = (host: string, mac: string): HostFacts => ({
    host,
    bridges: [{ name: 'docker0', subnet, source: 'context' }],
    macsByAddress: new Map([['172.17.0.9', [{ mac, interface: 'docker0', packets: 2 }]]]),
    flows: [],
    ownAddresses: new Set(['172.17.0.1']),
  });
  assert.deepEqual(crossHostCollisionRule([facts('a', '02:00:00:00:00:01'), facts('b', '02:00:00:00:00:01')]), []);
  const differ = crossHostCollisionRule([facts('a', '02:00:00:00:00:01'), facts('b', '02:00:00:00:00:02')]);
  assert.deepEqual(differ.map((f) => [f.code, f.confidence]), [['address-collision', 'medium']]);
});

test('analyze --host: every capture must belong to one host; snapshots are named by host', async () => {
  const ok = await runCli('analyze', '--host', `node-a=${NODE_A}`, '--host', `node-b=${NODE_B}`, '--context', `node-a=${path.join(SCENARIO, 'node-a.context.json')}`, '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { hosts: { name: string }[] }).hosts.map((h) => h.name), ['node-a', 'node-b']);
  const cases: [string[], RegExp][] = [
    [[NODE_A, NODE_B, '--host', `node-a=${NODE_A}`], /not assigned: .*node-b\.pcapng/],
    [['--host', `node-a=${NODE_A}`, '--context', path.join(SCENARIO, 'node-a.context.json')], /--context HOST=FILE/],
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
