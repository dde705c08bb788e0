import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToString } from '../src/decode/address';
import { Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 00:c0:e4:01:2c:ed > ff:ff:ff:ff:ff:ff, ethertype 802.1Q (0x8100), length 68: vlan 13, p 0,
//   ethertype 802.1Q (0x8100), vlan 10, p 0, ethertype IPv4 (0x0800),
//   172.19.51.37.47808 > 172.19.51.63.47808: UDP, length 18   (zeek/q-in-q.pcap)
const DOUBLE_8100 = hex(`
  ffff ffff ffff 00c0 e401 2ced 8100 000d
  8100 000a 0800 4500 002e 4796 0000 4011
  749e ac13 3325 ac13 333f bac0 bac0 001a
  b9da 810b 0012 0120 ffff 00ff 1008 0a1b
  591a 1b59`);

// 00:20:d2:5a:fb:3f > ff:ff:ff:ff:ff:ff, ethertype 802.1Q-QinQ (0x88a8), length 64: vlan 200, p 0,
//   ethertype 802.1Q (0x8100), vlan 2001, p 0, ethertype ARP (0x0806), Request who-has 172.21.79.100
//   tell 172.21.79.97, length 42   (tcpdump/802.1ad_QinQ.pcap)
const QINQ_88A8_ARP = hex(`
  ffff ffff ffff 0020 d25a fb3f 88a8 00c8
  8100 07d1 0806 0001 0800 0604 0001 0020
  d25a fb3f ac15 4f61 0000 0000 0000 ac15
  4f64 0000 0000 0000 0000 0000 0000 0000`);

test('two stacked 802.1Q tags', () => {
  const pkt = decode(1, DOUBLE_8100);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.vlanCount, 2);
  assert.deepEqual([...pkt.vlanIds.subarray(0, 2)], [13, 10]);
  assert.equal(pkt.etherType, 0x0800);
  assert.equal(pkt.transport, Transport.UDP);
  assert.equal(pkt.srcPort, 47808);
});

test('802.1ad outer tag with an 802.1Q inner tag', () => {
  const pkt = decode(1, QINQ_88A8_ARP);
  assert.equal(pkt.problem, 0);
  assert.deepEqual([...pkt.vlanIds.subarray(0, 2)], [200, 2001]);
  assert.equal(pkt.transport, Transport.ARP);
  assert.equal(ipv4ToString(pkt.arpTargetIp), '172.21.79.100');
});

test('0x9100 tags and more than four tags are counted', () => {
  // six 0x9100 tags with vlan ids 1..6, then an LLDP ethertype
  let frame = hex('ffffffffffff 020000000001');
  for (let id = 1; id <= 6; id++) frame = Buffer.concat([frame, hex(`9100 000${id}`)]);
  frame = Buffer.concat([frame, hex('88cc 0000')]);
  const pkt = decode(1, frame);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.vlanCount, 6);
  assert.deepEqual([...pkt.vlanIds], [1, 2, 3, 4]);
  assert.equal(pkt.etherType, 0x88cc);
});

test('a cut tag is truncated-vlan', () => {
  assertProblemAtEveryCut(1, DOUBLE_8100, 14, 22, (cut) => (cut < 22 ? Problem.TRUNCATED_VLAN : 0));
  assertProblemAtEveryCut(1, QINQ_88A8_ARP, 14, 22, () => Problem.TRUNCATED_VLAN);
});
