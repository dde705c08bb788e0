import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBridgeFlag } from '../src/context/bridge';
import type { DiagnosisInput } from '../src/diagnose/input';
import { inputDrop } from '../src/diagnose/input-drop';
import { filteredRule } from '../src/diagnose/rules/filtered';
import { iface, makeContext, route } from './context-fixtures';
import { diagnosisInput } from './diagnosis-fixtures';
import { handMadeFlow } from './flow-fixtures';

const NAMES = ['docker0', 'eth0'];
const DOCKER0 = 0;
const ETH0 = 1;

/** iptables-save's filter and nat tables: INPUT with the rules and policy given, Docker's DNAT for -p 8080:80. */
function iptables(inputRules: string[], policy = 'DROP'): string {
  return [
    '*filter',
    `:INPUT ${policy} [0:0]`,
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ...inputRules,
    'COMMIT',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':DOCKER - [0:0]',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
    '-A DOCKER -i docker0 -j RETURN',
    '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.3:80',
    'COMMIT',
    '',
  ].join('\n');
}

const HARDENED = ['-A INPUT -i lo -j ACCEPT', '-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-A INPUT -s 192.0.2.0/24 -p tcp -m tcp --dport 8000 -j ACCEPT'];

function host(rules: { iptables: string | null; nft: string | null }) {
  return makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24']), iface('docker0', 'bridge', ['172.17.0.1/16'])],
    routes: [route('192.0.2.0/24 dev eth0'), route('172.17.0.0/16 dev docker0'), route('local 172.17.0.1 dev docker0 table local'), route('local 192.0.2.1 dev eth0 table local')],
    natRules: rules,
  });
}

function attempt(iface: number, clientIp: string, serverIp: string, serverPort = 8000) {
  return handMadeFlow({ id: 'f1', clientIp, clientPort: 40000, serverIp, serverPort, outcome: 'unanswered', syns: 4, synAcks: 0, interfaces: [iface] });
}

function input(flow: ReturnType<typeof attempt>, context: DiagnosisInput['context']): DiagnosisInput {
  return diagnosisInput({ failedFlows: [flow], interfaceNames: NAMES, bridges: [parseBridgeFlag('docker0=172.17.0.0/16')], context });
}

test('a container dialling the host\'s docker0 address, dropped by INPUT\'s policy: the policy named, an ACCEPT for the bridge\'s subnet before it', () => {
  const i = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), host({ iptables: iptables(HARDENED), nft: null }));
  const d = inputDrop(i, i.failedFlows[0]!)!;
  assert.deepEqual(d.evidence, { interface: 'docker0', inputVerdict: 'DROP', inputVerdictBy: "the INPUT chain's policy DROP" });
  assert.equal(d.remedy[0], 'Accept this traffic before the drop: iptables -I INPUT -i docker0 -s 172.17.0.0/16 -d 172.17.0.1 -p tcp --dport 8000 -j ACCEPT.');
  const [f] = filteredRule(i, new Set(), new Map());
  assert.equal(f!.confidence, 'high');
  assert.match(f!.explanation, /addressed to this host itself \(172\.17\.0\.1, arriving on docker0\)/);
  assert.ok(!f!.remedy.some((line) => line.includes('--bridge NAME=CIDR')), 'no advice to give bridges the snapshot already has');
});

test('a DROP rule in INPUT is quoted: watch it, delete or narrow it, or (for a client outside any bridge) accept its own address before it', () => {
  const rules = ['-A INPUT -s 198.51.100.0/24 -j DROP'];
  const i = input(attempt(ETH0, '198.51.100.7', '192.0.2.1'), host({ iptables: iptables(rules, 'ACCEPT'), nft: null }));
  const d = inputDrop(i, i.failedFlows[0]!)!;
  assert.equal(d.evidence['inputVerdictBy'], '-A INPUT -s 198.51.100.0/24 -j DROP');
  assert.deepEqual(d.remedy.slice(0, 3), [
    'Watch its counter while a client retries: iptables -L INPUT -v -n --line-numbers.',
    'If these clients should reach the service, delete or narrow the rule: iptables -D INPUT -s 198.51.100.0/24 -j DROP.',
    'Or accept this traffic before it: iptables -I INPUT -i eth0 -s 198.51.100.7 -d 192.0.2.1 -p tcp --dport 8000 -j ACCEPT.',
  ]);
});

