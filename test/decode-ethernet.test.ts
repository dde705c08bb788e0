import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { Layer } from '../src/decode/layer';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';
import { ETHERNET_SYN } from './decode-fixtures';

test('Ethernet/IPv4/TCP SYN', () => {
  const pkt = decode(1, ETHERNET_SYN);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.lastLayer, Layer.TCP);
  assert.equal(pkt.ethOffset, 0);
  assert.equal(ETHERNET_SYN.subarray(pkt.ethOffset + 6, pkt.ethOffset + 12).toString('hex'), 'c8bcc896d2a0');
  assert.equal(pkt.etherType, 0x0800);
  assert.equal(pkt.vlanCount, 0);
  assert.equal(formatAddress(pkt.src, 4), '141.142.228.5');
  assert.equal(formatAddress(pkt.dst, 4), '192.150.187.43');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.srcPort, 59856);
  assert.equal(pkt.dstPort, 80);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
});

test('Ethernet padding is trimmed by the IPv4 total length', () => {
  // 10.0.0.1.40000 > 10.0.0.2.443: Flags [S], seq 1, win 1024, length 0   (60-byte frame, 6 bytes of padding)
  const padded = hex(`
    0200 0000 0002 0200 0000 0001 0800 4500
    0028 0001 0000 4006 66cd 0a00 0001 0a00
    0002 9c40 01bb 0000 0001 0000 0000 5002
    0400 0000 0000 aaaa aaaa aaaa`);
  const pkt = decode(1, padded);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.end, 54);
  assert.equal(pkt.payloadLength, 0);
  assert.equal(pkt.cursor, 54);
});

test('a cut Ethernet header is truncated-ethernet', () => {
  assertProblemAtEveryCut(1, ETHERNET_SYN, 0, 14, () => Problem.TRUNCATED_ETHERNET);
});
