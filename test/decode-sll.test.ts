import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 17:16:09.924505 Out ethertype IPv4 (0x0800), length 76: (tos 0x0, ttl 64, id 10665, ... length 60)
//   131.155.215.69.46656 > 137.116.81.94.80: Flags [S], seq 797190859, win 27200,
//   options [mss 1360,sackOK,TS val 1131021154 ecr 0,nop,wscale 7], length 0   (tcpdump/tcp-handshake-nano.pcap)
const SLL_SYN = hex(`
  0004 0200 0000 0000 0000 0000 0000 0800
  4500 003c 29a9 4000 4006 db5f 839b d745
  8974 515e b640 0050 2f84 2acb 0000 0000
  a002 6a40 50c4 0000 0204 0550 0402 080a
  436a 0362 0000 0000 0103 0307`);

test('Linux cooked v1: outgoing SYN', () => {
  const pkt = decode(113, SLL_SYN);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.sllPacketType, 4, 'outgoing');
  assert.equal(pkt.ethOffset, -1);
  assert.equal(pkt.sllMacOffset, -1, 'ARPHRD_PPP has no MAC');
  assert.equal(pkt.etherType, 0x0800);
  assert.equal(formatAddress(pkt.src, 4), '131.155.215.69');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.seq, 797190859);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
  assert.equal(pkt.tcpOptionsLength, 20);
});

test('a cut SLL header is truncated-sll', () => {
  assertProblemAtEveryCut(113, SLL_SYN, 0, 16, () => Problem.TRUNCATED_SLL);
});
