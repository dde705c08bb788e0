import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseBridgeFlag } from '../src/context/bridge';
import { bridgesFromContext } from '../src/context/context-bridges';
import type { DockerNetwork } from '../src/context/host-context';
import { loadHostContext } from '../src/context/load';
import { diagnose } from '../src/diagnose/diagnose';
import type { DiagnosisInput } from '../src/diagnose/input';
import { masqueradeMissingRule } from '../src/diagnose/rules/masquerade-missing';
import { analyzeFiles } from '../src/analysis';
import { REPO } from './cli-harness';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';

const NAMES = ['docker0', 'eth0'];
const DOCKER0 = 0;
const ETH0 = 1;
const DOCKER_RULE = '-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE';

/** Docker's nat table for docker0, with POSTROUTING's rules as given. */
function nat(postrouting: string[], dockerChain = true): string {
  return [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...(dockerChain ? [':DOCKER - [0:0]', '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', '-A DOCKER -i docker0 -j RETURN'] : []),
    ...postrouting,
    'COMMIT',
    '',
  ].join('\n');
}

const BRIDGE_NETWORK: DockerNetwork = {
  id: 'a1b2', name: 'bridge', driver: 'bridge', scope: 'local', subnets: ['172.17.0.0/16'], gateways: ['172.17.0.1'],
  bridge: 'docker0', ingress: false, internal: false, masquerade: true,
};

/** A Docker host: eth0 192.0.2.1/24 with its default route via 192.0.2.254, docker0 172.17.0.1/16. */
function host(iptables: string | null, network: DockerNetwork = BRIDGE_NETWORK) {
  return makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('default via 192.0.2.254 dev eth0'), route('192.0.2.0/24 dev eth0'), route('172.17.0.0/16 dev docker0')],
    natRules: { iptables, nft: null },
    dockerNetworks: [network],
  });
}

/** The container 172.17.0.2's unanswered attempt to 198.51.100.80:80, seen on the interfaces given. */
function attempt(interfaces: number[], clientIp = '172.17.0.2', serverIp = '198.51.100.80') {
  return handMadeFlow({ id: 'f1', clientIp, clientPort: 40000, serverIp, serverPort: 80, outcome: 'unanswered', syns: 4, synAcks: 0, interfaces });
}

function input(flows: ReturnType<typeof attempt>[], context: DiagnosisInput['context']): DiagnosisInput {
  return diagnosisInput({ failedFlows: flows, interfaceNames: NAMES, bridges: [parseBridgeFlag('docker0=172.17.0.0/16')], context });
}

test('a container\'s SYN seen leaving eth0 untranslated, with no MASQUERADE in the snapshot: a high-confidence nat-path-break that puts Docker\'s rule back', () => {
  const [f, ...rest] = masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], host(nat([]))));
  assert.equal(rest.length, 0);
  assert.equal(f!.code, 'nat-path-break');
  assert.equal(f!.confidence, 'high');
  assert.deepEqual([f!.evidence['bridge'], f!.evidence['leftBy'], f!.evidence['seenLeaving'], f!.evidence['masquerade']], ['docker0', 'eth0', true, true]);
  assert.equal(f!.remedy[0], "Put Docker's rule back: iptables -t nat -I POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE.");
  assert.match(f!.explanation, /rest of its nat rules are still there/);
  assert.match(f!.remedy[1]!, /systemctl restart docker/);
});

test('the uplink not captured: the same cause from the snapshot, at medium confidence', () => {
  const [f] = masqueradeMissingRule(input([attempt([DOCKER0])], host(nat([]))));
  assert.equal(f!.confidence, 'medium');
  assert.equal(f!.evidence['seenLeaving'], false);
});

test('Docker\'s MASQUERADE in the snapshot, or a SNAT for the subnet: no claim', () => {
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], host(nat([DOCKER_RULE])))), []);
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], host(nat(['-A POSTROUTING -s 172.17.0.0/16 -o eth0 -j SNAT --to-source 192.0.2.1'])))), []);
});

test('no nat table in the snapshot, an IPv6 container, a server on the host or in the bridge: no claim', () => {
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], host(null))), []);
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], null)), []);
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0], 'fd00::2', '2001:db8::80')], host(nat([])))), []);
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0], '172.17.0.2', '192.0.2.1')], host(nat([])))), []);
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0], '172.17.0.2', '172.17.0.3')], host(nat([])))), []);
});

