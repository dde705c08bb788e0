import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesSave, parseRule } from '../src/context/parse-iptables-save';
import { parseNftRuleset } from '../src/context/parse-nft-ruleset';
import { ruleFits, rulesetOf, ruleText, traverse, type PacketView } from '../src/diagnose/netfilter-walk';
import { makeContext } from './context-fixtures';
import { DOCKER_IPTABLES_SAVE, DOCKER_NFT_RULESET } from './nat-path-break-fixtures';
import { forwardDrop } from '../src/diagnose/nat-hop';

test('iptables-save: tables, chain policies and rules in order', () => {
  const rs = parseIptablesSave(DOCKER_IPTABLES_SAVE);
  assert.deepEqual([...rs.keys()], ['filter', 'nat']);
  const filter = rs.get('filter')!;
  assert.deepEqual([...filter.keys()], ['INPUT', 'FORWARD', 'OUTPUT', 'DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER']);
  assert.equal(filter.get('FORWARD')!.policy, 'DROP');
  assert.equal(filter.get('DOCKER-USER')!.policy, null);
  assert.deepEqual(filter.get('FORWARD')!.rules.map((r) => r.target), ['DOCKER-USER', 'DOCKER-ISOLATION-STAGE-1', 'ACCEPT', 'DOCKER', 'ACCEPT', 'ACCEPT']);
  const drop = filter.get('DOCKER-USER')!.rules[0]!;
  assert.deepEqual(
    { table: drop.table, chain: drop.chain, source: drop.source, target: drop.target, unknown: drop.unknown, text: drop.text },
    { table: 'filter', chain: 'DOCKER-USER', source: { value: '198.51.100.0/24', negated: false }, target: 'DROP', unknown: [], text: '-A DOCKER-USER -s 198.51.100.0/24 -j DROP' },
  );
});

test('iptables-save: negations, protocol, ports, addrtype, DNAT target and unmodelled matches', () => {
  const dnat = parseRule('nat', '-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80')!;
  assert.deepEqual(dnat.inInterface, { value: 'docker0', negated: true });
  assert.deepEqual(dnat.protocol, { value: 'tcp', negated: false });
  assert.deepEqual(dnat.destinationPort, { value: { from: 8080, to: 8080 }, negated: false });
  assert.equal(dnat.target, 'DNAT');
  assert.equal(dnat.toDestination, '172.17.0.2:80');
  assert.deepEqual(dnat.unknown, []);
  const local = parseRule('nat', '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER')!;
  assert.deepEqual(local.destination, { value: '127.0.0.0/8', negated: true });
  assert.deepEqual(local.destinationType, { value: 'LOCAL', negated: false });
  const state = parseRule('filter', '-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "docker: keep state" -j ACCEPT')!;
  assert.deepEqual(state.ctState, { value: ['RELATED', 'ESTABLISHED'], negated: false });
  assert.deepEqual(state.unknown, []);
  assert.equal(ruleFits(state, { src: '10.0.0.1', dst: '172.17.0.2', dstPort: 80, outInterface: 'docker0', ctState: 'NEW' }), 'no', 'a SYN is NEW');
  assert.equal(ruleFits(state, { src: '10.0.0.1', dst: '172.17.0.2', dstPort: 80, outInterface: 'docker0', ctState: 'ESTABLISHED' }), 'yes');
  assert.equal(ruleFits(state, { src: '10.0.0.1', dst: '172.17.0.2', dstPort: 80, outInterface: 'docker0' }), 'maybe', 'state unknown');
  assert.deepEqual(parseRule('filter', '-A INPUT -m state ! --state INVALID -j ACCEPT')!.ctState, { value: ['INVALID'], negated: true });
  assert.deepEqual(state.outInterface, { value: 'docker0', negated: false });
  const range = parseRule('filter', '-A INPUT -p udp -m udp --sport 1024: ! --dport 60000:61000 -j REJECT --reject-with icmp-port-unreachable')!;
  assert.deepEqual(range.sourcePort, { value: { from: 1024, to: 65535 }, negated: false });
  assert.deepEqual(range.destinationPort, { value: { from: 60000, to: 61000 }, negated: true });
  assert.equal(range.target, 'REJECT');
  const multi = parseRule('filter', '-A INPUT -p tcp -m multiport --dports 80,443 -g OTHER')!;
  assert.deepEqual(multi.unknown, ['--dports 80,443']);
  assert.equal(multi.goto, true);
  assert.equal(parseRule('filter', '-N NOTARULE'), null);
});

test('iptables-save -c: counters before the rule are skipped', () => {
  const rs = parseIptablesSave('*filter\n:FORWARD ACCEPT [10:600]\n[3:180] -A FORWARD -s 10.0.0.0/8 -j DROP\nCOMMIT\n');
  assert.equal(rs.get('filter')!.get('FORWARD')!.rules[0]!.text, '-A FORWARD -s 10.0.0.0/8 -j DROP');
});