test('accepted, possibly accepted, DNATed away, or not addressed to the host: no INPUT drop', () => {
  const allowed = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), host({ iptables: iptables([...HARDENED, '-A INPUT -i docker0 -j ACCEPT']), nft: null }));
  assert.equal(inputDrop(allowed, allowed.failedFlows[0]!), null);
  const maybe = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), host({ iptables: iptables([...HARDENED, '-A INPUT -m set --match-set trusted src -j ACCEPT']), nft: null }));
  assert.equal(inputDrop(maybe, maybe.failedFlows[0]!), null, 'an accept synscope cannot evaluate');
  const published = input(attempt(ETH0, '198.51.100.7', '192.0.2.1', 8080), host({ iptables: iptables(HARDENED), nft: null }));
  assert.equal(inputDrop(published, published.failedFlows[0]!), null, 'a published port goes to FORWARD, not INPUT');
  const away = input(attempt(DOCKER0, '172.17.0.2', '198.51.100.80'), host({ iptables: iptables(HARDENED), nft: null }));
  assert.equal(inputDrop(away, away.failedFlows[0]!), null);
  const none = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), null);
  assert.equal(inputDrop(none, none.failedFlows[0]!), null);
});

test('an nftables host firewall (inet filter input, policy drop): the accept is an nft insert in that chain', () => {
  const nft = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
		ct state established,related accept
		ip saddr 192.0.2.0/24 tcp dport 8000 accept
	}
}
`;
  const i = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), host({ iptables: null, nft }));
  const d = inputDrop(i, i.failedFlows[0]!)!;
  assert.equal(d.evidence['inputVerdictBy'], "the input chain's policy DROP");
  assert.equal(d.remedy[0], 'Accept this traffic before the drop: nft insert rule inet filter input iifname "docker0" ip saddr 172.17.0.0/16 ip daddr 172.17.0.1 tcp dport 8000 accept.');
});

test('the snapshot\'s listeners: a service on 127.0.0.1 only is named, and the remedy makes it listen before it accepts', () => {
  const ctx = { ...host({ iptables: iptables(HARDENED), nft: null }), listeners: ['0.0.0.0:22', '127.0.0.1:8000'] };
  const i = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), ctx);
  const d = inputDrop(i, i.failedFlows[0]!)!;
  assert.deepEqual(d.evidence['listeners'], ['127.0.0.1:8000']);
  assert.match(d.sentences.join(' '), /Nothing listens on 172\.17\.0\.1:8000 either \(the snapshot's listeners on port 8000: 127\.0\.0\.1:8000\)/);
  assert.match(d.remedy[0]!, /^Make the service listen on 172\.17\.0\.1:8000: bind it to 0\.0\.0\.0 .*without the 127\.0\.0\.1: prefix\.$/);
  assert.match(d.remedy[1]!, /^Accept this traffic before the drop: iptables -I INPUT /);
});

test('a listener on 0.0.0.0 or [::] takes the SYN: no listening advice', () => {
  for (const listener of ['0.0.0.0:8000', '[::]:8000', '172.17.0.1:8000']) {
    const ctx = { ...host({ iptables: iptables(HARDENED), nft: null }), listeners: [listener] };
    const i = input(attempt(DOCKER0, '172.17.0.2', '172.17.0.1'), ctx);
    const d = inputDrop(i, i.failedFlows[0]!)!;
    assert.deepEqual(d.evidence['listeners'], [listener]);
    assert.match(d.remedy[0]!, /^Accept this traffic before the drop/, listener);
  }
});

test('IPv6 through an inet table: the nft accept matches ip6 addresses', () => {
  const nft = `table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept
	}
}
`;
  const ctx = makeContext({
    interfaces: [iface('eth0', 'veth', ['192.0.2.1/24', '2001:db8::1/64'])],
    routes: [route('192.0.2.0/24 dev eth0'), route('2001:db8::/64 dev eth0')],
    natRules: { iptables: null, nft },
  });
  const i = input(attempt(ETH0, '2001:db8::7', '2001:db8::1'), ctx);
  const d = inputDrop(i, i.failedFlows[0]!)!;
  assert.equal(d.remedy[0], 'Accept this traffic before the drop: nft insert rule inet filter input iifname "eth0" ip6 saddr 2001:db8::7 ip6 daddr 2001:db8::1 tcp dport 8000 accept.');
});
