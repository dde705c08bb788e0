import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { natSection } from '../src/context/collect';
import type { HostContext } from '../src/context/host-context';
import { parseIptablesSave } from '../src/context/parse-iptables-save';
import { parseNftRuleset } from '../src/context/parse-nft-ruleset';
import type { DiagnosisInput } from '../src/diagnose/input';
import { DIRECT_ACCESS_VERDICT, forwardDrop, hopFacts, type HopQuery } from '../src/diagnose/nat-hop';
import { traverseHook, type PacketView } from '../src/diagnose/netfilter-walk';
import { natPathBreakRule } from '../src/diagnose/rules/nat-path-break';
import { makeContext, route } from './context-fixtures';
import { handMadeFlow } from './flow-fixtures';

/**
 * Docker 28's iptables chains (DOCKER-FORWARD, DOCKER-BRIDGE, DOCKER-CT, raw PREROUTING's
 * direct-access drop) and Docker 29's nftables tables (`ip|ip6 docker-bridges`), on rule
 * dumps taken from moby's own sources (see each fixture's header): no engine of either
 * version runs on the project's machines.
 */
const FIXTURES = path.join(__dirname, '..', '..', 'test', 'fixtures', 'netfilter');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

/** What a user adds to Docker 28's DOCKER-USER (ours, not moby's). */
const DOCKER_USER_DROP = '-A DOCKER-USER -s 198.51.100.0/24 -j DROP';
const DOCKER28 = fixture('docker28-usernet-portmap.iptables-save').replace(':DOCKER-USER - [0:0]\n', `:DOCKER-USER - [0:0]\n${DOCKER_USER_DROP}\n`);
const DOCKER29 = fixture('docker29-usernet-portmap.nft');
/** Docker 29 has no DOCKER-USER: its docs say to drop in a base chain of one's own table (ours, not moby's). */
const userTable = (priority: string) =>
  `table ip my-filter {\n\tchain forward {\n\t\ttype filter hook forward priority ${priority}; policy accept;\n\t\tip saddr 198.51.100.0/24 counter packets 0 bytes 0 drop\n\t}\n}\n`;

/** The host of moby's usernet-portmap scenario: bridge1 192.0.2.1/24 with c1 at 192.0.2.2, 8080 published to its port 80; an uplink eth0. */
function host(natRules: HostContext['natRules']): HostContext {
  const iface = (name: string, index: number, address: string, kind: 'bridge' | 'physical') => ({
    name, index, kind, mac: null, mtu: 1500, up: true, addresses: [{ family: 4 as const, address, prefixLength: 24 }], master: null, ports: [],
  });
  return makeContext({
    interfaces: [iface('eth0', 2, '100.64.0.5', 'physical'), iface('bridge1', 3, '192.0.2.1', 'bridge')],
    routes: [route('100.64.0.0/24 dev eth0'), route('192.0.2.0/24 dev bridge1'), route('default via 100.64.0.1 dev eth0')],
    natRules,
  });
}

/** A SYN from `client` through the published port 100.64.0.5:8080, seen on eth0, never on bridge1. */
function published(client: string, port = 80): HopQuery {
  return { packet: { src: client, dst: '192.0.2.2', dstPort: port }, from: 'eth0', to: 'bridge1', dnatOf: { dst: '100.64.0.5', dstPort: 8080, iif: 'eth0' } };
}
/** A SYN from `client` dialling the container's own address (incident 004's path), seen on eth0, never on bridge1. */
function direct(client: string): HopQuery {
  return { packet: { src: client, dst: '192.0.2.2', dstPort: 80 }, from: 'eth0', to: 'bridge1' };
}
const FORWARD = { hook: 'forward', type: 'filter' } as const;
const AFTER_DNAT: PacketView = { src: '203.0.113.20', dst: '192.0.2.2', dstPort: 80, inInterface: 'eth0', outInterface: 'bridge1' };

test('Docker 28 iptables-save: raw is kept and parsed; built-in chains get their hook and priority', () => {
  const rs = parseIptablesSave(DOCKER28);
  assert.deepEqual([...rs.keys()], ['filter', 'nat', 'raw']);
  assert.deepEqual(rs.get('raw')!.get('PREROUTING')!.hook, { hook: 'prerouting', type: 'filter', priority: -300 });
  assert.deepEqual(rs.get('nat')!.get('PREROUTING')!.hook, { hook: 'prerouting', type: 'nat', priority: -100 });
  assert.deepEqual(rs.get('filter')!.get('FORWARD')!.hook, { hook: 'forward', type: 'filter', priority: 0 });
  assert.equal(rs.get('filter')!.get('DOCKER-FORWARD')!.hook, undefined, 'a user chain is no base chain');
});