test('an attempt from outside the bridge (a client on eth0 to a server beyond): no claim', () => {
  assert.deepEqual(masqueradeMissingRule(input([attempt([ETH0], '192.0.2.10')], host(nat([])))), []);
});

test('no DOCKER chain in nat either: says Docker\'s rules were flushed or never written ("iptables": false)', () => {
  const [f] = masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], host(nat([], false))));
  assert.equal(f!.evidence['dockerNatChain'], false);
  assert.match(f!.remedy[1]!, /"iptables": false/);
});

test('a network Docker was told not to masquerade: the remedy routes the subnet back, it does not add the rule', () => {
  const [f] = masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], host(nat([]), { ...BRIDGE_NETWORK, masquerade: false })));
  assert.equal(f!.remedy.length, 1);
  assert.match(f!.remedy[0]!, /ip route add 172\.17\.0\.0\/16 via 192\.0\.2\.1\b/);
  assert.ok(!f!.remedy[0]!.includes('iptables -t nat -I'));
});

test('diagnose: the finding explains the silence, so no filtered finding for it', () => {
  const findings = diagnose(input([attempt([DOCKER0, ETH0])], host(nat([]))), new Map());
  assert.deepEqual(findings.map((f) => f.code), ['nat-path-break']);
});

test('stored docker-real-masquerade-missing: one finding, Docker\'s rule named, the masquerade flag read from Docker\'s API', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-masquerade-missing');
  const context = loadHostContext(path.join(dir, 'context.json'));
  assert.equal(context.dockerNetworks?.find((n) => n.name === 'bridge')?.masquerade, true);
  const result = analyzeFiles([path.join(dir, 'capture.pcapng')], { context, bridges: bridgesFromContext(context) });
  assert.deepEqual(result.findings.map((f) => [f.code, f.evidence['clients']]), [['nat-path-break', ['172.17.0.2']]]);
  assert.match(result.findings[0]!.title, /left by eth0 with the container's own address: nothing masquerades 172\.17\.0\.0\/16/);
});

test('captured on the uplink alone (tcpdump -i eth0): a container\'s SYN leaving untranslated is named too, when the host sent it', () => {
  const ctx = host(nat([]));
  ctx.interfaces.find((i) => i.name === 'eth0')!.mac = '02:00:00:00:00:01';
  const withEndpoint = { ...ctx, dockerNetworks: [{ ...BRIDGE_NETWORK, endpoints: [{ name: 'cli', addresses: ['172.17.0.2'] }] }] };
  const [byEndpoint] = masqueradeMissingRule(input([attempt([ETH0])], withEndpoint));
  assert.deepEqual([byEndpoint!.evidence['seenOnBridge'], byEndpoint!.evidence['seenLeaving'], byEndpoint!.confidence], [false, true, 'high']);
  assert.match(byEndpoint!.explanation, /seen leaving by eth0 untranslated \(docker0 was not captured\)/);

  const sentFrom = (mac: string): DiagnosisInput => ({ ...input([attempt([ETH0])], ctx), macsByAddress: new Map([['172.17.0.2', [{ mac, interface: 'eth0', packets: 4 }]]]) });
  assert.equal(masqueradeMissingRule(sentFrom('02:00:00:00:00:01')).length, 1, 'the uplink\'s own MAC: the host sent it');
  assert.deepEqual(masqueradeMissingRule(sentFrom('02:00:00:00:00:99')), [], 'another host\'s MAC: a remote client in the subnet (an overlap), not a container');
  assert.deepEqual(masqueradeMissingRule(input([attempt([ETH0])], ctx)), [], 'nothing says the host sent it');
});

test('diagnose, uplink alone, sent with the host\'s own MAC: one ERROR, the untranslated SYN, not a bridge overlap as well', () => {
  const ctx = host(nat([]));
  ctx.interfaces.find((i) => i.name === 'eth0')!.mac = '02:00:00:00:00:01';
  const i = { ...input([attempt([ETH0])], ctx), macsByAddress: new Map([['172.17.0.2', [{ mac: '02:00:00:00:00:01', interface: 'eth0', packets: 4 }]]]) };
  assert.deepEqual(diagnose(i, new Map()).map((f) => f.code), ['nat-path-break']);
});

