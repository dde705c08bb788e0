import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuplicateHandshakes } from '../src/analysis/duplicate-handshakes';
import { REPO, runCli } from './cli-harness';
import { tempDir } from './temp-dir';

test('a handshake packet seen again on the same interface within milliseconds is a copy; on another interface, or a retransmission a second later, it is not', () => {
  const d = new DuplicateHandshakes();
  d.see(1234, 77, 40000, false, 0, 100.0);
  d.see(1234, 77, 40000, false, 1, 100.0001); // the next hop, its own interface
  assert.equal(d.count, 0);
  d.see(1234, 77, 40000, false, 1, 100.0002); // the same interface again: merged hops
  assert.equal(d.count, 1);
  d.see(1234, 77, 40000, false, 1, 101.0); // a second later: a retransmission (if the ID even stayed)
  d.see(1234, 78, 40000, false, 1, 101.0001); // another IPv4 ID: another packet
  d.see(9999, 77, 40000, true, 1, 101.0002); // a SYN-ACK of another sequence number
  assert.equal(d.count, 1);
  d.see(5, 1, 40001, false, 0, 200.0);
  d.see(5, 1, 40001, false, 0, 199.9995); // out of time order, still within the window
  assert.equal(d.count, 2);
});

test('a two-interface capture rewritten as classic pcap (tcpdump -r all.pcapng -w out.pcap): named as merged hops, no address collision from its MACs, every verdict lowered', async () => {
  const scenario = path.join(REPO, 'captures', 'docker-real-docker0-overlap');
  const r = await runCli('analyze', path.join(REPO, 'test', 'fixtures', 'capture', 'docker-real-docker0-overlap-merged.pcap'), '--context', path.join(scenario, 'context.json'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: { code: string; confidence: string; evidence: Record<string, unknown> }[] }).findings;
  const incomplete = findings.find((f) => f.code === 'capture-incomplete');
  assert.ok((incomplete?.evidence.mergedHops as number) > 0, JSON.stringify(findings.map((f) => f.code)));
  assert.ok(!findings.some((f) => f.code === 'address-collision'), 'one packet at two hops carries two MACs: no collision');
  const overlap = findings.find((f) => f.code === 'bridge-subnet-overlap');
  assert.deepEqual(overlap?.evidence.clients, ['172.17.0.50']);
  assert.notEqual(overlap?.confidence, 'high');
});

test("a merged capture without doubled handshakes: the host's own address showing two of its own interfaces' MACs is no collision; another host's MAC still is", async () => {
  const scenario = path.join(REPO, 'captures', 'route-conflict');
  const merged = path.join(REPO, 'test', 'fixtures', 'capture', 'route-conflict-merged.pcap');
  const analyze = async (contextFile: string) => {
    const r = await runCli('analyze', merged, '--context', contextFile, '--json');
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { findings: { code: string; evidence: Record<string, unknown> }[] }).findings;
  };
  const findings = await analyze(path.join(scenario, 'context.json'));
  assert.deepEqual(findings.map((f) => f.code), ['bridge-subnet-overlap']);
  // The same capture, with docker0's MAC (its port's too, whose it took) not this host's in the snapshot: a second host answering for 192.168.0.10.
  const context = JSON.parse(fs.readFileSync(path.join(scenario, 'context.json'), 'utf8')) as { interfaces: { name: string; mac: string | null }[] };
  const bridgeMac = context.interfaces.find((i) => i.name === 'docker0')!.mac;
  for (const i of context.interfaces) if (i.mac === bridgeMac) i.mac = '02:00:00:00:00:01';
  const file = path.join(tempDir('synscope-merged-'), 'context.json');
  fs.writeFileSync(file, JSON.stringify(context));
  const collision = (await analyze(file)).find((f) => f.code === 'address-collision');
  assert.equal(collision?.evidence.address, '192.168.0.10');
});

test("a merged capture (tcpdump -r all.pcapng -w out.pcap, or -i any without ifindexes) whose client is this host's own address: the SYN-ACKs came back by the interface holding it and were dropped here, not 'ip route get' for the host's own address", async () => {
  const scenario = path.join(REPO, 'captures', 'docker-real-docker-user-replies');
  const r = await runCli('analyze', path.join(REPO, 'test', 'fixtures', 'capture', 'docker-real-docker-user-replies-merged.pcap'), '--context', path.join(scenario, 'context.json'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const findings = (JSON.parse(r.stdout) as { findings: { code: string; title: string; confidence: string; remedy: string[]; evidence: Record<string, unknown> }[] }).findings;
  const lost = findings.find((f) => f.code === 'syn-ack-lost')!;
  assert.deepEqual([lost.evidence['clients'], lost.evidence['clientIsThisHost'], lost.evidence['cameBackBy'], lost.confidence], [['192.0.2.1'], true, 'eth0', 'low']);
  assert.ok(lost.remedy.some((x) => x.includes('iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT')), lost.remedy.join('\n'));
  assert.ok(!lost.remedy.some((x) => x.includes('ip route get 192.0.2.1')), lost.remedy.join('\n'));
});
