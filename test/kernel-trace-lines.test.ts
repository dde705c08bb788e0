import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DropEvent, SynAckRetransmitEvent } from '../src/evidence/kernel-evidence';
import { parseTraceLine, TraceEventCollector } from '../src/evidence/trace-lines';

/** Trace files recorded on Linux 6.18 (see test/fixtures/trace/README.md). */
const FIXTURES = path.resolve(__dirname, '../../test/fixtures/trace');
/** Unix seconds at trace-clock zero, as a session would have measured it. */
const OFFSET = 1_700_000_000;

function collect(file: string, limit = 1000): TraceEventCollector {
  const collector = new TraceEventCollector(OFFSET, limit);
  for (const line of fs.readFileSync(path.join(FIXTURES, file), 'utf8').split('\n')) collector.add(line);
  return collector;
}

function reasons(c: TraceEventCollector): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of c.events) if (e.kind === 'drop') out[e.reason] = (out[e.reason] ?? 0) + 1;
  return out;
}

test('trace lines: IPv4 drops by reason and the SYN-ACK retransmission, NOT_SPECIFIED left out', () => {
  const c = collect('ipv4-drops-and-synack.txt');
  assert.deepEqual(reasons(c), { NO_SOCKET: 3, NETFILTER_DROP: 4, IP_RPFILTER: 2, TCP_INVALID_SYN: 1 });
  assert.equal(c.ignored, 2);
  assert.equal(c.lost, 0);
  assert.equal(c.events.length, 11);
  const first = c.events[0] as DropEvent;
  // node-28607 [000] ..s1. 7482.220528: kfree_skb: ... protocol=2048 location=tcp_v4_rcv+0x91/0x13f0 reason: NO_SOCKET
  assert.deepEqual(first, { kind: 'drop', at: OFFSET + 7482.220528, reason: 'NO_SOCKET', protocol: 0x0800, location: 'tcp_v4_rcv+0x91/0x13f0' });
  const synAck = c.events.find((e): e is SynAckRetransmitEvent => e.kind === 'synack-retransmit');
  assert.deepEqual(synAck, {
    kind: 'synack-retransmit',
    at: OFFSET + 7483.248058,
    serverAddress: '10.201.0.2',
    serverPort: 81,
    clientAddress: '10.201.0.1',
    clientPort: 59572,
  });
  const rpf = c.events.filter((e): e is DropEvent => e.kind === 'drop' && e.reason === 'IP_RPFILTER');
  assert.deepEqual(rpf.map((e) => e.location), ['ip_rcv_finish_core+0x25b/0x470', 'ip_rcv_finish_core+0x25b/0x470']);
});

test('trace lines: IPv6 drops and an AF_INET6 SYN-ACK retransmission take the IPv6 address pair', () => {
  const c = collect('ipv6-drops-and-synack.txt');
  assert.deepEqual(reasons(c), { NO_SOCKET: 1, NETFILTER_DROP: 2, TCP_INVALID_SYN: 1 });
  assert.equal(c.ignored, 1);
  assert.ok(c.events.every((e) => e.kind !== 'drop' || e.protocol === 0x86dd));
  const synAck = c.events.find((e): e is SynAckRetransmitEvent => e.kind === 'synack-retransmit');
  assert.deepEqual(synAck, {
    kind: 'synack-retransmit',
    at: OFFSET + 7507.280044,
    serverAddress: 'fd00:201::2',
    serverPort: 81,
    clientAddress: 'fd00:201::1',
    clientPort: 52812,
  });
});

test('trace lines: the collector keeps the first events up to its limit and counts the rest', () => {
  const c = collect('ipv4-drops-and-synack.txt', 4);
  assert.equal(c.events.length, 4);
  assert.equal(c.notKept, 7);
  assert.deepEqual(c.events.map((e) => (e as DropEvent).reason), ['NO_SOCKET', 'NO_SOCKET', 'NO_SOCKET', 'NETFILTER_DROP']);
});

test('trace lines: other line shapes', () => {
  const drop = (line: string) => parseTraceLine(line, 0);
  // No irq-flags column (options/irq-info off) and a task name with dashes and a space.
  assert.deepEqual(drop('   kworker/u8:2-my task-77 [003] 12.500000: kfree_skb: skbaddr=0000 rx_sk=0000 protocol=2048 location=nf_hook_slow+0x9f/0x100 reason: NETFILTER_DROP'), {
    kind: 'event',
    event: { kind: 'drop', at: 12.5, reason: 'NETFILTER_DROP', protocol: 2048, location: 'nf_hook_slow+0x9f/0x100' },
  });
  // The record-tgid column.
  assert.equal(drop('  sshd-1234  (   1200) [000] d..1. 5.000001: kfree_skb: skbaddr=00 protocol=34525 location=ip6_pkt_drop+0x1/0x2 reason: IP_INNOROUTES').kind, 'event');
  // Kernels that print the location as a pointer: no function name.
  const hashed = drop('  <idle>-0 [000] ..s1. 1.0: kfree_skb: skbaddr=00 rx_sk=00 protocol=2048 location=0xffffffff81a2b3c4 reason: TCP_LISTEN_OVERFLOW');
  assert.equal(hashed.kind === 'event' && hashed.event.kind === 'drop' && hashed.event.location, null);
  // Before Linux 5.17 kfree_skb has no reason: every free looks alike.
  assert.deepEqual(drop('  <idle>-0 [000] ..s1. 1.0: kfree_skb: skbaddr=ffff888003 protocol=2048 location=ffffffff81a2b3c4'), { kind: 'ignored' });
  // ARP is not IP.
  assert.deepEqual(drop('  <idle>-0 [000] ..s1. 1.0: kfree_skb: skbaddr=00 rx_sk=00 protocol=2054 location=arp_rcv+0x1/0x2 reason: OTHERHOST'), { kind: 'ignored' });
  // tcp_retransmit_synack before Linux 5.x printed no family: a v4-mapped pair means IPv4.
  assert.deepEqual(drop('  <idle>-0 [001] ..s1. 2.0: tcp_retransmit_synack: skaddr=00 req=00 sport=443 dport=50000 saddr=192.0.2.1 daddr=198.51.100.7 saddrv6=::ffff:192.0.2.1 daddrv6=::ffff:198.51.100.7'), {
    kind: 'event',
    event: { kind: 'synack-retransmit', at: 2, serverAddress: '192.0.2.1', serverPort: 443, clientAddress: '198.51.100.7', clientPort: 50000 },
  });
  assert.deepEqual(drop('CPU:1 [LOST 42 EVENTS]'), { kind: 'lost', events: 42 });
  assert.deepEqual(drop('# entries-in-buffer/entries-written: 13/13   #P:2'), { kind: 'other' });
  assert.deepEqual(drop('  bash-1 [000] ..... 3.0: sched_switch: prev_comm=bash'), { kind: 'other' });
  assert.deepEqual(drop(''), { kind: 'other' });
});
