import { test } from 'node:test';
import assert from 'node:assert/strict';
import { counterDeltas, DIAGNOSTIC_COUNTERS, readKernelCounters } from '../src/evidence/kernel-counters';

const NETSTAT = [
  'TcpExt: SyncookiesSent ListenOverflows ListenDrops IPReversePathFilter',
  'TcpExt: 0 15 15 2',
  'IpExt: InNoRoutes InTruncatedPkts',
  'IpExt: 0 0',
].join('\n');
const SNMP = [
  'Ip: Forwarding DefaultTTL InReceives InDiscards',
  'Ip: 1 64 1000 0',
  'Tcp: RtoAlgorithm ActiveOpens AttemptFails OutRsts',
  'Tcp: 1 30 3 178',
].join('\n');

test('kernel counters: /proc/net/netstat and /proc/net/snmp through the reader, an unreadable file adds nothing', () => {
  const files: Record<string, string> = { '/proc/net/netstat': NETSTAT, '/proc/net/snmp': SNMP };
  const counters = readKernelCounters((p) => files[p] ?? null);
  assert.equal(counters['TcpExt.ListenOverflows'], 15);
  assert.equal(counters['IpExt.InNoRoutes'], 0);
  assert.equal(counters['Ip.InDiscards'], 0);
  assert.equal(counters['Tcp.OutRsts'], 178);
  assert.deepEqual(readKernelCounters((p) => (p === '/proc/net/snmp' ? SNMP : null))['Tcp.AttemptFails'], 3);
  assert.deepEqual(readKernelCounters(() => null), {});
});

test('kernel counters: this process reads its own namespace, with the counters the rules need', () => {
  const counters = readKernelCounters();
  for (const name of ['TcpExt.ListenOverflows', 'TcpExt.ListenDrops', 'TcpExt.IPReversePathFilter', 'Tcp.OutRsts', 'Ip.InDiscards']) {
    assert.equal(typeof counters[name], 'number', name);
  }
});

test('kernel counters: deltas keep only what changed; a counter in one reading only is left out', () => {
  const before = { 'TcpExt.ListenOverflows': 15, 'TcpExt.ListenDrops': 15, 'Tcp.OutRsts': 178, 'TcpExt.Gone': 1 };
  const after = { 'TcpExt.ListenOverflows': 40, 'TcpExt.ListenDrops': 41, 'Tcp.OutRsts': 178, 'TcpExt.New': 5 };
  assert.deepEqual(counterDeltas('kt-b', before, after, 10.5), {
    namespace: 'kt-b',
    seconds: 10.5,
    deltas: { 'TcpExt.ListenOverflows': 25, 'TcpExt.ListenDrops': 26 },
  });
  assert.deepEqual(counterDeltas('host', after, after, 1).deltas, {});
});

test('kernel counters: every diagnostic counter is a "Prefix.Name" of netstat or snmp, or one of nf_conntrack\'s statistics', () => {
  for (const name of DIAGNOSTIC_COUNTERS) assert.match(name, /^(TcpExt|IpExt|Ip|Tcp|Conntrack)\.[A-Za-z0-9]+$/);
});
