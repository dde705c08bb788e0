import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress } from '../src/decode/address';
import { Transport } from '../src/decode/packet';
import { Problem } from '../src/decode/problems';
import { corpus, decode, hex, readPcapFrames } from './decode-helpers';

// ip: (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 57)
//   192.168.1.100.12345 > 9.9.9.9.53: 4660+ A? example.com. (29)   (tcpdump/LINKTYPE_RAW_ipv4.pcap)
const RAW_IPV4 = hex(`
  4500 0039 0001 0000 4011 a695 c0a8 0164
  0909 0909 3039 0035 0025 1976 1234 0100
  0001 0000 0000 0000 0765 7861 6d70 6c65
  0363 6f6d 0000 0100 01`);

// ip: (hlim 64, next-header UDP (17) payload length: 37) 2001:db8::1.12345 > 2620:fe::9.53:
//   4660+ A? example.com. (29)   (tcpdump/LINKTYPE_RAW_ipv6.pcap)
const RAW_IPV6 = hex(`
  6000 0000 0025 1140 2001 0db8 0000 0000
  0000 0000 0000 0001 2620 00fe 0000 0000
  0000 0000 0000 0009 3039 0035 0025 98b3
  1234 0100 0001 0000 0000 0000 0765 7861
  6d70 6c65 0363 6f6d 0000 0100 01`);

test('LINKTYPE_RAW picks IPv4 or IPv6 by the version nibble', () => {
  const v4 = decode(101, RAW_IPV4);
  assert.equal(v4.problem, 0);
  assert.equal(formatAddress(v4.dst, 4), '9.9.9.9');
  assert.equal(v4.transport, Transport.UDP);
  const v6 = decode(101, RAW_IPV6);
  assert.equal(v6.problem, 0);
  assert.equal(formatAddress(v6.dst, 6), '2620:fe::9');
  assert.equal(v6.dstPort, 53);
});

test('LINKTYPE_IPV4 / IPV6 accept only their own version', () => {
  assert.equal(decode(228, RAW_IPV4).problem, 0);
  assert.equal(decode(229, RAW_IPV6).problem, 0);
  // tcpdump/LINKTYPE_IPV4_invalid.pcap holds an IPv6 packet, LINKTYPE_IPV6_invalid.pcap an IPv4 one.
  for (const name of ['tcpdump/LINKTYPE_IPV4_invalid.pcap', 'tcpdump/LINKTYPE_IPV6_invalid.pcap']) {
    const [frame] = readPcapFrames(corpus(name));
    const pkt = decode(frame!.linkType, frame!.data);
    assert.equal(pkt.problem, Problem.INVALID_IP_VERSION, name);
    assert.equal(pkt.ipVersion, 0);
  }
});

test('an empty or non-IP raw packet', () => {
  assert.equal(decode(101, Buffer.alloc(0)).problem, Problem.TRUNCATED_IP);
  assert.equal(decode(101, hex('5000 0000')).problem, Problem.INVALID_IP_VERSION);
  assert.equal(decode(228, Buffer.alloc(0)).problem, Problem.TRUNCATED_IPV4);
  assert.equal(decode(229, Buffer.alloc(0)).problem, Problem.TRUNCATED_IPV6);
});