test('Docker 28: a published port is accepted in DOCKER, reached through DOCKER-FORWARD and DOCKER-BRIDGE', () => {
  const t = traverseHook(parseIptablesSave(DOCKER28), FORWARD, AFTER_DNAT)!;
  assert.equal(t.verdict, 'ACCEPT');
  assert.equal(t.rule!.text, '-A DOCKER -d 192.0.2.2/32 ! -i bridge1 -o bridge1 -p tcp -m tcp --dport 80 -j ACCEPT');
  assert.deepEqual(t.maybe.map((r) => r.chain), [], 'DOCKER-CT may accept too; no rule that could drop was passed over');
  const facts = hopFacts(host({ iptables: DOCKER28, nft: null }), published('203.0.113.20'));
  assert.equal(facts.dropRule, null);
  assert.equal(facts.evidence['forwardVerdict'], 'ACCEPT');
  assert.equal(facts.evidence['rawVerdict'], undefined, 'raw sees the host address before DNAT: nothing to drop');
  assert.deepEqual(facts.evidence['dnatRules'], ['-A DOCKER ! -i bridge1 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.0.2.2:80']);
});

test('Docker 28: a DOCKER-USER drop comes before DOCKER-FORWARD and is sure', () => {
  const ctx = host({ iptables: DOCKER28, nft: null });
  assert.equal(forwardDrop(ctx, published('198.51.100.20')), DOCKER_USER_DROP);
  assert.equal(forwardDrop(ctx, published('203.0.113.20')), null);
  assert.equal(forwardDrop(ctx, published('203.0.113.20', 81)), '-A DOCKER ! -i bridge1 -o bridge1 -j DROP', "an unpublished port: DOCKER-CT's conntrack ACCEPT does not take a SYN");
  const facts = hopFacts(ctx, published('198.51.100.20'));
  assert.equal(facts.evidence['forwardVerdictBy'], DOCKER_USER_DROP);
  assert.match(facts.sentences.join(' '), /chain DOCKER-USER, reached from FORWARD/);
});

test('Docker 28: direct access to a container address from outside its bridge is dropped in raw PREROUTING', () => {
  const ctx = host({ iptables: DOCKER28, nft: null });
  const rawRule = '-A PREROUTING -d 192.0.2.2/32 ! -i bridge1 -j DROP';
  assert.equal(forwardDrop(ctx, direct('203.0.113.20')), rawRule);
  const facts = hopFacts(ctx, direct('203.0.113.20'));
  assert.equal(facts.evidence['rawVerdict'], DIRECT_ACCESS_VERDICT);
  assert.equal(facts.evidence['rawVerdictBy'], rawRule);
  assert.equal(facts.dropRule, rawRule);
  assert.match(facts.sentences[facts.sentences.length - 1]!, /^Dropped in raw PREROUTING: direct access to a container address from outside its bridge\./);
  assert.ok(facts.dropRemedy.some((l) => l.includes('gateway_mode_ipv4=nat-unprotected')));
  // From the container's own bridge, the rule does not apply.
  assert.equal(forwardDrop(ctx, { packet: { src: '192.0.2.3', dst: '192.0.2.2', dstPort: 80 }, from: 'bridge1', to: 'bridge1' }), null);
});

test("moby's iptabler golden (gwm=nat): DNAT found through the nat hook, direct access dropped in raw", () => {
  const saved = fixture('docker28-iptabler-golden.iptables-save');
  const rs = parseIptablesSave(saved);
  const dnat = traverseHook(rs, { hook: 'prerouting', type: 'nat' }, { src: '203.0.113.20', dst: '100.64.0.5', dstPort: 8080, inInterface: 'eth0', dstLocal: true })!;
  assert.deepEqual([dnat.verdict, dnat.rule!.toDestination], ['DNAT', '192.168.0.2:80']);
  const raw = traverseHook(rs, { hook: 'prerouting', type: 'filter', below: -100 }, { src: '203.0.113.20', dst: '192.168.0.2', dstPort: 80, inInterface: 'eth0' })!;
  assert.deepEqual([raw.verdict, raw.rule!.text], ['DROP', '-A PREROUTING -d 192.168.0.2/32 ! -i br-dummy -j DROP']);
  const unpublished = traverseHook(rs, FORWARD, { src: '203.0.113.20', dst: '192.168.0.2', dstPort: 81, inInterface: 'eth0', outInterface: 'br-dummy' })!;
  assert.deepEqual([unpublished.verdict, unpublished.rule!.text], ['DROP', '-A DOCKER ! -i br-dummy -o br-dummy -j DROP']);
});