test('nft: ip tables by name, inet ones by family and name, with policies, statements as matches, counters out of the text', () => {
  const rs = parseNftRuleset(DOCKER_NFT_RULESET);
  assert.deepEqual([...rs.keys()], ['nat', 'filter', 'inet firewalld']);
  assert.deepEqual(rs.get('inet firewalld')!.get('filter_FORWARD')!.hook, { hook: 'forward', type: 'filter', priority: 10 });
  const filter = rs.get('filter')!;
  assert.equal(filter.get('FORWARD')!.policy, 'DROP');
  assert.equal(rs.get('nat')!.get('PREROUTING')!.policy, 'ACCEPT');
  const drop = filter.get('DOCKER-USER')!.rules[0]!;
  assert.equal(drop.text, 'ip saddr 198.51.100.0/24 counter drop');
  assert.deepEqual(drop.source, { value: '198.51.100.0/24', negated: false });
  assert.equal(drop.target, 'DROP');
  assert.equal(ruleText(drop), 'nft table ip filter chain DOCKER-USER: ip saddr 198.51.100.0/24 counter drop');
  const accept = filter.get('DOCKER')!.rules[0]!;
  assert.deepEqual([accept.inInterface, accept.outInterface, accept.destination, accept.protocol, accept.destinationPort], [
    { value: 'docker0', negated: true },
    { value: 'docker0', negated: false },
    { value: '172.17.0.2', negated: false },
    { value: 'tcp', negated: false },
    { value: { from: 80, to: 80 }, negated: false },
  ]);
  assert.deepEqual([filter.get('FORWARD')!.rules[1]!.ctState, filter.get('FORWARD')!.rules[1]!.unknown], [{ value: ['RELATED', 'ESTABLISHED'], negated: false }, []]);
  const set = parseNftRuleset('table ip t {\n\tchain c {\n\t\tct state != { established, related } tcp dport 22 drop\n\t}\n}\n').get('t')!.get('c')!.rules[0]!;
  assert.deepEqual([set.ctState, set.destinationPort?.value, set.target], [{ value: ['ESTABLISHED', 'RELATED'], negated: true }, { from: 22, to: 22 }, 'DROP']);
  const dnat = rs.get('nat')!.get('DOCKER')!.rules[1]!;
  assert.equal(dnat.target, 'DNAT');
  assert.equal(dnat.toDestination, '172.17.0.2:80');
  assert.deepEqual(rs.get('nat')!.get('PREROUTING')!.rules[0]!.destinationType, { value: 'LOCAL', negated: false });
  assert.equal(rs.get('nat')!.get('POSTROUTING')!.rules[0]!.target, 'MASQUERADE');
});

test('nft: a set is not modelled, the rule only may apply', () => {
  const rs = parseNftRuleset('table ip filter {\n\tchain FORWARD {\n\t\tip saddr { 10.0.0.1, 10.0.0.2 } tcp dport { 80, 443 } drop\n\t}\n}\n');
  const r = rs.get('filter')!.get('FORWARD')!.rules[0]!;
  assert.equal(r.source, undefined);
  assert.equal(r.destinationPort, undefined);
  assert.deepEqual(r.unknown, ['ip saddr { 10.0.0.1 10.0.0.2 }', 'tcp dport { 80 443 }']);
  assert.equal(ruleFits(r, { src: '10.0.0.1', dst: '172.17.0.2', dstPort: 80 }), 'maybe');
});

const SYN: PacketView = { src: '198.51.100.20', dst: '172.17.0.2', dstPort: 80, inInterface: 'eth0', outInterface: 'docker0' };

for (const [name, text] of [['iptables-save', DOCKER_IPTABLES_SAVE], ['nft', DOCKER_NFT_RULESET]] as const) {
  test(`walk (${name}): FORWARD jumps to DOCKER-USER, whose DROP ends the walk; others reach DOCKER's ACCEPT`, () => {
    const rs = name === 'nft' ? parseNftRuleset(text) : parseIptablesSave(text);
    const dropped = traverse(rs, 'filter', 'FORWARD', SYN)!;
    assert.equal(dropped.verdict, 'DROP');
    assert.equal(dropped.rule!.chain, 'DOCKER-USER');
    const good = traverse(rs, 'filter', 'FORWARD', { ...SYN, src: '192.0.2.10' })!;
    assert.equal(good.verdict, 'ACCEPT');
    assert.equal(good.rule!.chain, 'DOCKER');
    // The conntrack rule was passed over as one that may apply (its state match is not modelled).
    assert.deepEqual(good.maybe.map((r) => r.target), ['ACCEPT']);
    const otherPort = traverse(rs, 'filter', 'FORWARD', { ...SYN, src: '192.0.2.10', dstPort: 81 })!;
    assert.deepEqual([otherPort.verdict, otherPort.rule], ['DROP', null], 'falls off FORWARD: its policy');
    const dnat = traverse(rs, 'nat', 'PREROUTING', { src: '192.0.2.10', dst: '192.0.2.1', dstPort: 8080, inInterface: 'eth0', dstLocal: true })!;
    assert.equal(dnat.verdict, 'DNAT');
    assert.equal(dnat.rule!.toDestination, '172.17.0.2:80');
    const fromBridge = traverse(rs, 'nat', 'PREROUTING', { src: '172.17.0.5', dst: '192.0.2.1', dstPort: 8080, inInterface: 'docker0', dstLocal: true })!;
    assert.deepEqual([fromBridge.verdict, fromBridge.rule], ['ACCEPT', null], 'RETURN for docker0, then the policy');
    assert.equal(traverse(rs, 'nat', 'POSTROUTING', { src: '172.17.0.2', dst: '203.0.113.10', dstPort: 81, outInterface: 'eth0' })!.verdict, 'MASQUERADE');
    assert.equal(traverse(rs, 'raw', 'PREROUTING', SYN), null);
  });
}

