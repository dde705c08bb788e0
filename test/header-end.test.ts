import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerEnd } from '../src/decode/header-end';
import { LinkType } from '../src/decode/link-types';
import { buildArpRequest, buildIcmpUnreachable, buildTcpFrame } from '../src/synth/frames';
import { decode } from './decode-helpers';
import { VXLAN_SYN } from './decode-fixtures';

const MARKER = Buffer.from('Authorization: secret-XYZ');
const ETH = LinkType.ETHERNET;

function tcp(extra: Partial<Parameters<typeof buildTcpFrame>[0]> = {}): Buffer {
  return buildTcpFrame({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 40000, dstPort: 80, seq: 1, ack: 1, flags: 0x18, options: { tsVal: 7 }, payload: MARKER, ...extra });
}

test('a TCP segment is cut after its options, also behind VLAN tags and over IPv6', () => {
  // 14 Ethernet + 20 IPv4 + 20 TCP + 12 options (timestamps padded).
  assert.equal(headerEnd(ETH, tcp(), 0, tcp().length), 14 + 20 + 32);
  const tagged = tcp({ vlan: [100, 200] });
  assert.equal(headerEnd(ETH, tagged, 0, tagged.length), 14 + 8 + 20 + 32);
  const v6 = tcp({ src: 'fd00::1', dst: 'fd00::2' });
  assert.equal(headerEnd(ETH, v6, 0, v6.length), 14 + 40 + 32);
});

test('the cut is relative to the frame inside a larger buffer, and never past its end', () => {
  const frame = tcp();
  const batch = Buffer.concat([Buffer.alloc(20, 0xee), frame, Buffer.alloc(40, 0xee)]);
  assert.equal(headerEnd(ETH, batch, 20, 20 + frame.length), 20 + 66);
  assert.equal(headerEnd(ETH, batch, 20, 20 + 60), 20 + 60, 'a snapped header is kept whole');
});

test('an ICMP error keeps the IP and TCP header it quotes, not the quoted payload', () => {
  const original = tcp();
  const icmp = buildIcmpUnreachable({ original, quoteBytes: 32 + MARKER.length });
  assert.ok(icmp.includes(MARKER));
  const end = headerEnd(ETH, icmp, 0, icmp.length);
  assert.equal(end, 14 + 20 + 8 + 20 + 32);
  assert.ok(!icmp.subarray(0, end).includes(MARKER));
  const short = buildIcmpUnreachable({ original });
  assert.equal(headerEnd(ETH, short, 0, short.length), short.length, 'a quote of 8 TCP bytes is all header');
});

test('ARP is all header; a rejected frame keeps the fewest bytes that decode the same way', () => {
  const arp = buildArpRequest({ senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetIp: '10.0.0.9', pad: true });
  assert.equal(headerEnd(ETH, arp, 0, arp.length), 14 + 28);
  // A bad data offset (3 words): the 14 bytes the decoder reads through the offset and flags stay, with the same problem.
  const bad = tcp();
  bad[14 + 20 + 12] = 0x30;
  const end = headerEnd(ETH, bad, 0, bad.length);
  assert.equal(end, 14 + 20 + 14);
  assert.equal(decode(ETH, bad.subarray(0, end)).problem, decode(ETH, bad).problem);
  assert.ok(!bad.subarray(0, end).includes(MARKER));
});

test('VXLAN keeps the inner frame\'s headers; UDP to 4789 without the I flag keeps the 8 bytes read to tell', () => {
  // VXLAN_SYN's outer Ethernet, IPv4, UDP and VXLAN headers (50 bytes) around a segment with the marker.
  const inner = tcp();
  const frame = Buffer.concat([VXLAN_SYN.subarray(0, 50), inner]);
  frame.writeUInt16BE(frame.length - 14, 16);
  frame.writeUInt16BE(frame.length - 34, 38);
  assert.equal(decode(ETH, frame).vxlanVni, 4096);
  const end = headerEnd(ETH, frame, 0, frame.length);
  assert.equal(end, 50 + 66);
  assert.ok(!frame.subarray(0, end).includes(MARKER));
  const plainUdp = Buffer.from(frame);
  plainUdp[42] = 0;
  assert.equal(headerEnd(ETH, plainUdp, 0, plainUdp.length), 50);
});
