import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 172.19.51.37.47808 > 172.19.51.63.47808: UDP, length 18   (zeek/q-in-q.pcap, VLAN tags removed)
const UDP = hex(`
  ffff ffff ffff 00c0 e401 2ced 0800 4500
  002e 4796 0000 4011 749e ac13 3325 ac13
  333f bac0 bac0 001a b9da 810b 0012 0120
  ffff 00ff 1008 0a1b 591a 1b59`);

test('UDP ports and payload length', () => {
  const pkt = decode(1, UDP);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.UDP);
  assert.equal(pkt.srcPort, 47808);
  assert.equal(pkt.dstPort, 47808);
  assert.equal(pkt.payloadLength, 18);
  assert.equal(pkt.vxlanVni, -1);
});

test('a UDP length below 8 is invalid; a cut header truncated', () => {
  const bad = Buffer.from(UDP);
  bad.writeUInt16BE(4, 38);
  assert.equal(decode(1, bad).problem, Problem.BAD_UDP_LENGTH);
  assertProblemAtEveryCut(1, UDP, 34, 42, () => Problem.TRUNCATED_UDP);
});
