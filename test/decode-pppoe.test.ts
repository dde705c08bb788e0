import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 00:00:00:00:00:00 > 00:00:00:00:00:01, ethertype 802.1Q (0x8100), length 94: vlan 3704, p 0, ethertype 802.1Q (0x8100),
//   vlan 2474, p 0, ethertype PPPoE S (0x8864), PPPoE  [ses 0xf07] IP (0x0021), length 66: (... proto TCP (6), length 64)
//   1.1.1.1.20394 > 2.2.2.2.443: Flags [S], seq 3618128213, win 65535, options [mss 1440,nop,wscale 6,nop,nop,
//   TS val 19781772 ecr 0,sackOK,eol], length 0   (zeek/pppoe-over-qinq.pcap)
const PPPOE_SYN = hex(`
  0000 0000 0001 0000 0000 0000 8100 0e78
  8100 09aa 8864 1100 0f07 0042 0021 4500
  0040 0000 4000 3f06 35b3 0101 0101 0202
  0202 4faa 01bb d7a8 4155 0000 0000 b002
  ffff eced 0000 0204 05a0 0103 0306 0101
  080a 012d d88c 0000 0000 0402 0000`);

test('PPPoE session over QinQ carrying IPv4', () => {
  const pkt = decode(1, PPPOE_SYN);
  assert.equal(pkt.problem, 0);
  assert.deepEqual([...pkt.vlanIds.subarray(0, 2)], [3704, 2474]);
  assert.equal(pkt.etherType, 0x8864);
  assert.equal(formatAddress(pkt.src, 4), '1.1.1.1');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
  assert.equal(pkt.srcPort, 20394);
});

test('the PPPoE length trims trailing bytes', () => {
  const padded = Buffer.concat([PPPOE_SYN, hex('0000 0000')]);
  assert.equal(decode(1, padded).end, PPPOE_SYN.length);
});

test('bad headers are invalid, cut ones truncated, control protocols quiet', () => {
  const badVersion = Buffer.from(PPPOE_SYN);
  badVersion[22] = 0x21;
  assert.equal(decode(1, badVersion).problem, Problem.BAD_PPPOE_HEADER);
  const lcp = Buffer.from(PPPOE_SYN);
  lcp.writeUInt16BE(0xc021, 28);
  const pkt = decode(1, lcp);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.NONE);
  assertProblemAtEveryCut(1, PPPOE_SYN, 22, 30, () => Problem.TRUNCATED_PPPOE);
});
