import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { ipv4HeaderChecksumOk } from '../src/decode/ipv4';
import { Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { assertProblemAtEveryCut, corpus, decode, hex, readPcapFrames } from './decode-helpers';
import { ETHERNET_SYN } from './decode-fixtures';

// 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 78: (tos 0x0, ttl 64, id 7, offset 0, flags [+],
//   proto TCP (6), length 64) 10.0.0.1.59856 > 10.0.0.2.80: Flags [S], seq 4263588410, ...   (built; first fragment)
const FIRST_FRAGMENT = hex(`
  0200 0000 0002 0200 0000 0001 0800 4500
  0040 0007 2000 4006 46af 0a00 0001 0a00
  0002 e9d0 0050 fe21 323a 0000 0000 b002
  ffff 3bc0 0000 0204 05b4 0103 0304 0101
  080a 164a dd20 0000 0000 0402 0000`);

// (tos 0x0, ttl 64, id 7, offset 40, flags [none], proto TCP (6), length 36) 10.0.0.1 > 10.0.0.2: ip-proto-6   (built)
const LATER_FRAGMENT = hex(`
  0200 0000 0002 0200 0000 0001 0800 4500
  0024 0007 0005 4006 66c6 0a00 0001 0a00
  0002 0000 0000 0000 0000 0000 0000 0000
  0000`);

test('IPv4 header fields', () => {
  const pkt = decode(1, ETHERNET_SYN);
  assert.equal(pkt.ipVersion, 4);
  assert.equal(pkt.ipOffset, 14);
  assert.equal(pkt.ipId, 57230);
  assert.equal(pkt.ttl, 64);
  assert.equal(pkt.ipProto, 6);
  assert.equal(pkt.ipPayloadLength, 44);
  assert.deepEqual([...pkt.src], [0, 0, 0xffff, 0x8d8ee405]);
  assert.equal(pkt.fragment, false);
});

test('a first fragment is decoded, a later one skipped', () => {
  const first = decode(1, FIRST_FRAGMENT);
  assert.equal(first.problem, 0);
  assert.equal(first.transport, Transport.TCP);
  const later = decode(1, LATER_FRAGMENT);
  assert.equal(later.problem, Problem.IPV4_FRAGMENT);
  assert.equal(later.fragment, true);
  assert.equal(later.transport, Transport.NONE);
  assert.equal(formatAddress(later.dst, 4), '10.0.0.2');
});

test('total length 0 (TSO / BIG TCP) is presumed from the captured length', () => {
  // IP bad-len 0   (tcpdump/bigtcp-ipv4.pcap: an 80066-byte GSO super-packet)
  const [frame] = readPcapFrames(corpus('tcpdump/bigtcp-ipv4.pcap'));
  const pkt = decode(1, frame!.data);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.ipPayloadLength, frame!.data.length - 14 - 20);
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.srcPort, 35871);
  assert.equal(pkt.payloadLength, frame!.data.length - 14 - 20 - 32);
});

test('a snapped packet keeps the wire payload length', () => {
  const pkt = decode(1, ETHERNET_SYN, 54);
  assert.equal(pkt.problem, Problem.TRUNCATED_TCP);
  assert.equal(pkt.ipPayloadLength, 44);
});

test('impossible lengths are invalid, not truncated', () => {
  const shortIhl = Buffer.from(ETHERNET_SYN);
  shortIhl[14] = 0x44;
  assert.equal(decode(1, shortIhl).problem, Problem.BAD_IPV4_HEADER_LENGTH);
  const shortTotal = Buffer.from(ETHERNET_SYN);
  shortTotal.writeUInt16BE(19, 16);
  assert.equal(decode(1, shortTotal).problem, Problem.BAD_IPV4_TOTAL_LENGTH);
  const v6InV4 = Buffer.from(ETHERNET_SYN);
  v6InV4[14] = 0x65;
  assert.equal(decode(1, v6InV4).problem, Problem.INVALID_IP_VERSION);
});

test('a cut IPv4 header is truncated-ipv4, options included', () => {
  assertProblemAtEveryCut(1, ETHERNET_SYN, 14, 34, () => Problem.TRUNCATED_IPV4);
  // the same SYN with IHL 6 (4 bytes of options: NOP NOP NOP EOL)
  const withOptions = Buffer.concat([ETHERNET_SYN.subarray(0, 34), hex('01010100'), ETHERNET_SYN.subarray(34)]);
  withOptions[14] = 0x46;
  withOptions.writeUInt16BE(68, 16);
  assert.equal(decode(1, withOptions).problem, 0);
  assert.equal(decode(1, withOptions).srcPort, 59856);
  assertProblemAtEveryCut(1, withOptions, 14, 38, () => Problem.TRUNCATED_IPV4);
});

test('ipv4HeaderChecksumOk', () => {
  assert.equal(ipv4HeaderChecksumOk(ETHERNET_SYN, 14), true);
  const bad = Buffer.from(ETHERNET_SYN);
  bad[24] ^= 0xff;
  assert.equal(ipv4HeaderChecksumOk(bad, 14), false);
  assert.equal(ipv4HeaderChecksumOk(ETHERNET_SYN, ETHERNET_SYN.length - 10), false);
});