test('Docker 29 nft: the docker-bridges table, its base chains and verdict maps', () => {
  const rs = parseNftRuleset(DOCKER29);
  const chains = rs.get('docker-bridges')!;
  assert.deepEqual(chains.get('filter-FORWARD')!.hook, { hook: 'forward', type: 'filter', priority: 0 });
  assert.deepEqual(chains.get('raw-PREROUTING')!.hook, { hook: 'prerouting', type: 'filter', priority: -300 });
  assert.deepEqual(chains.get('nat-POSTROUTING')!.hook, { hook: 'postrouting', type: 'nat', priority: 100 });
  // `oifname vmap @filter-forward-in-jumps` (two elements) and `iifname vmap @filter-forward-out-jumps`.
  const fwd = chains.get('filter-FORWARD')!.rules;
  assert.deepEqual(fwd.map((r) => [r.outInterface?.value ?? null, r.inInterface?.value ?? null, r.target]), [
    ['docker0', null, 'filter-forward-in__docker0'],
    ['bridge1', null, 'filter-forward-in__bridge1'],
    [null, 'docker0', 'filter-forward-out__docker0'],
    [null, 'bridge1', 'filter-forward-out__bridge1'],
  ]);
  assert.equal(fwd[1]!.text, 'oifname vmap @filter-forward-in-jumps ("bridge1" : jump filter-forward-in__bridge1)');
  assert.equal(parseNftRuleset(userTable('filter - 1')).get('my-filter')!.get('forward')!.hook!.priority, -1);
  const masq = traverseHook(rs, { hook: 'postrouting', type: 'nat' }, { src: '192.0.2.2', dst: '203.0.113.20', dstPort: 443, inInterface: 'bridge1', outInterface: 'eth0' })!;
  assert.deepEqual([masq.verdict, masq.rule!.chain], ['MASQUERADE', 'nat-postrouting-out__bridge1'], 'through iifname vmap @nat-postrouting-out-jumps');
});

