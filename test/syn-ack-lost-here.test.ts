import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import { loadHostContext } from '../src/context/load';
import { REPO } from './cli-harness';

/** A scenario's eth0 packets alone (what `tcpdump -i eth0` records) analyzed with its stored context. */
function eth0Only(scenario: string) {
  const context = loadHostContext(path.join(REPO, 'captures', scenario, 'context.json'));
  const file = path.join(REPO, 'test', 'fixtures', 'capture', `${scenario}-eth0.pcapng`);
  return analyzeFiles([file], { context, bridges: bridgesFromContext(context) }).findings;
}

test('SYN-ACKs that came back to the host\'s own address by eth0 were dropped here, not lost beyond the host; the snapshot names the DOCKER-USER rule a container\'s replies meet', () => {
  const findings = eth0Only('docker-real-docker-user-replies');
  assert.deepEqual(findings.map((f) => [f.code, f.severity, f.confidence]), [['syn-ack-lost', 'error', 'medium']]);
  const f = findings[0]!;
  assert.doesNotMatch(f.title, /left this host/, f.title);
  assert.match(f.title, /from this host's own address 192\.0\.2\.1, and the SYN-ACKs that came back by eth0 were never taken/);
  assert.deepEqual([f.evidence.clientIsThisHost, f.evidence.inputDrop, f.evidence.forwardDrops], [true, null, [{ bridge: 'docker0', rule: '-A DOCKER-USER ! -s 192.0.2.10/32 -i eth0 -j DROP' }]]);
  assert.match(f.remedy[0]!, /^Capture the bridges too.*synscope live -i eth0 -i docker0/);
  assert.match(f.remedy[1]!, /iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT/);
  assert.ok(!f.remedy.some((l) => /traceroute|beyond this host/.test(l)), 'nothing beyond the host to look at');
});

test('SYN-ACKs a container behind the host sent to a client elsewhere still left the host by eth0: lost beyond it', () => {
  const findings = eth0Only('docker-real-syn-ack-lost');
  const f = findings.find((x) => x.code === 'syn-ack-lost')!;
  assert.match(f.title, /the SYN-ACKs left this host by eth0/);
  assert.equal(f.evidence.clientIsThisHost, undefined);
});
