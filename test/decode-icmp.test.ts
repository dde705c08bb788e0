import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, corpus, decode, hex, readPcapFrames } from './decode-helpers';
import { ETHERNET_SYN, ICMP4_UNREACH, ICMP6_UNREACH } from './decode-fixtures';

test('ICMPv4 unreachable quoting a TCP SYN', () => {
  const pkt = decode(1, ICMP4_UNREACH);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.ICMP);
  assert.equal(pkt.icmpType, 3);
  assert.equal(pkt.icmpCode, 13);
  assert.equal(formatAddress(pkt.src, 4), '10.9.9.9');
  assert.equal(pkt.icmpQuotesTcp, true);
  assert.equal(pkt.quotedIpVersion, 4);
  assert.equal(pkt.quotedOffset, 42);
  assert.equal(pkt.quotedIpProto, 6);
  assert.equal(formatAddress(pkt.quotedSrc, 4), '141.142.228.5');
  assert.equal(formatAddress(pkt.quotedDst, 4), '192.150.187.43');
  assert.equal(pkt.quotedSrcPort, 59856);
  assert.equal(pkt.quotedDstPort, 80);
  assert.equal(pkt.quotedSeq, 4263588410);
});

test('ICMPv6 destination unreachable quoting a TCP SYN', () => {
  const pkt = decode(1, ICMP6_UNREACH);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.ICMP);
  assert.equal(pkt.icmpType, 1);
  assert.equal(pkt.icmpCode, 1);
  assert.equal(pkt.icmpQuotesTcp, true);
  assert.equal(pkt.quotedIpVersion, 6);
  assert.equal(formatAddress(pkt.quotedDst, 6), '2001:db8::2');
  assert.equal(pkt.quotedSrcPort, 52522);
  assert.equal(pkt.quotedSeq, 1321751229);
});

test('ICMPv6 error quoting an IPv6 packet with a fragment header', () => {
  // the same error, with the quoted SYN behind a first-fragment header (next-header 44)
  const q = 62;
  const frag = hex('0600 0001 dead beef');
  const frame = Buffer.concat([ICMP6_UNREACH.subarray(0, q + 40), frag, ICMP6_UNREACH.subarray(q + 40)]);
  frame[q + 6] = 44;
  const pkt = decode(1, frame);
  assert.equal(pkt.icmpQuotesTcp, true);
  assert.equal(pkt.quotedDstPort, 80);
});

test('informational messages carry no quote', () => {
  // ICMP echo request / reply on lo (zeek/linux_dlt_sll2.pcap)
  const frames = readPcapFrames(corpus('zeek/linux_dlt_sll2.pcap'));
  const echo = decode(frames[0]!.linkType, frames[0]!.data);
  assert.equal(echo.transport, Transport.ICMP);
  assert.equal(echo.icmpType, 8);
  assert.equal(echo.icmpQuotesTcp, false);
  assert.equal(echo.quotedOffset, -1);
  const echo6 = decode(frames[2]!.linkType, frames[2]!.data);
  assert.equal(echo6.icmpType, 128);
});

test('a cut ICMP header or quote is reported, the ICMP type kept', () => {
  assertProblemAtEveryCut(1, ICMP4_UNREACH, 34, 42, () => Problem.TRUNCATED_ICMP);
  assertProblemAtEveryCut(1, ICMP4_UNREACH, 42, ICMP4_UNREACH.length, () => Problem.TRUNCATED_ICMP_QUOTE);
  assertProblemAtEveryCut(1, ICMP6_UNREACH, 62, 110, () => Problem.TRUNCATED_ICMP_QUOTE);
  const pkt = decode(1, ICMP4_UNREACH, 50);
  assert.equal(pkt.icmpType, 3);
  assert.equal(pkt.icmpQuotesTcp, false);
});

test('a reused packet forgets the ICMP quote and ARP fields of the previous packet', () => {
  const pkt = new DecodedPacket();
  decodeFrame(1, ICMP4_UNREACH, 0, ICMP4_UNREACH.length, pkt);
  assert.equal(pkt.icmpQuotesTcp, true);
  decodeFrame(1, ETHERNET_SYN, 0, ETHERNET_SYN.length, pkt);
  assert.equal(pkt.icmpType, -1);
  assert.equal(pkt.icmpQuotesTcp, false);
  assert.equal(pkt.quotedOffset, -1);
  assert.equal(pkt.quotedSeq, 0);
  const [arp] = readPcapFrames(corpus('tcpdump/802.1ad_QinQ.pcap'));
  decodeFrame(1, arp!.data, 0, arp!.data.length, pkt);
  assert.equal(pkt.arpOp, 1);
  decodeFrame(1, ETHERNET_SYN, 0, ETHERNET_SYN.length, pkt);
  assert.equal(pkt.arpOp, 0);
  assert.equal(pkt.arpSenderMacOffset, -1);
  assert.equal(pkt.arpSenderIp, 0);
});

test('a quote cut after the TCP ports (tcpdump -s 68) still ties the error to the flow by its ports; the sequence number is marked cut', () => {
  // ICMP4_UNREACH quotes its TCP header at 42 + 20 = 62: keep the ports (4 bytes), not the sequence number.
  for (const cut of [66, 67, 68, 69]) {
    const pkt = decode(1, ICMP4_UNREACH.subarray(0, cut));
    assert.equal(pkt.problem, Problem.TRUNCATED_ICMP_QUOTE, `cut at ${cut}`);
    assert.deepEqual([pkt.icmpQuotesTcp, pkt.quotedSeqCut, pkt.quotedSrcPort, pkt.quotedDstPort, pkt.quotedSeq], [true, true, 59856, 80, 0]);
  }
  const whole = decode(1, ICMP4_UNREACH);
  assert.equal(whole.quotedSeqCut, false);
  const ports = decode(1, ICMP4_UNREACH.subarray(0, 65));
  assert.deepEqual([ports.icmpQuotesTcp, ports.problem], [false, Problem.TRUNCATED_ICMP_QUOTE]);
});