test('Docker 29 nft: a published port is accepted in filter-forward-in__bridge1, DNAT found in nat-prerouting-and-output', () => {
  const rs = parseNftRuleset(DOCKER29);
  const t = traverseHook(rs, FORWARD, AFTER_DNAT)!;
  assert.equal(t.verdict, 'ACCEPT');
  assert.equal(t.rule!.chain, 'filter-forward-in__bridge1');
  assert.equal(t.rule!.text, 'ip daddr 192.0.2.2 tcp dport 80 counter accept');
  const unpublished = traverseHook(rs, FORWARD, { ...AFTER_DNAT, dstPort: 81 })!;
  assert.deepEqual([unpublished.verdict, unpublished.rule!.text], ['DROP', 'counter drop comment "UNPUBLISHED PORT DROP"']);
  assert.deepEqual(unpublished.maybe.map((r) => r.text), ['ct state established,related counter accept'], 'the conntrack state of a SYN unknown: it may be accepted first');
  assert.equal(traverseHook(rs, FORWARD, { ...AFTER_DNAT, dstPort: 81, ctState: 'NEW' })!.maybe.length, 0);
  const ctx = host({ iptables: null, nft: DOCKER29 });
  const facts = hopFacts(ctx, published('203.0.113.20'));
  assert.deepEqual(facts.evidence['dnatRules'], ['nft table ip docker-bridges chain nat-prerouting-and-output: iifname != "bridge1" tcp dport 8080 counter dnat to 192.0.2.2:80 comment "DNAT"']);
  assert.equal(facts.evidence['forwardVerdict'], 'ACCEPT');
  assert.equal(forwardDrop(ctx, published('203.0.113.20', 81)), 'nft table ip docker-bridges chain filter-forward-in__bridge1: counter drop comment "UNPUBLISHED PORT DROP"');
  const remedy = hopFacts(ctx, published('203.0.113.20', 81)).dropRemedy;
  assert.match(remedy.join(' '), /is Docker's own rule/);
  assert.ok(!remedy.some((l) => l.includes('delete')), 'no advice to delete a rule Docker writes again');
});

test("Docker 29 nft: a drop in the user's own forward chain wins over Docker's accept, before or after it", () => {
  for (const priority of ['filter - 1', 'filter + 10']) {
    const ctx = host({ iptables: null, nft: DOCKER29 + userTable(priority) });
    const rule = 'nft table ip my-filter chain forward: ip saddr 198.51.100.0/24 counter drop';
    assert.equal(forwardDrop(ctx, published('198.51.100.20')), rule, priority);
    assert.equal(forwardDrop(ctx, published('203.0.113.20')), null, priority);
    assert.equal(hopFacts(ctx, published('203.0.113.20')).evidence['forwardVerdictBy'], 'nft table ip docker-bridges chain filter-forward-in__bridge1: ip daddr 192.0.2.2 tcp dport 80 counter accept');
  }
});

test('Docker 29 nft: direct access to a container address is dropped in raw-PREROUTING', () => {
  const ctx = host({ iptables: null, nft: DOCKER29 });
  const facts = hopFacts(ctx, direct('203.0.113.20'));
  assert.equal(facts.evidence['rawVerdict'], DIRECT_ACCESS_VERDICT);
  assert.equal(facts.dropRule, 'nft table ip docker-bridges chain raw-PREROUTING: ip daddr 192.0.2.2 iifname != "bridge1" counter drop comment "DROP DIRECT ACCESS"');
  assert.equal(hopFacts(ctx, published('203.0.113.20')).evidence['rawVerdict'], undefined);
});

test("moby's nftabler ip6 golden: IPv6 packets meet the ip6 table, IPv4 ones do not", () => {
  const rs = parseNftRuleset(fixture('docker29-nftabler-golden-ip6.nft'));
  assert.deepEqual([...rs.keys()], ['ip6 docker-bridges']);
  const raw = { hook: 'prerouting', type: 'filter', below: -100 } as const;
  const t = traverseHook(rs, raw, { src: '2001:db8::20', dst: 'fd49:efd7:54aa::1', dstPort: 80, inInterface: 'eth0' })!;
  assert.deepEqual([t.verdict, t.rule!.chain], ['DROP', 'raw-PREROUTING']);
  assert.equal(traverseHook(rs, raw, { src: '203.0.113.20', dst: '192.168.0.2', dstPort: 80, inInterface: 'eth0' }), null);
  const dnat = traverseHook(rs, { hook: 'prerouting', type: 'nat' }, { src: '2001:db8::20', dst: '2001:db8::1', dstPort: 8080, inInterface: 'eth0', dstLocal: true })!;
  assert.deepEqual([dnat.verdict, dnat.rule!.toDestination], ['DNAT', '[fd49:efd7:54aa::1]:80']);
});

test('natSection keeps raw and mangle with nat and filter, in the order iptables-save printed them', () => {
  const saved = '# Generated by iptables-save\n*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*raw\n-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP\nCOMMIT\n*nat\nCOMMIT\n*filter\nCOMMIT\n*weird\nCOMMIT\n';
  assert.equal(natSection(saved), '*mangle\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n*raw\n-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP\nCOMMIT\n*nat\nCOMMIT\n*filter\nCOMMIT\n');
});

for (const [backend, natRules] of [['iptables', { iptables: DOCKER28, nft: null }], ['nft', { iptables: null, nft: DOCKER29 }]] as const) {
  test(`nat-path-break (${backend}): a SYN to the container's own address seen on eth0, never on bridge1, is the raw drop of direct access`, () => {
    const syn = handMadeFlow({ id: 'f1', clientIp: '203.0.113.20', clientPort: 40100, serverIp: '192.0.2.2', serverPort: 80, syns: 4, interfaces: [0] });
    const input = {
      failedFlows: [syn], interfaceNames: ['eth0', 'bridge1'], bridges: [], arpRequests: new Map(), seenAddresses: new Set(), attempts: [],
      capture: { droppedByCapture: 0, synAckWithoutSyn: 0, synAckWithoutSynExamples: [], oneSidedFlows: 0, truncatedFiles: [], undecodablePackets: 0, completed: 0 },
      context: host(natRules),
    } as unknown as DiagnosisInput;
    const [f, ...rest] = natPathBreakRule(input, new Set());
    assert.equal(rest.length, 0);
    assert.deepEqual([f!.evidence['seenAt'], f!.evidence['missingAt'], f!.evidence['rawVerdict'], f!.confidence], ['eth0', 'bridge1', DIRECT_ACCESS_VERDICT, 'high']);
    assert.match(f!.title, /reached eth0 but never bridge1, where the host's routes send it/);
    assert.match(f!.explanation, /Dropped in raw PREROUTING: direct access to a container address from outside its bridge/);
    // Without the raw rule, the same SYN is no sure drop.
    const plain = { ...input, context: host(backend === 'iptables' ? { iptables: DOCKER28.replace(/^-A PREROUTING -d .*\n/m, ''), nft: null } : { iptables: null, nft: DOCKER29.replace(/^.*DROP DIRECT ACCESS.*\n/m, '') }) };
    assert.equal(natPathBreakRule(plain, new Set())[0]!.evidence['rawVerdict'], undefined);
  });
}
