/**
 * Route simulation against hand-built snapshots. Expected results follow what
 * `ip route get` answers on Linux 6.x for the same tables and rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, isMoreSpecific } from '../src/diagnose/prefix';
import { lookupRoute, type RouteLookup } from '../src/diagnose/route-sim';
import { makeContext, route, rule } from './context-fixtures';

/** "dev table" of the answer, or "unreachable: why". */
function via(r: RouteLookup): string {
  return 'route' in r ? `${r.route.device ?? r.route.type} ${r.table}` : `unreachable: ${r.unreachable}`;
}

const uplinkAndBridge = makeContext({
  routes: [
    route('default via 10.0.0.1 dev eth0 metric 100'),
    route('10.0.0.0/24 dev eth0 metric 100'),
    route('172.17.0.0/16 dev docker0'),
    route('172.16.0.0/12 via 10.0.0.254 dev eth0'),
    route('local 10.0.0.5 dev eth0 table local'),
  ],
});

test('longest prefix wins over shorter ones and the default route', () => {
  assert.equal(via(lookupRoute(uplinkAndBridge, '172.17.3.4')), 'docker0 main');
  assert.equal(via(lookupRoute(uplinkAndBridge, '172.20.0.1')), 'eth0 main');
  assert.equal(via(lookupRoute(uplinkAndBridge, '8.8.8.8')), 'eth0 main');
});

test('the local table is looked up first (rule 0)', () => {
  const r = lookupRoute(uplinkAndBridge, '10.0.0.5');
  assert.ok('route' in r);
  assert.equal(r.route.type, 'local');
  assert.equal(r.table, 'local');
  assert.equal(r.rule, null, 'default rules are reported as null');
});

test('same prefix: lowest metric wins, then the route listed first', () => {
  const ctx = makeContext({
    routes: [route('192.168.0.0/24 dev eth0 metric 100'), route('192.168.0.0/24 dev docker0 metric 50')],
  });
  assert.equal(via(lookupRoute(ctx, '192.168.0.7')), 'docker0 main');
  const tie = makeContext({ routes: [route('192.168.0.0/24 dev eth0'), route('192.168.0.0/24 dev docker0')] });
  assert.equal(via(lookupRoute(tie, '192.168.0.7')), 'eth0 main');
});

test('no route at all is unreachable', () => {
  const ctx = makeContext({ routes: [route('10.0.0.0/24 dev eth0')] });
  assert.match(via(lookupRoute(ctx, '8.8.8.8')), /^unreachable: no route/);
});

test('policy rule "from" selects another table; other sources fall through to main', () => {
  const ctx = makeContext({
    rules: [rule('0: from all lookup local'), rule('100: from 10.1.0.0/24 lookup 100'), rule('32766: from all lookup main'), rule('32767: from all lookup default')],
    routes: [route('default via 10.0.0.1 dev eth0'), route('default via 10.1.0.1 dev eth1 table 100')],
  });
  const r = lookupRoute(ctx, '8.8.8.8', { src: '10.1.0.5' });
  assert.equal(via(r), 'eth1 100');
  assert.ok('route' in r && r.rule?.priority === 100);
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { src: '10.0.0.5' })), 'eth0 main');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8')), 'eth0 main', 'no source: 0.0.0.0 is not in 10.1.0.0/24');
});

test('policy rule with iif matches forwarded packets only; locally generated ones are iif lo', () => {
  const ctx = makeContext({
    rules: [rule('10: iif eth1 lookup 100'), rule('20: iif lo lookup 200'), rule('32766: from all lookup main')],
    routes: [route('default via 10.0.0.1 dev eth0'), route('default via 10.1.0.1 dev eth1 table 100'), route('default via 10.2.0.1 dev eth2 table 200')],
  });
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { iif: 'eth1' })), 'eth1 100');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { iif: 'eth3' })), 'eth0 main');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8')), 'eth2 200');
});

test('fwmark with and without a mask', () => {
  const ctx = makeContext({
    rules: [rule('10: fwmark 0x100/0xf00 lookup 100'), rule('20: fwmark 0x2 lookup 200'), rule('32766: from all lookup main')],
    routes: [route('default via 10.0.0.1 dev eth0'), route('default via 10.1.0.1 dev eth1 table 100'), route('default via 10.2.0.1 dev eth2 table 200')],
  });
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { fwmark: 0x1ff })), 'eth1 100', 'masked bits match');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { fwmark: 0x2 })), 'eth2 200');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { fwmark: 0x3 })), 'eth0 main', 'without a mask every bit counts');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8')), 'eth0 main');
});

test('"not" inverts the selector', () => {
  const ctx = makeContext({
    rules: [rule('10: not from 10.0.0.0/8 lookup 100'), rule('32766: from all lookup main')],
    routes: [route('default via 10.0.0.1 dev eth0'), route('default via 192.0.2.1 dev eth1 table 100')],
  });
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { src: '192.168.1.1' })), 'eth1 100');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8', { src: '10.2.3.4' })), 'eth0 main');
});

test('several tables: a table without a match falls through to the next rule', () => {
  const ctx = makeContext({
    rules: [rule('100: from all lookup 100'), rule('200: from all lookup 200'), rule('32766: from all lookup main')],
    routes: [route('10.5.0.0/16 dev eth5 table 100'), route('10.6.0.0/16 dev eth6 table 200'), route('default via 10.0.0.1 dev eth0')],
  });
  assert.equal(via(lookupRoute(ctx, '10.5.1.1')), 'eth5 100');
  assert.equal(via(lookupRoute(ctx, '10.6.1.1')), 'eth6 200');
  assert.equal(via(lookupRoute(ctx, '10.7.1.1')), 'eth0 main');
});

