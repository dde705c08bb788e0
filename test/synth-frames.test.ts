import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  buildArpRequest, buildIcmpUnreachable, buildTcpFrame, TcpFrameWriter, type TcpFrameSpec,
} from '../src/synth/frames';
import { parseIp } from '../src/synth/address';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket, Transport } from '../src/decode/packet';
import { parseTcpOptions } from '../src/decode/tcp-options';

// ---------------------------------------------------------------------------
// An independent checksum verifier: written from RFC 1071 / RFC 793 / RFC 8200
// directly with a DataView, folding at every step, sharing no code with
// src/synth. A correct checksum makes the one's-complement sum over the covered
// bytes (checksum field included) come out as 0xffff.
// ---------------------------------------------------------------------------

function onesSum(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    s += v.getUint16(i);
    s = (s & 0xffff) + (s >>> 16);
  }
  if (bytes.length % 2 === 1) {
    s += bytes[bytes.length - 1]! * 256;
    s = (s & 0xffff) + (s >>> 16);
  }
  return s;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

interface Parsed {
  ipVersion: 4 | 6;
  l3: number;
  proto: number;
  l4: number;
  l4Len: number;
}

function parseFrame(f: Buffer): Parsed {
  let p = 12;
  while (f.readUInt16BE(p) === 0x8100 || f.readUInt16BE(p) === 0x88a8) p += 4;
  const type = f.readUInt16BE(p);
  const l3 = p + 2;
  if (type === 0x0800) {
    const ihl = (f[l3]! & 15) * 4;
    return { ipVersion: 4, l3, proto: f[l3 + 9]!, l4: l3 + ihl, l4Len: f.readUInt16BE(l3 + 2) - ihl };
  }
  assert.equal(type, 0x86dd);
  return { ipVersion: 6, l3, proto: f[l3 + 6]!, l4: l3 + 40, l4Len: f.readUInt16BE(l3 + 4) };
}

/** True when the IPv4 header checksum (if any) and the transport checksum verify. */
function checksumsOk(f: Buffer): { ip: boolean; l4: boolean } {
  const p = parseFrame(f);
  const l4 = f.subarray(p.l4, p.l4 + p.l4Len);
  let ip = true;
  let pseudo: Uint8Array;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(p.l4Len);
  if (p.ipVersion === 4) {
    ip = onesSum(f.subarray(p.l3, p.l4)) === 0xffff;
    pseudo = concat(f.subarray(p.l3 + 12, p.l3 + 20), Uint8Array.of(0, p.proto), len.subarray(2));
  } else {
    pseudo = concat(f.subarray(p.l3 + 8, p.l3 + 40), len, Uint8Array.of(0, 0, 0, p.proto));
  }
  // ICMPv4 has no pseudo-header; TCP and ICMPv6 do.
  const covered = p.proto === 1 ? l4 : concat(pseudo, l4);
  return { ip, l4: onesSum(covered) === 0xffff };
}

const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const RST = 0x04;

// tcpdump -nn -v: IP (tos 0x0, ttl 63, id 7238, offset 0, flags [DF], proto TCP (6), length 60)
//   10.42.7.9.51234 > 10.0.0.10.443: Flags [S], cksum 0xf5e6 (correct), seq 3735928559, win 64240,
//   options [mss 1460,sackOK,TS val 123456789 ecr 0,nop,wscale 7], length 0
const synV4: TcpFrameSpec = {
  srcMac: '52:54:00:12:34:56', dstMac: '52:54:00:ab:cd:ef',
  src: '10.42.7.9', dst: '10.0.0.10', srcPort: 51234, dstPort: 443,
  seq: 0xdeadbeef, ack: 0, flags: SYN, window: 64240,
  options: { mss: 1460, sackPermitted: true, tsVal: 123456789, tsEcr: 0, windowScale: 7 },
  ipId: 0x1c46, ttl: 63,
};

