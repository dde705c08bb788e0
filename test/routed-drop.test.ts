import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DiagnosisInput } from '../src/diagnose/input';
import { routedDrop } from '../src/diagnose/routed-drop';
import { filteredRule } from '../src/diagnose/rules/filtered';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';
import { DOCKER_IPTABLES_SAVE } from './nat-path-break-fixtures';

const NAMES = ['eth1', 'eth0'];
const ETH1 = 0;
const ETH0 = 1;

/** Docker's filter table for docker0 with FORWARD's policy DROP (and a DOCKER-USER drop these clients do not meet). */
const DOCKER_FILTER = DOCKER_IPTABLES_SAVE;

/** A router: eth0 192.0.2.1/24 (the server's LAN), eth1 10.20.0.1/24 (the clients' network), docker0. */
function router(iptables: string) {
  return makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), iface('eth1', 'veth', ['10.20.0.1/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('192.0.2.0/24 dev eth0'), route('10.20.0.0/24 dev eth1'), route('172.17.0.0/16 dev docker0')],
    natRules: { iptables, nft: null },
    sysctls: { 'net.ipv4.ip_forward': '1' },
  });
}

function input(interfaces: number[], context: DiagnosisInput['context'], serverIp = '192.0.2.30'): DiagnosisInput {
  const flow = handMadeFlow({ id: 'f1', clientIp: '10.20.0.10', clientPort: 40000, serverIp, serverPort: 80, outcome: 'unanswered', syns: 4, synAcks: 0, interfaces });
  return diagnosisInput({ failedFlows: [flow], interfaceNames: NAMES, context });
}

test('routed from eth1 to eth0 and dropped by FORWARD\'s policy on a Docker host: Docker\'s policy, accepted both ways in DOCKER-USER', () => {
  const i = input([ETH1], router(DOCKER_FILTER));
  const d = routedDrop(i, i.failedFlows[0]!)!;
  assert.deepEqual(d.evidence, { interface: 'eth1', leavesBy: 'eth0', forwardVerdictBy: 'the FORWARD policy DROP', forwardVerdict: 'DROP', dockerForwardPolicy: true, forwardPolicyOf: 'docker' });
  assert.deepEqual(d.remedy.slice(0, 2), [
    'Accept this forwarding in DOCKER-USER, where Docker leaves rules alone: iptables -I DOCKER-USER -i eth1 -o eth0 -j ACCEPT.',
    'And the replies back: iptables -I DOCKER-USER -i eth0 -o eth1 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT.',
  ]);
  const [f] = filteredRule(i, new Set(), new Map());
  assert.equal(f!.confidence, 'high');
  assert.match(f!.explanation, /On a Docker host that policy is usually Docker's/);
});

test('seen leaving by eth0 as well: the host forwarded it, no forward drop', () => {
  const i = input([ETH1, ETH0], router(DOCKER_FILTER));
  assert.equal(routedDrop(i, i.failedFlows[0]!), null);
});

test('a host that is not Docker\'s: its own FORWARD rule is quoted, with how to watch and undo it', () => {
  const own = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A FORWARD -s 10.20.0.0/24 -d 192.0.2.30/32 -j DROP\nCOMMIT\n';
  const i = input([ETH1], router(own));
  const d = routedDrop(i, i.failedFlows[0]!)!;
  assert.equal(d.evidence['forwardVerdictBy'], '-A FORWARD -s 10.20.0.0/24 -d 192.0.2.30/32 -j DROP');
  assert.ok(!('dockerForwardPolicy' in d.evidence));
  assert.ok(d.remedy.some((line) => line.includes('iptables -D FORWARD -s 10.20.0.0/24 -d 192.0.2.30/32 -j DROP')), JSON.stringify(d.remedy));
});

test('forwarding accepted, the server on the host itself, or no snapshot: no routed drop', () => {
  const accepted = input([ETH1], router(DOCKER_FILTER.replace('-A DOCKER-USER -j RETURN', '-A DOCKER-USER -i eth1 -o eth0 -j ACCEPT\n-A DOCKER-USER -j RETURN')));
  assert.equal(routedDrop(accepted, accepted.failedFlows[0]!), null);
  const local = input([ETH1], router(DOCKER_FILTER), '192.0.2.1');
  assert.equal(routedDrop(local, local.failedFlows[0]!), null);
  const none = input([ETH1], null);
  assert.equal(routedDrop(none, none.failedFlows[0]!), null);
});
