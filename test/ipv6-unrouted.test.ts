import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeFlag } from '../src/context/bridge';
import type { DockerNetwork } from '../src/context/host-context';
import { ipv6UnroutedRule } from '../src/diagnose/rules/ipv6-unrouted';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';

const NAMES = ['docker0', 'eth0'];
const DOCKER0 = 0;
const ETH0 = 1;

/** A Docker host with IPv6 on docker0 (`prefix`, the container `client` in it) and its IPv6 default route out of eth0. */
function setting(prefix: string, client: string) {
  const gateway = prefix.replace(/::\/64$/, '::1/64');
  const network: DockerNetwork = {
    id: 'a1b2', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['172.17.0.0/16', prefix], gateways: ['172.17.0.1'],
    bridge: 'docker0', ingress: false, internal: false, masquerade: true, endpoints: [{ name: 'cli', addresses: ['172.17.0.2', client] }],
  };
  const context = makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24', '2001:db8:1::1/64']), iface('docker0', 'bridge', ['172.17.0.1/16', gateway])],
    routes: [route('default via 2001:db8:1::fe dev eth0'), route('2001:db8:1::/64 dev eth0'), route(`${prefix} dev docker0`), route('default via 192.0.2.254 dev eth0')],
    natRules: { iptables: null, nft: null },
    dockerNetworks: [network],
  });
  return { context, bridges: [parseBridgeFlag(`docker0=${prefix}`)] };
}

function attempt(interfaces: number[], clientIp: string, serverIp = '2001:db8:2::80') {
  return handMadeFlow({ id: 'f1', ipVersion: clientIp.includes(':') ? 6 : 4, clientIp, clientPort: 40000, serverIp, serverPort: 80, outcome: 'unanswered', syns: 4, synAcks: 0, interfaces });
}

test("a container's IPv6 SYN seen leaving by the uplink with its unique local source: nothing routes it back, translate it", () => {
  const { context, bridges } = setting('fd00:d0c::/64', 'fd00:d0c::242:ac11:2');
  const [f, ...rest] = ipv6UnroutedRule(diagnosisInput({ failedFlows: [attempt([DOCKER0, ETH0], 'fd00:d0c::242:ac11:2')], interfaceNames: NAMES, bridges, context }));
  assert.equal(rest.length, 0);
  assert.deepEqual([f!.code, f!.confidence, f!.evidence.uniqueLocal, f!.evidence.leftBy], ['nat-path-break', 'high', true, 'eth0']);
  assert.equal(f!.remedy[0], "Translate it now, as Docker's ip6tables option would: ip6tables -t nat -I POSTROUTING -s fd00:d0c::/64 ! -o docker0 -j MASQUERADE.");
});

test('a global prefix is routed, not translated: the remedy routes it to this host on the upstream router first', () => {
  const { context, bridges } = setting('2001:db8:99::/64', '2001:db8:99::242:ac11:2');
  const [f] = ipv6UnroutedRule(diagnosisInput({ failedFlows: [attempt([DOCKER0, ETH0], '2001:db8:99::242:ac11:2')], interfaceNames: NAMES, bridges, context }));
  assert.equal(f!.evidence.uniqueLocal, false);
  assert.match(f!.remedy[0]!, /^Route 2001:db8:99::\/64 to this host on the upstream router \(ip -6 route add 2001:db8:99::\/64 via 2001:db8:1::1 there\)/);
  assert.match(f!.remedy[1]!, /^Or translate it instead: ip6tables -t nat -I POSTROUTING/);
});

test('no claim without the SYN seen leaving by the uplink, for IPv4, or for a source no container holds', () => {
  const { context, bridges } = setting('fd00:d0c::/64', 'fd00:d0c::242:ac11:2');
  const run = (flow: ReturnType<typeof attempt>) => ipv6UnroutedRule(diagnosisInput({ failedFlows: [flow], interfaceNames: NAMES, bridges, context }));
  assert.deepEqual(run(attempt([DOCKER0], 'fd00:d0c::242:ac11:2')), [], 'the uplink was not captured: the translation is not seen missing');
  assert.deepEqual(run(attempt([DOCKER0, ETH0], '172.17.0.2', '198.51.100.80')), [], "IPv4 is masquerade-missing's");
  assert.deepEqual(run(attempt([DOCKER0, ETH0], 'fd00:d0c::99')), [], 'no endpoint holds it and no MAC of this host sent it');
});