test('walk: an unknown interface makes an interface match uncertain, never a sure verdict', () => {
  const rs = parseIptablesSave('*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -i eth0 -j DROP\nCOMMIT\n');
  const t = traverse(rs, 'filter', 'FORWARD', { src: '10.0.0.1', dst: '10.0.0.2', dstPort: 80 })!;
  assert.equal(t.verdict, 'ACCEPT');
  assert.deepEqual(t.maybe.map((r) => r.text), ['-A FORWARD -i eth0 -j DROP']);
  assert.equal(ruleFits(rs.get('filter')!.get('FORWARD')!.rules[0]!, { src: '10.0.0.1', dst: '10.0.0.2', dstPort: 80, inInterface: 'eth1' }), 'no');
});

test('walk: wildcard interfaces, goto does not come back, a jump loop stops', () => {
  const rs = parseIptablesSave(
    ['*filter', ':FORWARD ACCEPT [0:0]', ':A - [0:0]', ':B - [0:0]', '-A FORWARD -o veth+ -g A', '-A FORWARD -j DROP', '-A A -d 10.9.0.0/16 -j B', '-A B -j A', 'COMMIT', ''].join('\n'),
  );
  assert.deepEqual(traverse(rs, 'filter', 'FORWARD', { src: '10.0.0.1', dst: '10.0.0.2', dstPort: 80, outInterface: 'veth12' }), { verdict: 'ACCEPT', rule: null, maybe: [] });
  assert.equal(traverse(rs, 'filter', 'FORWARD', { src: '10.0.0.1', dst: '10.0.0.2', dstPort: 80, outInterface: 'eth1' })!.verdict, 'DROP');
  assert.equal(traverse(rs, 'filter', 'FORWARD', { src: '10.0.0.1', dst: '10.9.0.2', dstPort: 80, outInterface: 'veth1' })!.verdict, 'ACCEPT');
});

test('rulesetOf: iptables-save tables first, nft only for the tables iptables-save lacks', () => {
  const natOnly = DOCKER_IPTABLES_SAVE.slice(DOCKER_IPTABLES_SAVE.indexOf('*nat'));
  const rs = rulesetOf(makeContext({ natRules: { iptables: natOnly, nft: DOCKER_NFT_RULESET } }));
  assert.equal(rs.get('nat')!.get('DOCKER')!.rules[1]!.origin, 'iptables-save');
  assert.equal(rs.get('filter')!.get('DOCKER-USER')!.rules[0]!.origin, 'nft');
  assert.equal(rulesetOf(makeContext()).size, 0);
});

test('forwardDrop: a policy DROP after an ACCEPT that may apply is no sure drop; IPv6 gets no verdict from IPv4 rules', () => {
  const saved = `*filter
:FORWARD DROP [0:0]
-A FORWARD -i eth0 -o docker0 -p tcp -m tcp --dport 80 -m set --match-set trusted src -j ACCEPT
-A FORWARD -i eth0 ! -s 192.168.1.0/24 -j DROP
COMMIT
`;
  const ctx = makeContext({
    interfaces: [iface('eth0'), iface('docker0')],
    natRules: { iptables: saved, nft: null },
  });
  const v4 = { packet: { src: '198.51.100.20', dst: '172.17.0.2', dstPort: 80 }, from: 'eth0', to: 'docker0' };
  assert.equal(forwardDrop(ctx, v4), null, 'the set match is not modelled: it may accept first');
  const other = { packet: { src: '198.51.100.20', dst: '172.17.0.2', dstPort: 81 }, from: 'eth0', to: 'docker0' };
  assert.equal(forwardDrop(ctx, other), '-A FORWARD -i eth0 ! -s 192.168.1.0/24 -j DROP', 'port 81: the ACCEPT does not apply');
  const v6 = { packet: { src: '2001:db8::7', dst: 'fd00::2', dstPort: 81 }, from: 'eth0', to: 'docker0' };
  assert.equal(forwardDrop(ctx, v6), null);
});

function iface(name: string) {
  return { name, index: 1, kind: 'physical' as const, mac: null, mtu: 1500, up: true, addresses: [], master: null, ports: [] };
}