test('IPv4 SYN: layout, Linux option order and checksums', () => {
  const f = buildTcpFrame(synV4);
  assert.equal(f.length, 14 + 20 + 40);
  assert.equal(f.toString('hex', 0, 14), '525400abcdef' + '525400123456' + '0800');
  // IPv4: v4, IHL 5, total 60, id, DF, TTL 63, TCP.
  assert.equal(f.toString('hex', 14, 24), '4500003c1c4640003f06');
  assert.deepEqual([...f.subarray(26, 34)], [10, 42, 7, 9, 10, 0, 0, 10]);
  assert.equal(f.readUInt16BE(34), 51234);
  assert.equal(f.readUInt16BE(36), 443);
  assert.equal(f.readUInt32BE(38), 0xdeadbeef);
  assert.equal(f[46], 0xa0); // data offset 10 words
  assert.equal(f[47], SYN);
  assert.equal(f.readUInt16BE(48), 64240);
  // 02 04 05b4 | 04 02 08 0a tsval tsecr | 01 03 03 07, as tcp_options_write lays it out.
  assert.equal(f.toString('hex', 54), '020405b4' + '0402080a' + '075bcd15' + '00000000' + '01030307');
  assert.deepEqual(checksumsOk(f), { ip: true, l4: true });
  assert.equal(f.readUInt16BE(50), 0xf5e6); // the value tcpdump printed as correct (comment above)
});

test('the independent verifier rejects a corrupted frame (it is not vacuous)', () => {
  const f = buildTcpFrame(synV4);
  const tcpBad = Buffer.from(f);
  tcpBad[60] = (tcpBad[60]! + 1) & 0xff; // a TSval byte
  assert.deepEqual(checksumsOk(tcpBad), { ip: true, l4: false });
  const ipBad = Buffer.from(f);
  ipBad[22] = 62; // TTL decremented without fixing the header checksum
  assert.equal(checksumsOk(ipBad).ip, false);
});

test('IPv6 with stacked 802.1ad/802.1Q tags, odd payload and content', () => {
  const payload = Buffer.from('GET / HTTP/1.1\r\nHost: xy\r\n\r\n!'); // odd length
  assert.equal(payload.length % 2, 1);
  const f = buildTcpFrame({
    vlan: [{ id: 100, tpid: 0x88a8 }, { id: 42, pcp: 5 }],
    src: '2001:db8:7::1234', dst: '2001:db8::10', srcPort: 40000, dstPort: 80,
    seq: 1000, ack: 2000, flags: PSH | ACK, window: 502,
    options: { tsVal: 0xfffffff0, tsEcr: 77 }, payload,
  });
  assert.equal(f.toString('hex', 12, 22), '88a80064' + '8100a02a' + '86dd');
  const p = parseFrame(f);
  assert.equal(p.ipVersion, 6);
  assert.equal(f[p.l3 + 6], 6);
  assert.equal(f[p.l3 + 7], 64);
  assert.deepEqual(Uint8Array.from(f.subarray(p.l3 + 8, p.l3 + 24)), parseIp('2001:db8:7::1234'));
  assert.equal(p.l4Len, 32 + payload.length);
  // Without SACK-permitted, TS is preceded by two NOPs.
  assert.equal(f.toString('hex', p.l4 + 20, p.l4 + 32), '0101080afffffff00000004d');
  assert.equal(f.subarray(p.l4 + 32).toString(), payload.toString());
  assert.deepEqual(checksumsOk(f), { ip: true, l4: true });
});

test('options: none, SACK without TS, zero-filled payload', () => {
  const bare = buildTcpFrame({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 1, dstPort: 2, seq: 0, ack: 5, flags: RST | ACK, window: 0 });
  assert.equal(bare.length, 54);
  assert.deepEqual(checksumsOk(bare), { ip: true, l4: true });
  const sack = buildTcpFrame({
    src: '192.0.2.1', dst: '192.0.2.2', srcPort: 1, dstPort: 2, seq: 1, ack: 0, flags: SYN,
    options: { mss: 536, sackPermitted: true }, payloadLength: 1001,
  });
  assert.equal(sack.toString('hex', 54, 62), '02040218' + '01010402');
  assert.equal(sack.length, 62 + 1001);
  assert.ok(sack.subarray(62).every((b) => b === 0));
  assert.deepEqual(checksumsOk(sack), { ip: true, l4: true });
});

