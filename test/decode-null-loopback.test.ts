import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 20:56:17.727740 AF IPv6 (30), length 88: (flowlabel 0x0d08d, hlim 64, next-header TCP (6) payload length: 44)
//   ::1.52522 > ::1.80: Flags [S], seq 1321751229, win 65535, options [mss 16324,nop,wscale 5,nop,nop,
//   TS val 1236829829 ecr 0,sackOK,eol], length 0   (zeek/http__connect-with-header.pcap, macOS)
const NULL_AF30_SYN = hex(`
  1e00 0000 6000 d08d 002c 0640 0000 0000
  0000 0000 0000 0000 0000 0001 0000 0000
  0000 0000 0000 0000 0000 0001 cd2a 0050
  4ec8 52bd 0000 0000 b002 ffff 0034 0000
  0204 3fc4 0103 0305 0101 080a 49b8 8685
  0000 0000 0402 0000`);

// 16:59:13.939985 AF IPv4 (2), length 52: (tos 0x0, ttl 255, id 0, ... proto TCP (6), length 48)
//   192.0.2.1.39829 > 192.168.0.1.8080: Flags [R.], seq 1:9, ack 334797553, win 0, length 8
//   (tcpdump/tcp_rst_diag_payload.pcap)
const NULL_AF2_RST = hex(`
  0200 0000 4500 0030 0000 0000 ff06 391d
  c000 0201 c0a8 0001 9b95 1f90 0000 0001
  13f4 9af1 5014 0000 86a8 0000 33aa 0001
  0000 0000`);

test('NULL with AF_INET6 = 30 (macOS, little-endian host)', () => {
  const pkt = decode(0, NULL_AF30_SYN);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.etherType, 0x86dd);
  assert.equal(formatAddress(pkt.src, 6), '::1');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.srcPort, 52522);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
});

test('NULL with AF_INET = 2', () => {
  const pkt = decode(0, NULL_AF2_RST);
  assert.equal(pkt.problem, 0);
  assert.equal(formatAddress(pkt.dst, 4), '192.168.0.1');
  assert.equal(pkt.tcpFlags, TcpFlag.RST | TcpFlag.ACK);
  assert.equal(pkt.payloadLength, 8);
});

test('NULL written by a big-endian host, and every AF_INET6 value', () => {
  for (const af of [10, 24, 28, 30]) {
    const be = Buffer.concat([hex(`0000 00${af.toString(16).padStart(2, '0')}`), NULL_AF30_SYN.subarray(4)]);
    const pkt = decode(0, be);
    assert.equal(pkt.problem, 0, `AF ${af}`);
    assert.equal(pkt.ipVersion, 6);
  }
});

test('LOOP (108) reads the family in network order', () => {
  const loop = Buffer.concat([hex('0000 0002'), NULL_AF2_RST.subarray(4)]);
  assert.equal(decode(108, loop).ipVersion, 4);
  const little = Buffer.concat([hex('0200 0000'), NULL_AF2_RST.subarray(4)]);
  assert.equal(decode(108, little).problem, Problem.UNSUPPORTED_ADDRESS_FAMILY);
});

test('an unknown family is unsupported; a cut header truncated', () => {
  const appletalk = Buffer.concat([hex('1000 0000'), NULL_AF2_RST.subarray(4)]);
  assert.equal(decode(0, appletalk).problem, Problem.UNSUPPORTED_ADDRESS_FAMILY);
  assertProblemAtEveryCut(0, NULL_AF30_SYN, 0, 4, () => Problem.TRUNCATED_NULL_LOOPBACK);
  assertProblemAtEveryCut(108, NULL_AF2_RST, 0, 4, () => Problem.TRUNCATED_NULL_LOOPBACK);
});
