import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { Layer } from '../src/decode/layer';
import { TcpFlag, Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode } from './decode-helpers';
import { VXLAN_SYN } from './decode-fixtures';

test('the packet holds the innermost frame and the VNI', () => {
  const pkt = decode(1, VXLAN_SYN);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.vxlanVni, 4096);
  assert.equal(pkt.ethOffset, 50);
  assert.equal(pkt.ipOffset, 64);
  assert.equal(formatAddress(pkt.src, 4), '141.142.228.5');
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.srcPort, 59856);
  assert.equal(pkt.tcpFlags, TcpFlag.SYN);
  // The tunnel: the wire's Ethernet header and the nodes it went between.
  assert.equal(pkt.vxlanOuterEthOffset, 0);
  assert.equal(formatAddress(pkt.vxlanOuterSrc, 4), '10.0.0.1');
  assert.equal(formatAddress(pkt.vxlanOuterDst, 4), '10.0.0.2');
});

test('without the I flag the datagram stays UDP', () => {
  const noFlag = Buffer.from(VXLAN_SYN);
  noFlag[42] = 0;
  const pkt = decode(1, noFlag);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.UDP);
  assert.equal(pkt.dstPort, 4789);
  assert.equal(pkt.vxlanVni, -1);
});

test('a cut VXLAN header is truncated; a cut inner frame is not a UDP packet', () => {
  assertProblemAtEveryCut(1, VXLAN_SYN, 42, 50, () => Problem.TRUNCATED_VXLAN);
  const pkt = decode(1, VXLAN_SYN, 60);
  assert.equal(pkt.problem, Problem.TRUNCATED_ETHERNET);
  assert.equal(pkt.lastLayer, Layer.ETHERNET);
  assert.equal(pkt.transport, Transport.NONE);
  assert.equal(pkt.ipVersion, 0);
  assertProblemAtEveryCut(1, VXLAN_SYN, 64, 84, () => Problem.TRUNCATED_IPV4);
});
