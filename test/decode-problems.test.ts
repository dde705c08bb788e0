import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrame } from '../src/decode/dispatch';
import { Layer, layerName } from '../src/decode/layer';
import { firstLayer, isSupportedLinkType, linkTypeName, SUPPORTED_LINK_TYPES } from '../src/decode/link-types';
import { etherTypeName, layerForEtherType } from '../src/decode/ether-types';
import { DecodedPacket } from '../src/decode/packet';
import { Problem, allProblems, problemCategory, problemName } from '../src/decode/problems';
import { corpus, decode, hex, readPcapFrames } from './decode-helpers';

test('every problem code has a unique name and a category', () => {
  const all = allProblems();
  assert.equal(all.length, Object.keys(Problem).length - 1);
  for (const [key, code] of Object.entries(Problem)) {
    if (code === 0) continue;
    assert.equal(problemName(code), key.toLowerCase().replaceAll('_', '-'), key);
    assert.ok(problemCategory(code), key);
  }
  assert.equal(new Set(all.map((p) => p.name)).size, all.length);
  assert.equal(problemCategory(Problem.NONE), undefined);
});

test('truncated is told apart from invalid', () => {
  assert.equal(problemCategory(Problem.TRUNCATED_TCP), 'truncated');
  assert.equal(problemCategory(Problem.BAD_TCP_DATA_OFFSET), 'invalid');
  assert.equal(problemCategory(Problem.INVALID_IP_VERSION), 'invalid');
  assert.equal(problemCategory(Problem.IPV4_FRAGMENT), 'skipped');
  assert.equal(problemCategory(Problem.UNSUPPORTED_LINK_TYPE), 'unsupported');
});

test('link and ether type tables', () => {
  assert.equal(linkTypeName(276), 'LINUX_SLL2');
  assert.equal(linkTypeName(9999), 'LINKTYPE_9999');
  assert.deepEqual([...SUPPORTED_LINK_TYPES].sort((a, b) => a - b), [0, 1, 101, 108, 113, 228, 229, 276]);
  for (const lt of SUPPORTED_LINK_TYPES) assert.ok(isSupportedLinkType(lt));
  assert.equal(firstLayer(160), Layer.DONE);
  assert.equal(etherTypeName(0x88cc), 'LLDP');
  assert.equal(etherTypeName(0x1234), '0x1234');
  assert.equal(layerForEtherType(0x9100), Layer.VLAN);
  assert.equal(layerName(Layer.PPPOE), 'pppoe');
});

test('unsupported link types are a problem, not an exception', () => {
  // tcpdump/unsupported-link-type-160.pcap and -dbus.pcap (LINKTYPE 231)
  for (const name of ['tcpdump/unsupported-link-type-160.pcap', 'tcpdump/unsupported-link-type-dbus.pcap']) {
    for (const frame of readPcapFrames(corpus(name))) {
      assert.equal(decode(frame.linkType, frame.data).problem, Problem.UNSUPPORTED_LINK_TYPE, name);
    }
  }
});

test('decodeFrame resets the reused packet and clamps the range to the buffer', () => {
  const pkt = new DecodedPacket();
  // 10.0.0.1.40000 > 10.0.0.2.443: Flags [S], seq 1, win 1024, length 0
  const frame = hex('020000000002 020000000001 0800 45000028000100004006 66cd 0a000001 0a000002 9c4001bb 00000001 00000000 5002 0400 00000000');
  decodeFrame(1, frame, 0, frame.length, pkt);
  assert.equal(pkt.srcPort, 40000);
  decodeFrame(1, frame, 0, 20, pkt);
  assert.equal(pkt.srcPort, 0, 'fields of the previous packet are gone');
  assert.equal(pkt.problem, Problem.TRUNCATED_IPV4);
  decodeFrame(1, frame, -4, frame.length + 100, pkt);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.srcPort, 40000);
});

test('ethertypes we do not decode end quietly; MACsec is counted', () => {
  // LLDP: 01:80:c2:00:00:0e < 02:..:01, ethertype LLDP (0x88cc)
  const lldp = Buffer.from('0180c200000e02000000000188cc020704000000000001', 'hex');
  const pkt = decode(1, lldp);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.etherType, 0x88cc);
  assert.equal(pkt.transport, 0);
  const macsec = hex('020000000002 020000000001 88e5 2c000000000100');
  assert.equal(decode(1, macsec).problem, Problem.UNSUPPORTED_ETHERTYPE);
  // 802.3 length field instead of an ethertype (LLC/STP frame)
  const stp = Buffer.from('0180c2000000020000000001002642420300000000', 'hex');
  assert.equal(decode(1, stp).problem, 0);
});

test('frames from two alternating buffers decode right with one packet object', () => {
  // 10.0.0.1.40000 > 10.0.0.2.443: Flags [S] and the same from port 40001, in two "reader buffers"
  const a = hex('020000000002 020000000001 0800 45000028000100004006 66cd 0a000001 0a000002 9c4001bb 00000001 00000000 5002 0400 00000000');
  const b = Buffer.concat([Buffer.alloc(7), a]);
  b.writeUInt16BE(40001, 7 + 34);
  const pkt = new DecodedPacket();
  for (let i = 0; i < 4; i++) {
    decodeFrame(1, a, 0, a.length, pkt);
    assert.equal(pkt.srcPort, 40000);
    decodeFrame(1, b, 7, b.length, pkt);
    assert.equal(pkt.srcPort, 40001);
    assert.equal(pkt.ipOffset, 21);
  }
  const third = Buffer.from(a);
  third.writeUInt16BE(40002, 34);
  decodeFrame(1, third, 0, third.length, pkt);
  assert.equal(pkt.srcPort, 40002);
});