test('TcpFrameWriter: patching fields in one reused buffer equals building fresh frames', () => {
  const w = new TcpFrameWriter().configure(synV4);
  const buf = Buffer.alloc(2048, 0xee); // dirty on purpose: stale bytes must not leak
  let x = 12345;
  for (let i = 0; i < 300; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const v6 = i % 3 === 0;
    const spec: TcpFrameSpec = {
      ...synV4,
      src: v6 ? `2001:db8:${(x >>> 16).toString(16)}::${(x & 0xffff).toString(16)}` : `10.${i & 255}.${x & 255}.${(x >>> 8) & 255}`,
      dst: v6 ? '2001:db8::10' : '10.0.0.10',
      srcPort: x & 0xffff, seq: x, ack: (x * 7) >>> 0, flags: i % 2 === 0 ? SYN : ACK | PSH,
      options: i % 2 === 0 ? synV4.options! : { tsVal: (x ^ 0x5555) >>> 0, tsEcr: i },
      payloadLength: i % 2 === 0 ? 0 : (x % 1400) + 1,
      ipId: i, ttl: 64 - (i % 5),
    };
    w.configure(spec);
    const n = w.write(buf, 7);
    assert.equal(n, w.frameLength());
    const fresh = buildTcpFrame(spec);
    assert.ok(buf.subarray(7, 7 + n).equals(fresh), `frame ${i} differs`);
    assert.deepEqual(checksumsOk(fresh), { ip: true, l4: true }, `frame ${i}`);
  }
});

test('ICMP unreachable quotes IP header + 8 bytes and has a valid checksum (v4 and v6)', () => {
  const syn = buildTcpFrame(synV4);
  const icmp = buildIcmpUnreachable({ original: syn, from: '10.0.0.1', code: 13, ipId: 9 });
  const p = parseFrame(icmp);
  assert.equal(p.proto, 1);
  assert.equal(icmp.toString('hex', 0, 12), '525400123456' + '525400abcdef'); // MACs swapped
  assert.deepEqual([...icmp.subarray(p.l3 + 12, p.l3 + 20)], [10, 0, 0, 1, 10, 42, 7, 9]);
  assert.equal(icmp[p.l4], 3);
  assert.equal(icmp[p.l4 + 1], 13);
  assert.equal(p.l4Len, 8 + 20 + 8);
  assert.ok(icmp.subarray(p.l4 + 8).equals(syn.subarray(14, 14 + 28)));
  assert.deepEqual(checksumsOk(icmp), { ip: true, l4: true });

  const syn6 = buildTcpFrame({ ...synV4, src: '2001:db8:1::5', dst: '2001:db8::10' });
  const icmp6 = buildIcmpUnreachable({ original: syn6 });
  const q = parseFrame(icmp6);
  assert.equal(q.proto, 58);
  assert.equal(icmp6[q.l4], 1);
  assert.equal(icmp6[q.l4 + 1], 4);
  assert.deepEqual(Uint8Array.from(icmp6.subarray(q.l3 + 8, q.l3 + 24)), parseIp('2001:db8::10'));
  assert.ok(icmp6.subarray(q.l4 + 8).equals(syn6.subarray(14, 14 + 48)));
  assert.deepEqual(checksumsOk(icmp6), { ip: true, l4: true });

  // As a Linux host does it: the whole offending packet, never the Ethernet padding after it.
  const padded = Buffer.concat([buildTcpFrame({ ...synV4, options: {} }), Buffer.alloc(6, 0xaa)]);
  assert.equal(padded.length, 60);
  const whole = buildIcmpUnreachable({ original: padded, quoteBytes: Infinity });
  const w = parseFrame(whole);
  assert.equal(w.l4Len, 8 + 40);
  assert.ok(whole.subarray(w.l4 + 8).equals(padded.subarray(14, 54)));
  assert.deepEqual(checksumsOk(whole), { ip: true, l4: true });
  const big = buildTcpFrame({ ...synV4, flags: ACK, payloadLength: 1400 });
  const capped = buildIcmpUnreachable({ original: big, quoteBytes: Infinity });
  assert.equal(parseFrame(capped).l4Len + 20, 576);
});

