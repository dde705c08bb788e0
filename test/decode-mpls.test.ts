import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 00:30:96:05:28:38 > 00:30:96:e6:fc:39, ethertype MPLS unicast (0x8847), length 62: MPLS (label 29, tc 6, [S], ttl 255)
//   (tos 0xc0, ttl 255, id 0, offset 0, flags [none], proto TCP (6), length 44)
//   10.1.2.1.11001 > 10.34.0.1.23: Flags [S], seq 2553417723, win 4128, options [mss 536], length 0
//   (zeek/mixed-vlan-mpls.pcap)
const MPLS_SYN = hex(`
  0030 96e6 fc39 0030 9605 2838 8847 0001
  ddff 45c0 002c 0000 0000 ff06 a4e7 0a01
  0201 0a22 0001 2af9 0017 9832 0ffb 0000
  0000 6002 1020 a240 0000 0204 0218`);

test('one MPLS label, then IPv4 by the version nibble', () => {
  const pkt = decode(1, MPLS_SYN);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.etherType, 0x8847);
  assert.equal(formatAddress(pkt.src, 4), '10.1.2.1');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
  assert.equal(pkt.dstPort, 23);
});

test('a label stack is walked to the bottom of stack', () => {
  // label 16 (not bottom), label 29 [S]
  const stacked = Buffer.concat([MPLS_SYN.subarray(0, 14), hex('0001 00ff'), MPLS_SYN.subarray(14)]);
  const pkt = decode(1, stacked);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.ipOffset, 22);
  assert.equal(pkt.srcPort, 11001);
});

test('a pseudowire payload is unsupported; cut labels are truncated', () => {
  const pw = Buffer.concat([MPLS_SYN.subarray(0, 18), hex('0000 0000'), MPLS_SYN.subarray(0, 14)]);
  assert.equal(decode(1, pw).problem, Problem.UNSUPPORTED_MPLS_PAYLOAD);
  assertProblemAtEveryCut(1, MPLS_SYN, 14, 18, () => Problem.TRUNCATED_MPLS);
  assert.equal(decode(1, MPLS_SYN, 18).problem, Problem.TRUNCATED_IP);
});
