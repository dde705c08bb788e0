import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { REPO } from './cli-harness';

/** A stored scenario's capture alone, as a colleague sends it: no snapshot, no --bridge. */
function captureAlone(scenario: string) {
  return analyzeFiles([path.join(REPO, 'captures', scenario, 'capture.pcapng')]).findings.filter((f) => f.severity === 'error');
}

const overlaps: [scenario: string, client: string, link: string, target: string][] = [
  ['docker-real-docker0-overlap', '172.17.0.50', 'docker0', '172.17.0.2'],
  ['docker-real-compose-overlap', '192.168.5.20', 'br-4bb038be4177', '192.168.0.2'],
  ['docker-real-gwbridge-hostmode', '172.18.50.20', 'docker_gwbridge', '172.18.0.3'],
  ['docker-real-swarm-ingress', '172.18.50.20', 'docker_gwbridge', '172.18.0.2'],
];

for (const [scenario, client, link, target] of overlaps) {
  test(`${scenario}, the capture alone: the DNAT target ARPing for the client on ${link} is the overlap, subnet unknown`, () => {
    const findings = captureAlone(scenario);
    assert.deepEqual(findings.map((f) => [f.code, f.confidence, f.evidence.clients, f.evidence.bridge, f.evidence.repliesFrom, f.evidence.subnet]), [['bridge-subnet-overlap', 'high', [client], link, target, null]]);
    assert.match(findings[0]!.remedy[1]!, /synscope context --output host\.json, then synscope analyze CAPTURE --context host\.json/);
  });
}

for (const [scenario, client, server] of [
  ['docker0-overlap', '172.17.0.50', '192.0.2.1'],
  ['route-conflict', '192.168.0.50', '192.168.0.10'],
] as const) {
  test(`${scenario}, the capture alone: the host the SYNs were for ARPing for the client on docker0, not on eth0 where they came in, is the overlap`, () => {
    const findings = captureAlone(scenario);
    assert.deepEqual(findings.map((f) => [f.code, f.confidence, f.evidence.clients, f.evidence.bridge, f.evidence.repliesFrom]), [['bridge-subnet-overlap', 'high', [client], 'docker0', 'host']]);
    assert.match(findings[0]!.explanation, new RegExp(`came in by eth0 to ${server.replace(/\./g, '\\.')}, and ${server.replace(/\./g, '\\.')} answers by asking for it by ARP on docker0`));
  });
}

test('the capture alone, no ARP for the client (SYN-ACKs lost beyond the host), or a client that answered ARP: no overlap inferred', () => {
  assert.ok(!captureAlone('docker-real-syn-ack-lost').some((f) => f.code === 'bridge-subnet-overlap'));
  assert.ok(!captureAlone('docker-real-nftables-forward-drop').some((f) => f.code === 'bridge-subnet-overlap'));
  assert.ok(!captureAlone('docker-real-healthy').some((f) => f.code === 'bridge-subnet-overlap'));
});