test('stored docker-real-masquerade-missing, its eth0 packets alone (tshark -Y \'frame.interface_name == "eth0"\'): the same one finding, from the uplink', () => {
  const dir = path.join(REPO, 'captures', 'docker-real-masquerade-missing');
  const context = loadHostContext(path.join(dir, 'context.json'));
  const result = analyzeFiles([path.join(REPO, 'test', 'fixtures', 'capture', 'docker-real-masquerade-missing-eth0.pcapng')], { context, bridges: bridgesFromContext(context) });
  assert.deepEqual(result.findings.map((f) => [f.code, f.evidence['clients'], f.evidence['seenOnBridge'], f.evidence['seenLeaving']]), [['nat-path-break', ['172.17.0.2'], false, true]]);
});

/** What `nft list ruleset` prints after Debian's /etc/nftables.conf (flush ruleset, one empty inet filter table) was loaded. */
const DEBIAN_NFT = 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n\n\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t}\n}\n';

test('no nat table at all, both listings read (iptables-save empty, nft shows only inet filter): the ruleset was replaced whole, named with the restart and the nftables file', () => {
  const ctx = { ...host(''), natRules: { iptables: '', nft: DEBIAN_NFT } };
  const [f] = masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], ctx));
  assert.deepEqual([f?.evidence['rulesetWiped'], f?.evidence['tablesLeft']], [true, ['inet filter']]);
  assert.match(f!.explanation, /flush ruleset/);
  assert.match(f!.remedy[1]!, /systemctl restart docker.*flush table inet filter/);
});

test('no nat table, but nft\'s listing was not read: no claim (a nat table only nft shows may translate it)', () => {
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], { ...host(''), natRules: { iptables: '', nft: null } })), []);
});

test('Docker\'s chains flushed by iptables (its tables left, no DOCKER chain): the flushed-rules story, not the replaced ruleset', () => {
  const [f] = masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], { ...host(nat([], false)), natRules: { iptables: nat([], false), nft: DEBIAN_NFT } }));
  assert.equal(f?.evidence['rulesetWiped'], undefined);
  assert.match(f!.remedy[1]!, /"iptables": false/);
});

test('no nat table at all: claimed from the bridge alone only when Docker\'s whole ruleset is gone under a network it masquerades, and not when iptables-save noted legacy tables it could not show', () => {
  const ctx = { ...host(''), natRules: { iptables: '', nft: DEBIAN_NFT } };
  const [f] = masqueradeMissingRule(input([attempt([DOCKER0])], ctx));
  assert.deepEqual([f?.confidence, f?.evidence['seenLeaving'], f?.evidence['rulesetWiped']], ['medium', false, true], 'the uplink not captured: the wiped ruleset says it');
  const unmasqueraded = { ...host('', { ...BRIDGE_NETWORK, masquerade: false }), natRules: { iptables: '', nft: DEBIAN_NFT } };
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0])], unmasqueraded)), [], 'a network Docker does not masquerade: no nat table is no news');
  const notDockers = { ...host('', { ...BRIDGE_NETWORK, bridge: 'br-other' }), natRules: { iptables: '', nft: DEBIAN_NFT } };
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0])], notDockers)), [], 'a bridge no Docker network holds: the snapshot alone does not say');
  const legacy = { ...ctx, unavailable: [{ source: 'iptables-legacy-save', reason: 'iptables-save says iptables-legacy tables are present' }] };
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], legacy)), [], "Docker's rules may be in the legacy tables");
});

test('the bridge alone under a wiped ruleset whose one table drops what the host forwards (policy drop on forward): no masquerade claim, the SYN never leaves', () => {
  const dropping = DEBIAN_NFT.replace('type filter hook forward priority filter; policy accept;', 'type filter hook forward priority filter; policy drop;');
  assert.notEqual(dropping, DEBIAN_NFT);
  const ctx = { ...host(''), natRules: { iptables: '', nft: dropping } };
  assert.deepEqual(masqueradeMissingRule(input([attempt([DOCKER0])], ctx)), []);
  assert.equal(masqueradeMissingRule(input([attempt([DOCKER0, ETH0])], ctx)).length, 1, 'seen leaving eth0, it did leave');
});