test('ARP request: broadcast who-has with sender and target', () => {
  const arp = buildArpRequest({ senderMac: '02:42:ac:11:00:01', senderIp: '172.17.0.1', targetIp: '172.17.5.20', vlan: 10 });
  assert.equal(arp.toString('hex'),
    'ffffffffffff' + '0242ac110001' + '8100000a' + '0806' +
    '0001' + '0800' + '06' + '04' + '0001' + '0242ac110001' + 'ac110001' + '000000000000' + 'ac110514');
  assert.equal(buildArpRequest({ senderMac: '02:42:ac:11:00:01', senderIp: '172.17.0.1', targetIp: '172.17.5.20', pad: true }).length, 60);
});

test('bad input is refused', () => {
  assert.throws(() => buildTcpFrame({ ...synV4, src: '10.0.0.300' }), TypeError);
  assert.throws(() => buildTcpFrame({ ...synV4, dst: '2001:db8::1' }), /families differ/);
  assert.throws(() => buildTcpFrame({ ...synV4, vlan: 4096 }), RangeError);
  assert.throws(() => buildTcpFrame({ ...synV4, srcMac: '52:54:00:12:34' }), TypeError);
  assert.throws(() => buildTcpFrame({ ...synV4, srcPort: 65536 }), /srcPort/);
  assert.throws(() => buildTcpFrame({ ...synV4, seq: -1 }), /seq/);
  assert.throws(() => buildTcpFrame({ ...synV4, payloadLength: 70000 }), /longer than IP/);
});

// ---------------------------------------------------------------------------
// tcpdump as an outside oracle. The pcap file is written here by hand (24-byte
// header + 16-byte records) so this test does not depend on the project's writer.
// ---------------------------------------------------------------------------

function tinyPcap(frames: readonly Buffer[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1700000000 + i, 0);
    r.writeUInt32LE(i * 1000, 4);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  });
  return Buffer.concat(parts);
}

function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

