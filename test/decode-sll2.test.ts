import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 08:52:08.835142 ifb0  Out ifindex 2 fa:37:dc:8d:af:ab ethertype IPv4 (0x0800), length 80: (... length 60)
//   192.168.64.6.55058 > 192.0.78.150.443: Flags [S], seq 974184494, win 64240,
//   options [mss 1460,sackOK,TS val 2621143545 ecr 0,nop,wscale 7], length 0   (zeek/tls__openjdk-25.0.2-zeek.org.pcap)
const SLL2_SYN = hex(`
  0800 0000 0000 0002 0001 0406 fa37 dc8d
  afab 0000 4500 003c 7ba7 4000 4006 afcf
  c0a8 4006 c000 4e96 d712 01bb 3a10 e02e
  0000 0000 a002 faf0 3488 0000 0204 05b4
  0402 080a 9c3b 79f9 0000 0000 0103 0307`);

test('Linux cooked v2 keeps the interface index', () => {
  const pkt = decode(276, SLL2_SYN);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.sllIfIndex, 2);
  assert.equal(pkt.sllPacketType, 4);
  assert.equal(SLL2_SYN.subarray(pkt.sllMacOffset, pkt.sllMacOffset + 6).toString('hex'), 'fa37dc8dafab', 'the sender MAC');
  assert.equal(formatAddress(pkt.dst, 4), '192.0.78.150');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.dstPort, 443);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
});

test('an SLL2 header of a non-Ethernet device (loopback) gives no MAC', () => {
  const frame = Buffer.from(SLL2_SYN);
  frame.writeUInt16BE(772, 8);
  assert.equal(decode(276, frame).sllMacOffset, -1);
});

test('a cut SLL2 header is truncated-sll2', () => {
  assertProblemAtEveryCut(276, SLL2_SYN, 0, 20, () => Problem.TRUNCATED_SLL2);
});
