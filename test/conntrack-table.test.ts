import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { conntrackHolders, holdersOfListing, parseConntrackStats, readConntrackTable } from '../src/evidence/conntrack-table';
import { readKernelCounters } from '../src/evidence/kernel-counters';
import { tempDir } from './temp-dir';

// /proc/net/stat/nf_conntrack of a two-CPU kernel 6.18: the table-full drops are in "drop".
const STATS = [
  'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart',
  '00040000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00040000 00000001 00000003 0000000a 00000000  00000000 00000000 00000000 00000000',
  '00040000  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000011 00000000 00000000  00000000 00000000 00000000 00000000',
  '',
].join('\n');

test('the conntrack statistics are summed over the CPUs, read as hex', () => {
  assert.deepEqual(parseConntrackStats(STATS), { 'Conntrack.Drop': 0x3 + 0x11, 'Conntrack.EarlyDrop': 0xa, 'Conntrack.InsertFailed': 1 });
  assert.deepEqual(parseConntrackStats(''), {});
});

test('the namespace counters include the conntrack drops when nf_conntrack is loaded, and nothing of it when not', () => {
  const files: Record<string, string> = { '/proc/net/snmp': 'Tcp: OutRsts\nTcp: 7\n', '/proc/net/stat/nf_conntrack': STATS };
  assert.deepEqual(readKernelCounters((p) => files[p] ?? null), { 'Tcp.OutRsts': 7, 'Conntrack.Drop': 20, 'Conntrack.EarlyDrop': 10, 'Conntrack.InsertFailed': 1 });
  delete files['/proc/net/stat/nf_conntrack'];
  assert.deepEqual(readKernelCounters((p) => files[p] ?? null), { 'Tcp.OutRsts': 7 });
});

const LISTING = [
  'ipv4     2 tcp      6 431999 ESTABLISHED src=172.17.0.2 dst=192.0.2.30 sport=1024 dport=5432 src=192.0.2.30 dst=172.17.0.2 sport=5432 dport=1024 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 431998 ESTABLISHED src=172.17.0.2 dst=192.0.2.31 sport=1025 dport=5432 src=192.0.2.31 dst=172.17.0.2 sport=5432 dport=1025 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 431997 ESTABLISHED src=172.17.0.2 dst=192.0.2.30 sport=1026 dport=5432 src=192.0.2.30 dst=172.17.0.2 sport=5432 dport=1026 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 tcp      6 117 TIME_WAIT src=192.0.2.10 dst=192.0.2.1 sport=40000 dport=8080 src=172.17.0.2 dst=192.0.2.10 sport=80 dport=40000 [ASSURED] mark=0 zone=0 use=2',
  'ipv4     2 udp      17 29 src=172.17.0.3 dst=192.0.2.53 sport=5000 dport=53 [UNREPLIED] src=192.0.2.53 dst=192.0.2.1 sport=53 dport=5000 mark=0 zone=0 use=2',
  'ipv6     10 tcp      6 431999 ESTABLISHED src=fd00::2 dst=fd00::30 sport=1024 dport=5432 src=fd00::30 dst=fd00::2 sport=5432 dport=1024 [ASSURED] mark=0 zone=0 use=2',
  'a line no kernel writes',
  '',
].join('\n');

test("the table's holders are grouped by protocol, state and destination port, largest first, with their sources", () => {
  const holders = conntrackHolders(LISTING);
  // Four ESTABLISHED TCP entries to port 5432: three from 172.17.0.2, one from fd00::2.
  assert.deepEqual(holders[0], { protocol: 'tcp', state: 'ESTABLISHED', destinationPort: 5432, entries: 4, sources: 2, topSource: '172.17.0.2', topSourceEntries: 3 });
  assert.equal(holders.length, 3);
  assert.deepEqual(
    holders.slice(1).map((h) => [h.protocol, h.state, h.destinationPort, h.entries, h.topSource]).sort(),
    [['tcp', 'TIME_WAIT', 8080, 1, '192.0.2.10'], ['udp', '', 53, 1, '172.17.0.3']].sort(),
  );
});

test('the listing is read only when the table is at least 90% full', () => {
  let listed = 0;
  const reader = (count: number) => (p: string) => {
    if (p === '/proc/sys/net/netfilter/nf_conntrack_count') return `${count}\n`;
    if (p === '/proc/sys/net/netfilter/nf_conntrack_max') return '10\n';
    return null;
  };
  const listing = (p: string) => {
    assert.equal(p, '/proc/net/nf_conntrack');
    listed++;
    return conntrackHolders(LISTING);
  };
  assert.deepEqual(readConntrackTable(reader(8), listing), { count: 8, max: 10 });
  assert.equal(listed, 0);
  const full = readConntrackTable(reader(9), listing);
  assert.equal(listed, 1);
  assert.equal(full?.holders?.[0]?.entries, 4);
  assert.equal(readConntrackTable(() => null, listing), null, 'no nf_conntrack: no table');
  assert.deepEqual(readConntrackTable(reader(10), () => null), { count: 10, max: 10 }, 'a listing that cannot be read leaves the holders out');
});

test('a listing file is grouped piece by piece as it is read, lines cut between pieces included, as the whole text would be', () => {
  // About 4 MB: four 1 MiB pieces, each ending in the middle of a line.
  const lines: string[] = [];
  for (let n = 0; n < 30000; n++) {
    lines.push(`ipv4     2 tcp      6 ${431999 - (n % 7)} ${n % 3 === 0 ? 'TIME_WAIT' : 'ESTABLISHED'} src=172.17.0.${2 + (n % 5)} dst=192.0.2.${30 + (n % 4)} sport=${1024 + n} dport=${n % 3 === 0 ? 8080 : 5432} src=192.0.2.30 dst=172.17.0.2 sport=5432 dport=${1024 + n} [ASSURED] mark=0 zone=0 use=2`);
  }
  const text = lines.join('\n') + '\n';
  const file = path.join(tempDir('synscope-conntrack-'), 'nf_conntrack');
  fs.writeFileSync(file, text);
  assert.ok(text.length > 3 * (1 << 20));
  const streamed = holdersOfListing(file);
  assert.deepEqual(streamed, conntrackHolders(text));
  assert.deepEqual(streamed?.map((h) => [h.state, h.destinationPort, h.entries, h.sources]), [['ESTABLISHED', 5432, 20000, 5], ['TIME_WAIT', 8080, 10000, 5]]);
  assert.equal(holdersOfListing(path.join(path.dirname(file), 'missing')), null);
});
