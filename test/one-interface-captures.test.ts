import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import { REPO } from './cli-harness';
import { ingressClient } from '../src/diagnose/ingress-client';

/**
 * Stored real-Docker scenarios cut to one interface (what `tcpdump -i NAME` records), analyzed
 * with their stored snapshot: the verdict the whole capture gets, or a weaker one, never a
 * wrong one.
 */
function oneInterface(scenario: string, cut: string) {
  const context = loadHostContext(path.join(REPO, 'captures', scenario, 'context.json'));
  const file = path.join(REPO, 'test', 'fixtures', 'capture', `${scenario}-${cut}.pcapng`);
  return analyzeFiles([file], { context, bridges: bridgesFromContext(context) });
}

const errors = (a: ReturnType<typeof oneInterface>) => a.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.confidence, f.evidence.clients]);

test('docker_gwbridge alone (host-mode publish): the outside client DNATed to the task is the bridge overlap, not two containers kept apart by Docker\'s icc rule', () => {
  const a = oneInterface('docker-real-gwbridge-hostmode', 'docker_gwbridge');
  assert.deepEqual(errors(a), [['bridge-subnet-overlap', 'high', ['172.18.50.20']]]);
});

test('docker0 alone (a published container): the outside client inside docker0\'s subnet is the overlap, though its flow is seen on the bridge only', () => {
  const a = oneInterface('docker-real-docker0-overlap', 'docker0');
  assert.deepEqual(errors(a), [['bridge-subnet-overlap', 'high', ['172.17.0.50']]]);
});

test('docker0 alone, the host answering a container from its LAN address with docker0\'s MAC: the snapshot still belongs to the capture, and INPUT\'s rule is named', () => {
  const a = oneInterface('docker-real-docker-user-drop', 'docker0');
  assert.equal(a.contextMatch, 'match');
  const f = a.findings.find((x) => x.code === 'filtered')!;
  assert.deepEqual([f.confidence, f.evidence.clients], ['high', ['172.17.0.3']]);
  assert.match(f.title, /the host's INPUT rules drop them$/);
});

test('ingress_sbox\'s overlay leg alone: SYN-ACKs seen on a namespace\'s interface did not leave this host by it', () => {
  const a = oneInterface('docker-real-swarm-ingress', 'eth0-ingress_sbox');
  const f = a.findings.find((x) => x.code === 'syn-ack-lost')!;
  assert.doesNotMatch(f.title, /left this host/, f.title);
  assert.equal(f.evidence.leftBy, undefined);
  // Its one "client" is ingress_sbox's own address on the ingress network: the real clients are behind it.
  assert.match(f.title, /came through swarm's ingress \(10\.0\.0\.2\), but the SYN-ACKs never reached the clients behind it$/);
  assert.equal(f.evidence.ingressSnat, "this node's ingress_sbox");
  assert.match(f.remedy[0]!, /^Capture where the real clients show, on the node that published the port: synscope live -i eth0 -i docker_gwbridge/);
});

test("an ingress address no endpoint of this node holds is another node's ingress_sbox; a task's own is no NAT", () => {
  const context = loadHostContext(path.join(REPO, 'captures', 'docker-real-swarm-ingress', 'context.json'));
  assert.deepEqual(ingressClient(context, '10.0.0.2'), { network: 'ingress', subnet: '10.0.0.0/24', thisNode: true });
  assert.deepEqual(ingressClient(context, '10.0.0.3'), { network: 'ingress', subnet: '10.0.0.0/24', thisNode: false });
  assert.equal(ingressClient(context, '10.0.0.4'), null, 'the task web.1');
  assert.equal(ingressClient(context, '172.18.50.20'), null);
});

test('a container dialling the host\'s own docker0 address is not bridged traffic: with an icc rule in the snapshot too, INPUT\'s drop is named, not icc', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-host-input-drop');
  const context = loadHostContext(path.join(dir, 'context.json'));
  const icc = '-A FORWARD -i docker0 -o docker0 -j DROP\n';
  const iptables = context.natRules.iptables!.replace('-A FORWARD -j DOCKER-USER\n', `-A FORWARD -j DOCKER-USER\n${icc}`);
  assert.ok(iptables.includes(icc), 'the icc rule went in');
  const withIcc = { ...context, natRules: { ...context.natRules, iptables } };
  const findings = analyzeFiles([path.join(dir, 'capture.pcapng')], { context: withIcc, bridges: bridgesFromContext(withIcc) }).findings;
  const f = findings.find((x) => x.code === 'filtered')!;
  assert.match(f.title, /the host's INPUT policy DROP drops them$/, f.title);
  assert.equal(f.evidence.interContainerTraffic, undefined);
});

test("docker0 alone, Docker's whole ruleset flushed by an nftables file: the untranslated SYN is named from the snapshot, at medium, not a generic drop", () => {
  const a = oneInterface('docker-real-nftables-flush', 'docker0');
  assert.deepEqual(errors(a), [['nat-path-break', 'medium', ['172.17.0.2']]]);
  const f = a.findings[0]!;
  assert.deepEqual([f.evidence.rulesetWiped, f.evidence.seenLeaving, f.evidence.tablesLeft], [true, false, ['inet filter']]);
  assert.match(f.remedy[1]!, /replace `flush ruleset` by flushing only the tables it defines \(flush table inet filter\)/);
});