test('a throw route continues with the next rule even when a shorter prefix would match', () => {
  const ctx = makeContext({
    rules: [rule('100: from all lookup 100'), rule('32766: from all lookup main')],
    routes: [route('default via 10.1.0.1 dev eth1 table 100'), route('throw 10.9.0.0/16 table 100'), route('10.9.0.0/16 dev eth9')],
  });
  assert.equal(via(lookupRoute(ctx, '10.9.0.1')), 'eth9 main');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8')), 'eth1 100');
});

test('blackhole, unreachable and prohibit routes and rule actions end the lookup', () => {
  const ctx = makeContext({
    rules: [rule('5: from 10.66.0.0/16 prohibit'), rule('10: from all lookup 100'), rule('32766: from all lookup main')],
    routes: [route('blackhole 10.9.0.0/16 table 100'), route('unreachable 10.8.0.0/16 table 100'), route('default via 10.0.0.1 dev eth0')],
  });
  assert.match(via(lookupRoute(ctx, '10.9.0.1')), /unreachable: blackhole route 10\.9\.0\.0\/16 in table 100/);
  assert.match(via(lookupRoute(ctx, '10.8.0.1')), /unreachable: unreachable route/);
  assert.match(via(lookupRoute(ctx, '8.8.8.8', { src: '10.66.0.1' })), /policy rule 5: prohibit/);
  assert.equal(via(lookupRoute(ctx, '8.8.8.8')), 'eth0 main');
});

test('without rules the kernel defaults apply: local, main, then the "default" table', () => {
  const ctx = makeContext({
    routes: [route('10.0.0.0/24 dev eth0'), route('default via 10.3.0.1 dev eth3 table default')],
  });
  assert.equal(via(lookupRoute(ctx, '10.0.0.9')), 'eth0 main');
  assert.equal(via(lookupRoute(ctx, '8.8.8.8')), 'eth3 default');
});

test('a socket bound to a device only takes routes through it', () => {
  const ctx = makeContext({ routes: [route('10.0.0.0/16 dev eth0'), route('10.0.0.0/8 dev eth1')] });
  assert.equal(via(lookupRoute(ctx, '10.0.1.1')), 'eth0 main');
  assert.equal(via(lookupRoute(ctx, '10.0.1.1', { oif: 'eth1' })), 'eth1 main');
});

test('IPv6: longest prefix, metric, default rules without the "default" table', () => {
  const ctx = makeContext({
    routes: [
      route('default via fe80::1 dev eth0 metric 1024'),
      route('2001:db8::/32 dev eth0 metric 256'),
      route('2001:db8:1::/48 dev docker0 metric 256'),
      route('2001:db8:2::/48 dev eth0 metric 256'),
      route('2001:db8:2::/48 dev eth2 metric 100'),
      route('default via 2001:db8:ffff::1 dev eth9 table default'),
      route('local 2001:db8::5 dev eth0 table local'),
    ],
    rules: [rule('0: from all lookup local'), rule('32766: from all lookup main')].map((r) => ({ ...r, family: 6 as const })),
  });
  assert.equal(via(lookupRoute(ctx, '2001:db8:1::7')), 'docker0 main');
  assert.equal(via(lookupRoute(ctx, '2001:db8:2::7')), 'eth2 main');
  assert.equal(via(lookupRoute(ctx, '2001:db8:3::7')), 'eth0 main');
  assert.equal(via(lookupRoute(ctx, '2001:4860::8888')), 'eth0 main');
  const local = lookupRoute(ctx, '2001:db8::5');
  assert.ok('route' in local && local.route.type === 'local');
  // IPv4 rules do not apply to IPv6 lookups, and IPv6 has no "default" table rule.
  const noRules = makeContext({ routes: [route('default via 2001:db8:ffff::1 dev eth9 table default')], rules: [rule('0: from all lookup 100')] });
  assert.match(via(lookupRoute(noRules, '2001:4860::8888')), /^unreachable: no route/);
});

test('IPv6 policy rule from a source prefix', () => {
  const ctx = makeContext({
    rules: [
      { ...rule('100: from 2001:db8:aa::/48 lookup 100', 6) },
      { ...rule('32766: from all lookup main', 6) },
    ],
    routes: [route('default via fe80::1 dev eth0'), route('default via fe80::2 dev eth1 table 100')],
  });
  assert.equal(via(lookupRoute(ctx, '2001:4860::8888', { src: '2001:db8:aa::5' })), 'eth1 100');
  assert.equal(via(lookupRoute(ctx, '2001:4860::8888', { src: '2001:db8:bb::5' })), 'eth0 main');
});

test('prefix helpers: containment at /0 and /32, more-specific, both families', () => {
  assert.ok(cidrContains('0.0.0.0/0', '203.0.113.1'));
  assert.ok(cidrContains('10.1.2.3/32', '10.1.2.3'));
  assert.ok(!cidrContains('10.1.2.3/32', '10.1.2.4'));
  assert.ok(!cidrContains('10.0.0.0/8', '::ffff:10.0.0.1'), 'families never mix');
  assert.ok(cidrContains('2001:db8::/32', '2001:db8:ffff::1'));
  assert.ok(isMoreSpecific('172.17.0.0/16', '172.16.0.0/12'));
  assert.ok(!isMoreSpecific('172.16.0.0/12', '172.16.0.0/12'));
  assert.ok(!isMoreSpecific('172.32.0.0/16', '172.16.0.0/12'));
  assert.ok(isMoreSpecific('2001:db8:1::/48', '2001:db8::/32'));
});