test('tcpdump -v finds no bad checksum in a written file', (t) => {
  if (!hasTool('tcpdump')) {
    t.skip('tcpdump not installed');
    return;
  }
  const syn = buildTcpFrame(synV4);
  const syn6 = buildTcpFrame({ ...synV4, src: '2001:db8:1::5', dst: '2001:db8::10', vlan: 7 });
  const frames = [
    syn,
    buildTcpFrame({ ...synV4, src: '10.0.0.10', dst: '10.42.7.9', srcPort: 443, dstPort: 51234, flags: SYN | ACK, ack: 0xdeadbef0, seq: 99 }),
    buildTcpFrame({ ...synV4, flags: PSH | ACK, options: { tsVal: 5, tsEcr: 6 }, payloadLength: 333 }),
    buildTcpFrame({ ...synV4, flags: PSH | ACK, options: { tsVal: 5, tsEcr: 6 }, payload: Buffer.from('odd') }),
    syn6,
    buildIcmpUnreachable({ original: syn, from: '10.0.0.1', code: 13 }),
    buildIcmpUnreachable({ original: syn6 }),
    buildArpRequest({ senderMac: '02:42:ac:11:00:01', senderIp: '172.17.0.1', targetIp: '172.17.5.20' }),
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
  const file = path.join(dir, 'frames.pcap');
  try {
    fs.writeFileSync(file, tinyPcap(frames));
    const r = spawnSync('tcpdump', ['-r', file, '-nn', '-v', '-e'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.doesNotMatch(out, /incorrect|bad cksum|wrong icmp cksum|bad icmp6 cksum/i, out);
    // 4 IPv4 TCP segments and the IPv6 one show "(correct)"; ICMPv6 shows "icmp6 sum ok".
    assert.equal(out.match(/cksum 0x[0-9a-f]+ \(correct\)/g)?.length, 5, out);
    assert.match(out, /icmp6 sum ok/, out);
    assert.match(out, /10\.0\.0\.1 > 10\.42\.7\.9: ICMP host 10\.0\.0\.10 unreachable - admin prohibited filter/, out);
    assert.match(out, /Request who-has 172\.17\.5\.20 tell 172\.17\.0\.1/, out);
    assert.match(out, /options \[mss 1460,sackOK,TS val 123456789 ecr 0,nop,wscale 7\]/, out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------
// Round trip through the project's decoders.
// ---------------------------------------------------------------------------

test('decoding the built frames gives back their fields', () => {
  const pkt = new DecodedPacket();
  const f = buildTcpFrame({ ...synV4, vlan: 42 });
  decodeFrame(1, f, 0, f.length, pkt);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.transport, Transport.TCP);
  assert.equal(pkt.ipVersion, 4);
  assert.equal(pkt.vlanCount, 1);
  assert.equal(pkt.vlanIds[0], 42);
  assert.equal(pkt.src[3], 0x0a2a0709);
  assert.equal(pkt.dst[3], 0x0a00000a);
  assert.equal(pkt.srcPort, 51234);
  assert.equal(pkt.dstPort, 443);
  assert.equal(pkt.seq, 0xdeadbeef);
  assert.equal(pkt.tcpFlags, SYN);
  assert.equal(pkt.window, 64240);
  assert.equal(pkt.ttl, 63);
  assert.equal(pkt.ipId, 0x1c46);
  assert.equal(pkt.tcpOptionsLength, 20);
  const opts = parseTcpOptions(f, pkt.tcpOptionsOffset, pkt.tcpOptionsLength);
  assert.deepEqual(
    { mss: opts.mss, ws: opts.windowScale, sack: opts.sackPermitted, tsVal: opts.tsVal, tsEcr: opts.tsEcr, malformed: opts.malformed },
    { mss: 1460, ws: 7, sack: true, tsVal: 123456789, tsEcr: 0, malformed: false },
  );
  assert.equal(pkt.payloadLength, 0);

  const f6 = buildTcpFrame({ ...synV4, src: '2001:db8:1::5', dst: '2001:db8::10', flags: ACK | PSH, seq: 7, ack: 9, payloadLength: 100 });
  decodeFrame(1, f6, 0, f6.length, pkt);
  assert.equal(pkt.problem, 0);
  assert.equal(pkt.ipVersion, 6);
  assert.deepEqual([...pkt.src], [0x20010db8, 0x00010000, 0, 5]);
  assert.equal(pkt.seq, 7);
  assert.equal(pkt.ack, 9);
  assert.equal(pkt.payloadLength, 100);

  const icmp = buildIcmpUnreachable({ original: f, from: '10.0.0.1' });
  decodeFrame(1, icmp, 0, icmp.length, pkt);
  assert.equal(pkt.icmpType, 3);
  assert.equal(pkt.icmpCode, 3);
  assert.equal(pkt.icmpQuotesTcp, true);
  assert.equal(pkt.quotedSrcPort, 51234);
  assert.equal(pkt.quotedSeq, 0xdeadbeef);

  const arp = buildArpRequest({ senderMac: '02:42:ac:11:00:01', senderIp: '172.17.0.1', targetIp: '172.17.5.20' });
  decodeFrame(1, arp, 0, arp.length, pkt);
  assert.equal(pkt.arpOp, 1);
  assert.equal(pkt.arpTargetIp, 0xac110514);
});
