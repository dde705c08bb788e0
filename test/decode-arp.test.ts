import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToString } from '../src/decode/address';
import { Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, decode, hex } from './decode-helpers';

// 00:80:ea:81:88:63 > 00:20:d2:5a:fb:3f, ethertype 802.1Q-QinQ (0x88a8), length 64: vlan 200, p 0, ethertype 802.1Q (0x8100),
//   vlan 2001, p 0, ethertype ARP (0x0806), Reply 172.21.79.100 is-at 00:80:ea:81:88:63, length 42
//   (tcpdump/802.1ad_QinQ.pcap, packet 2; the VLAN tags removed here)
const ARP_REPLY = hex(`
  0020 d25a fb3f 0080 ea81 8863 0806 0001
  0800 0604 0002 0080 ea81 8863 ac15 4f64
  0020 d25a fb3f ac15 4f61 0000 0000 0000
  0000 0000 0000 0000 0000 0000`);

test('Ethernet/IPv4 ARP reply', () => {
  const pkt = decode(1, ARP_REPLY);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.ARP);
  assert.equal(pkt.arpOp, 2);
  assert.equal(ARP_REPLY.subarray(pkt.arpSenderMacOffset, pkt.arpSenderMacOffset + 6).toString('hex'), '0080ea818863');
  assert.equal(ipv4ToString(pkt.arpSenderIp), '172.21.79.100');
  assert.equal(ipv4ToString(pkt.arpTargetIp), '172.21.79.97');
});

test('other ARP forms end quietly; a cut message is truncated', () => {
  const ieee1394 = Buffer.from(ARP_REPLY);
  ieee1394.writeUInt16BE(24, 14);
  const pkt = decode(1, ieee1394);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.NONE);
  assertProblemAtEveryCut(1, ARP_REPLY, 14, 42, () => Problem.TRUNCATED_ARP);
});
