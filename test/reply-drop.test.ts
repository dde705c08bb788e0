import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeFiles } from '../src/analysis';
import { bridgesFromContext } from '../src/context/context-bridges';
import type { HostContext } from '../src/context/host-context';
import { loadHostContext } from '../src/context/load';
import { REPO } from './cli-harness';

/**
 * docker-real-docker-user-replies (a DOCKER-USER rule meant for the published port drops the
 * SYN-ACKs of a container's own outbound connection) captured on docker0 alone, what
 * `tcpdump -i docker0` records: the SYNs leave and nothing comes back.
 */
function analyzeDocker0(edit: (iptables: string) => string = (t) => t) {
  const stored = loadHostContext(path.join(REPO, 'captures', 'docker-real-docker-user-replies', 'context.json'));
  const iptables = edit(stored.natRules.iptables!);
  const context: HostContext = { ...stored, natRules: { ...stored.natRules, iptables } };
  const file = path.join(REPO, 'test', 'fixtures', 'capture', 'docker-real-docker-user-replies-docker0.pcapng');
  return analyzeFiles([file], { context, bridges: bridgesFromContext(context) }).findings.filter((f) => f.severity !== 'info');
}

test('a container\'s outbound SYNs seen on docker0 alone: filtered names the DOCKER-USER rule that drops the replies coming back by eth0 (medium: no reply is in the capture)', () => {
  const findings = analyzeDocker0();
  assert.deepEqual(findings.map((f) => [f.code, f.confidence]), [['filtered', 'medium']]);
  const f = findings[0]!;
  assert.match(f.title, /: a DOCKER-USER rule drops the replies coming back by eth0$/);
  assert.deepEqual([f.evidence.leavesBy, f.evidence.replyDroppedBy], ['eth0', '-A DOCKER-USER ! -s 192.0.2.10/32 -i eth0 -j DROP']);
  assert.equal(f.remedy[0], "Let replies through before the rule, as Docker's documentation pairs the two: iptables -I DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT.");
  assert.match(f.remedy.at(-1)!, /synscope live -i docker0 -i eth0\.$/);
});

test('with the remedy\'s accept of replies in DOCKER-USER before the rule, the snapshot no longer drops them: no cause is named', () => {
  const fixed = analyzeDocker0((t) => t.replace('-A DOCKER-USER ! -s', '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A DOCKER-USER ! -s'));
  assert.ok(fixed.every((f) => f.evidence.replyDroppedBy === undefined), JSON.stringify(fixed.map((f) => f.title)));
  assert.doesNotMatch(fixed.map((f) => f.title).join(), /DOCKER-USER/);
});
