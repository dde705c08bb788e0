import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, corpus, decode, hex, readPcapFrames } from './decode-helpers';

// 00:12:3f:ae:22:f7 > 00:13:c4:c7:84:f0, ethertype IPv6 (0x86dd), length 86: (hlim 4, next-header Routing (43) payload length: 32)
//   2200::244:212:3fff:feae:22f7 > 2200::240:2:0:0:4: RT6 (len=2, type=0 [Deprecated], segleft=1, rsv=0x0,
//   [0]2200::210:2:0:0:4) 5645 > 5642: [udp sum ok] UDP, length 0   (tcpdump/ipv6-routing-header.pcap, packet 3)
const ROUTING_UDP = hex(`
  0013 c4c7 84f0 0012 3fae 22f7 86dd 6000
  0000 0020 2b04 2200 0000 0000 0244 0212
  3fff feae 22f7 2200 0000 0000 0240 0002
  0000 0000 0004 1102 0001 0000 0000 2200
  0000 0000 0210 0002 0000 0000 0004 160d
  160a 0008 27b6`);

// (hlim 64, next-header Fragment (44) payload length: 52) 2001:db8::1 > 2001:db8::2: frag (0xdeadbeef:0|44)
//   52522 > 80: Flags [S], seq 1321751229, win 65535, options [mss 16324,...], length 0   (built)
const FIRST_FRAGMENT = hex(`
  0200 0000 0002 0200 0000 0001 86dd 6000
  0000 0034 2c40 2001 0db8 0000 0000 0000
  0000 0000 0001 2001 0db8 0000 0000 0000
  0000 0000 0002 0600 0001 dead beef cd2a
  0050 4ec8 52bd 0000 0000 b002 ffff 0034
  0000 0204 3fc4 0103 0305 0101 080a 49b8
  8685 0000 0000 0402 0000`);

// (hlim 64, next-header Fragment (44) payload length: 24) 2001:db8::1 > 2001:db8::2: frag (0xdeadbeef:64|16)   (built)
const LATER_FRAGMENT = hex(`
  0200 0000 0002 0200 0000 0001 86dd 6000
  0000 0018 2c40 2001 0db8 0000 0000 0000
  0000 0000 0001 2001 0db8 0000 0000 0000
  0000 0000 0002 0600 0040 dead beef 0000
  0000 0000 0000 0000 0000 0000 0000`);

test('IPv6 header and a routing header before UDP', () => {
  const pkt = decode(1, ROUTING_UDP);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.ipVersion, 6);
  assert.equal(pkt.ttl, 4);
  assert.equal(formatAddress(pkt.src, 6), '2200::244:212:3fff:feae:22f7');
  assert.equal(formatAddress(pkt.dst, 6), '2200::240:2:0:0:4');
  assert.equal(pkt.ipProto, 17);
  assert.equal(pkt.ipPayloadLength, 8, 'after the 24-byte routing header');
  assert.equal(pkt.transport, Transport.UDP);
  assert.equal(pkt.dstPort, 5642);
});

test('fragment header: the first fragment is decoded, a later one skipped', () => {
  const first = decode(1, FIRST_FRAGMENT);
  assert.equal(first.problem, 0);
  assert.equal(first.ipId, 0xdeadbeef);
  assert.equal(first.transport, Transport.TCP);
  assert.equal(first.srcPort, 52522);
  assert.equal(first.payloadLength, 0);
  const later = decode(1, LATER_FRAGMENT);
  assert.equal(later.problem, Problem.IPV6_FRAGMENT);
  assert.equal(later.fragment, true);
  assert.equal(later.ipProto, 6);
  assert.equal(later.transport, Transport.NONE);
});

test('BIG TCP: payload length 0 with a hop-by-hop jumbo option', () => {
  // IP6 (flowlabel 0xa31ee, hlim 64, next-header Options (0) payload length: 0) 2604:1380:4091:ce00::d >
  //   2604:1380:4091:ce00::b: HBH (jumbo: 80040) 41851 > 43913: Flags [P.], ... length 80000   (tcpdump/bigtcp-ipv6-hbh.pcap)
  const [frame] = readPcapFrames(corpus('tcpdump/bigtcp-ipv6-hbh.pcap'));
  const pkt = decode(1, frame!.data);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.ipPayloadLength, 80040 - 8);
  assert.equal(pkt.srcPort, 41851);
  assert.equal(pkt.payloadLength, 80000);
  // a jumbo option of 65535 or less is invalid (RFC 2675 section 2)
  const small = Buffer.from(frame!.data.subarray(0, 200));
  small.writeUInt32BE(1000, 14 + 40 + 4);
  assert.equal(decode(1, small).problem, Problem.BAD_IPV6_JUMBO);
});

test('payload length 0 without a jumbo option is presumed from the capture', () => {
  const zero = Buffer.from(FIRST_FRAGMENT);
  zero.writeUInt16BE(0, 18);
  const pkt = decode(1, zero);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.ipPayloadLength, 44);
});

test('an extension header longer than the payload is invalid', () => {
  const short = Buffer.from(ROUTING_UDP);
  short.writeUInt16BE(16, 18);
  assert.equal(decode(1, short).problem, Problem.BAD_IPV6_PAYLOAD_LENGTH);
});

test('cut headers: truncated-ipv6, then truncated-ipv6-extension', () => {
  assertProblemAtEveryCut(1, ROUTING_UDP, 14, 54, () => Problem.TRUNCATED_IPV6);
  assertProblemAtEveryCut(1, ROUTING_UDP, 54, 78, () => Problem.TRUNCATED_IPV6_EXTENSION);
  assertProblemAtEveryCut(1, FIRST_FRAGMENT, 54, 62, () => Problem.TRUNCATED_IPV6_EXTENSION);
  // tcpdump/ip6_frag_asan.pcap: a fragment header cut by a 60-byte snaplen ([|frag6])
  const [asan] = readPcapFrames(corpus('tcpdump/ip6_frag_asan.pcap'));
  assert.equal(decode(1, asan!.data).problem, Problem.TRUNCATED_IPV6_EXTENSION);
});

test('ESP and no-next-header end as OTHER_IP', () => {
  for (const next of [50, 59]) {
    const frame = Buffer.from(ROUTING_UDP);
    frame[54] = next;
    const pkt = decode(1, frame);
    assert.equal(pkt.problem, 0);
    assert.equal(pkt.transport, Transport.OTHER_IP);
    assert.equal(pkt.ipProto, next);
  }
});
