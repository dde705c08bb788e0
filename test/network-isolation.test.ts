import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DockerNetwork } from '../src/context/host-context';
import { hopFacts } from '../src/diagnose/nat-hop';
import { iface, makeContext, route } from './context-fixtures';

/** Docker 20.10's filter table for two user-defined networks, as iptables-save prints it. */
const TWO_NETWORKS = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o br-front -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o br-front -j DOCKER
-A FORWARD -i br-front ! -o br-front -j ACCEPT
-A FORWARD -o br-back -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o br-back -j DOCKER
-A FORWARD -i br-back ! -o br-back -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i br-front ! -o br-front -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -i br-back ! -o br-back -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o br-front -j DROP
-A DOCKER-ISOLATION-STAGE-2 -o br-back -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
`;

function network(name: string, bridge: string, subnet: string, endpoint: [string, string]): DockerNetwork {
  return {
    id: name, name, driver: 'bridge', scope: 'local', subnets: [subnet], gateways: [], bridge, ingress: false, internal: false,
    endpoints: [{ name: endpoint[0], addresses: [endpoint[1]] }],
  };
}

const ctx = makeContext({
  interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), iface('br-front', 'bridge', ['172.30.1.1/24']), iface('br-back', 'bridge', ['172.30.2.1/24'])],
  routes: [route('192.0.2.0/24 dev eth0'), route('172.30.1.0/24 dev br-front'), route('172.30.2.0/24 dev br-back')],
  natRules: { iptables: TWO_NETWORKS, nft: null },
  sysctls: { 'net.ipv4.ip_forward': '1' },
  dockerNetworks: [network('front', 'br-front', '172.30.1.0/24', ['cli', '172.30.1.2']), network('back', 'br-back', '172.30.2.0/24', ['web', '172.30.2.2'])],
});

test('between two Docker networks, dropped by Docker\'s isolation rule: the client\'s container joins the server\'s network', () => {
  const facts = hopFacts(ctx, { packet: { src: '172.30.1.2', dst: '172.30.2.2', dstPort: 80 }, from: 'br-front', to: 'br-back' });
  assert.equal(facts.dropRule, '-A DOCKER-ISOLATION-STAGE-2 -o br-back -j DROP');
  assert.ok(facts.sentences.some((s) => s.startsWith('Docker keeps its networks apart: front (br-front) and back (br-back) are two networks')), facts.sentences.join('\n'));
  assert.equal(facts.dropRemedy[0], "Put the client's container on the server's network: docker network connect back cli   (then it reaches web there, by name or at 172.30.2.2; Docker's isolation rule is rewritten on every change, so deleting it does not last)");
  assert.ok(!facts.dropRemedy.some((line) => line.includes('publish the port instead')));
});

test('from outside Docker\'s networks to a container, Docker\'s own drop keeps its publish-a-port advice', () => {
  const facts = hopFacts(ctx, { packet: { src: '192.0.2.50', dst: '172.30.2.2', dstPort: 80 }, from: 'eth0', to: 'br-back' });
  assert.ok(facts.dropRule === null || !facts.dropRemedy.some((line) => line.includes('docker network connect')), JSON.stringify(facts));
});
