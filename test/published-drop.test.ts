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
  return analyzeFiles([file], { context, bridges: bridgesFromContext(context) }).findings.filter((f) => f.severity === 'error');
}

const cases: [scenario: string, client: string, by: string, remedy: RegExp][] = [
  ['docker-real-docker-user-drop', '198.51.100.20', '-A DOCKER-USER -s 198.51.100.20/32 -p tcp -m tcp --dport 80 -j DROP', /^Watch its counter/],
  ['docker-real-ip-forward-off', '192.0.2.20', 'net.ipv4.ip_forward = 0', /^Turn forwarding back on: sysctl -w net\.ipv4\.ip_forward=1\.$/],
  ['docker-real-nftables-forward-drop', '192.0.2.20', 'the policy DROP of nft chain inet filter forward', /nft insert rule inet filter forward oifname "docker0" ct status dnat accept/],
];

for (const [scenario, client, by, remedy] of cases) {
  test(`${scenario}, the uplink alone: the published port's SYNs are named as dropped on the way to web by ${by}, from the snapshot`, () => {
    const findings = eth0Only(scenario).filter((f) => (f.evidence.clients as string[]).includes(client));
    assert.deepEqual(findings.map((f) => [f.code, f.confidence]), [['filtered', 'high']]);
    const f = findings[0]!;
    assert.deepEqual([f.evidence.dnatTarget, f.evidence.dnatTargetName, f.evidence.forwardVerdictBy], ['172.17.0.2:80', 'web', by]);
    assert.match(f.title, by.startsWith('net.ipv4') ? /the host does not forward them to its container \(IPv4 forwarding off\)$/ : /the forward path to its container drops them$/);
    assert.match(f.remedy[0]!, remedy);
    assert.equal(f.remedy.at(-1), 'Confirm with docker0 captured as well (the SYNs never get there): synscope live -i eth0 -i docker0.');
  });
}

test('the uplink alone, the snapshot without the drop rule: no cause is named, the generic filtered stays', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-docker-user-drop');
  const context = loadHostContext(path.join(dir, 'context.json'));
  const rule = '-A DOCKER-USER -s 198.51.100.20/32 -p tcp -m tcp --dport 80 -j DROP\n';
  assert.ok(context.natRules.iptables?.includes(rule), 'the stored snapshot holds the rule');
  const without = { ...context, natRules: { ...context.natRules, iptables: context.natRules.iptables!.replace(rule, '') } };
  const file = path.join(REPO, 'test', 'fixtures', 'capture', 'docker-real-docker-user-drop-eth0.pcapng');
  const findings = analyzeFiles([file], { context: without, bridges: bridgesFromContext(without) }).findings.filter((f) => (f.evidence.clients as string[] | undefined)?.includes('198.51.100.20'));
  assert.deepEqual(findings.map((f) => [f.code, f.confidence, f.evidence.dnatTarget]), [['filtered', 'medium', undefined]]);
});
