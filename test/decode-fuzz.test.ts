import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame } from '../src/decode/dispatch';
import { SUPPORTED_LINK_TYPES } from '../src/decode/link-types';
import { DecodedPacket, Transport } from '../src/decode/packet';
import { Problem, allProblems } from '../src/decode/problems';
import { parseTcpOptions } from '../src/decode/tcp-options';
import { corpus, readPcapFrames } from './decode-helpers';
import { ETHERNET_SYN, ICMP4_UNREACH, ICMP6_UNREACH, VXLAN_SYN } from './decode-fixtures';

const PROBLEM_CODES = new Set<number>([0, ...allProblems().map((p) => p.code)]);

/** Real frames per link type to mutate. */
function seeds(): Map<number, Buffer[]> {
  const byType = new Map<number, Buffer[]>();
  const add = (linkType: number, data: Buffer): void => {
    const list = byType.get(linkType) ?? [];
    list.push(data);
    byType.set(linkType, list);
  };
  const files = [
    'zeek/http__connect-with-header.pcap', // 0, AF 30
    'zeek/tls__pop3-starttls.pcap', // 0, AF 2
    'zeek/pppoe-over-qinq.pcap', // 1
    'zeek/mixed-vlan-mpls.pcap', // 1
    'tcpdump/802.1ad_QinQ.pcap', // 1, ARP
    'tcpdump/ipv6-routing-header.pcap', // 1
    'zeek/ftp__ipv6.pcap', // 1
    'zeek/rotation.pcap', // 101
    'tcpdump/LINKTYPE_RAW_ipv6.pcap', // 101
    'zeek/tls__irc-starttls.pcap', // 113
    'tcpdump/LINKTYPE_IPV4.pcap', // 228
    'tcpdump/LINKTYPE_IPV6.pcap', // 229
    'zeek/tls__openjdk-25.0.2-zeek.org.pcap', // 276
    'zeek/linux_dlt_sll2.pcap', // 276
  ];
  for (const file of files) {
    for (const frame of readPcapFrames(corpus(file)).slice(0, 8)) add(frame.linkType, frame.data);
  }
  for (const frame of [ETHERNET_SYN, ICMP4_UNREACH, ICMP6_UNREACH, VXLAN_SYN]) add(1, frame);
  // LOOP (108) has no corpus file: the NULL frames with the family in network order.
  for (const data of byType.get(0) ?? []) {
    const loop = Buffer.from(data);
    loop.writeUInt32BE(data.readUInt32LE(0) === 2 ? 2 : 24, 0);
    add(108, loop);
  }
  return byType;
}

/** Decodes and checks the invariants every packet must keep, whatever its bytes. */
function decodeChecked(linkType: number, buf: Buffer, start: number, end: number, pkt: DecodedPacket): void {
  decodeFrame(linkType, buf, start, end, pkt);
  const hi = Math.min(end, buf.length);
  const lo = Math.max(0, start);
  assert.ok(PROBLEM_CODES.has(pkt.problem), `problem code ${pkt.problem}`);
  assert.ok(pkt.end <= hi && pkt.end >= lo, `end ${pkt.end} in [${lo}, ${hi}]`);
  assert.ok(pkt.cursor >= lo && pkt.cursor <= pkt.end, `cursor ${pkt.cursor} in [${lo}, ${pkt.end}]`);
  if (pkt.transport === Transport.TCP && pkt.problem === 0) {
    assert.ok(pkt.tcpOptionsOffset + pkt.tcpOptionsLength <= pkt.end);
    parseTcpOptions(buf, pkt.tcpOptionsOffset, pkt.tcpOptionsLength);
  }
  if (pkt.quotedOffset !== -1) assert.ok(pkt.quotedOffset < pkt.end);
  if (pkt.arpSenderMacOffset !== -1) assert.ok(pkt.arpSenderMacOffset + 6 <= pkt.end);
}

const linkTypes = fc.constantFrom(...SUPPORTED_LINK_TYPES, 160, 9999);

test('random bytes never throw and keep cursor/end in bounds', () => {
  const pkt = new DecodedPacket();
  fc.assert(
    fc.property(linkTypes, fc.uint8Array({ maxLength: 200 }), fc.nat(8), (linkType, bytes, pad) => {
      // decode a window inside a larger buffer, so reading past `end` would be visible
      const buf = Buffer.concat([Buffer.alloc(pad, 0x45), Buffer.from(bytes), Buffer.alloc(pad, 0x60)]);
      decodeChecked(linkType, buf, pad, pad + bytes.length, pkt);
    }),
    { numRuns: Number(process.env.DECODE_FUZZ_RUNS ?? 20000) },
  );
});

test('mutated real frames of every supported link type never throw', () => {
  const byType = seeds();
  for (const linkType of SUPPORTED_LINK_TYPES) assert.ok(byType.has(linkType), `seed for ${linkType}`);
  const pkt = new DecodedPacket();
  const seedArb = fc.constantFrom(...[...byType].flatMap(([lt, frames]) => frames.map((f) => [lt, f] as const)));
  const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });
  fc.assert(
    fc.property(seedArb, fc.array(mutation, { maxLength: 6 }), fc.nat(), ([linkType, frame], edits, cutSeed) => {
      const buf = Buffer.from(frame);
      for (const { at, value } of edits) buf[at % buf.length] = value;
      const cut = cutSeed % (buf.length + 1);
      decodeChecked(linkType, buf, 0, cut, pkt);
      decodeChecked(linkType, buf.subarray(0, cut), 0, cut, pkt);
    }),
    { numRuns: Number(process.env.DECODE_FUZZ_RUNS ?? 20000) },
  );
});

test('hostile nesting stops early: 10000 VLAN tags', () => {
  const tags = Buffer.alloc(4 * 10000);
  for (let i = 0; i < 10000; i++) tags.writeUInt32BE(0x00018100, 4 * i);
  const frame = Buffer.concat([Buffer.from('ffffffffffff0200000000018100', 'hex'), tags]);
  const pkt = new DecodedPacket();
  decodeChecked(1, frame, 0, frame.length, pkt);
  assert.equal(pkt.problem, Problem.TOO_MANY_LAYERS);
});
