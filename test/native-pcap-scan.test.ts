import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateWithMeta } from '../bench/generate';
import { analyzeFiles, type Analysis, type AnalyzeOptions } from '../src/analysis';
import { NativeFlowTracker } from '../src/flow/native-tracker';
import { SynscopeError } from '../src/errors';
import { tempDir } from './temp-dir';

/**
 * A single classic pcap file is read, not only tracked, in C (NativeFlowTracker.scanPcap):
 * every header variant PcapReader knows, records cut by the snap length or by the file's
 * end, and a bad record length must give the analysis (or the error) that reading it in
 * JavaScript gives. Needs the built addon.
 */

interface Record {
  sec: number;
  frac: number;
  caplen: number;
  origLen: number;
  data: Buffer;
}

/** The records of a little-endian microsecond pcap. */
function parsePcap(bytes: Buffer): { linkType: number; records: Record[] } {
  const records: Record[] = [];
  for (let p = 24; p + 16 <= bytes.length; ) {
    const caplen = bytes.readUInt32LE(p + 8);
    records.push({ sec: bytes.readUInt32LE(p), frac: bytes.readUInt32LE(p + 4), caplen, origLen: bytes.readUInt32LE(p + 12), data: bytes.subarray(p + 16, p + 16 + caplen) });
    p += 16 + caplen;
  }
  return { linkType: bytes.readUInt32LE(20), records };
}

interface Variant {
  bigEndian?: boolean;
  nanosecond?: boolean;
  /** Version minor: below 3 the lengths are stored swapped; 3 swaps them only where caplen > len. */
  minor?: number;
  snaplen?: number;
  /** Every n-th record's fraction one second too big (carried into the seconds). */
  overflowEvery?: number;
  /** Every record says it was 100 bytes longer on the wire. */
  claimSnapped?: boolean;
}

function writePcap(linkType: number, records: readonly Record[], v: Variant): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  const u32 = (b: Buffer, at: number, x: number) => (v.bigEndian ? b.writeUInt32BE(x >>> 0, at) : b.writeUInt32LE(x >>> 0, at));
  const u16 = (b: Buffer, at: number, x: number) => (v.bigEndian ? b.writeUInt16BE(x, at) : b.writeUInt16LE(x, at));
  u32(head, 0, v.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
  u16(head, 4, 2);
  u16(head, 6, v.minor ?? 4);
  u32(head, 16, v.snaplen ?? 262144);
  u32(head, 20, linkType);
  parts.push(head);
  records.forEach((r, i) => {
    const h = Buffer.alloc(16);
    let frac = v.nanosecond ? r.frac * 1000 : r.frac;
    let sec = r.sec;
    if (v.overflowEvery !== undefined && i % v.overflowEvery === 0 && sec > 0) {
      frac += v.nanosecond ? 1e9 : 1e6;
      sec -= 1;
    }
    u32(h, 0, sec);
    u32(h, 4, frac);
    const origLen = v.claimSnapped === true ? r.origLen + 100 : r.origLen;
    // A 2.3 file may hold either order (libpcap swaps where caplen > len): every other record swapped.
    const swapped = (v.minor ?? 4) < 3 || (v.minor === 3 && i % 2 === 1);
    u32(h, 8, swapped ? origLen : r.caplen);
    u32(h, 12, swapped ? r.caplen : origLen);
    parts.push(h, r.data);
  });
  return Buffer.concat(parts);
}

/** Analyses as compared: JSON, with Maps and Sets as their entries. */
function comparable(a: Analysis): unknown {
  return JSON.parse(JSON.stringify(a, (_k, v: unknown) => (v instanceof Map ? [...v.entries()] : v instanceof Set ? [...v] : v)));
}

/** The file analyzed with its records read in C, and in JavaScript (both tracked in C); with how many scans ran. */
function both(file: string, options: AnalyzeOptions = {}): { scanned: Analysis | SynscopeError; read: Analysis | SynscopeError; scans: number } {
  const run = () => {
    try {
      return analyzeFiles([file], { ...options, nativeTracker: true });
    } catch (e) {
      if (e instanceof SynscopeError) return e;
      throw e;
    }
  };
  const original = NativeFlowTracker.prototype.scanPcap;
  let scans = 0;
  NativeFlowTracker.prototype.scanPcap = function (...args) {
    scans++;
    return original.apply(this, args);
  };
  let scanned: Analysis | SynscopeError;
  try {
    scanned = run();
  } finally {
    NativeFlowTracker.prototype.scanPcap = original;
  }
  process.env.SYNSCOPE_NATIVE_SCAN = '0';
  try {
    return { scanned, read: run(), scans };
  } finally {
    delete process.env.SYNSCOPE_NATIVE_SCAN;
  }
}

function assertSame(file: string, label: string, options: AnalyzeOptions = {}): Analysis | SynscopeError {
  const { scanned, read, scans } = both(file, options);
  assert.equal(scans, 1, `${label}: read in C`);
  if (read instanceof SynscopeError || scanned instanceof SynscopeError) {
    assert.ok(read instanceof SynscopeError && scanned instanceof SynscopeError, `${label}: ${String(scanned)} against ${String(read)}`);
    assert.deepEqual({ ...scanned, message: scanned.message }, { ...read, message: read.message }, label);
    return scanned;
  }
  assert.deepEqual(comparable(scanned), comparable(read), label);
  return scanned;
}

const dir = tempDir('synscope-native-scan-');
// 30,000 packets of about 8 MB: batches end on the record count and on a full buffer, and records straddle reads.
const generated = { out: path.join(dir, 'generated.pcap') };
generateWithMeta({ packets: 30000, out: generated.out, seed: 5 });
const base = parsePcap(fs.readFileSync(generated.out));

test('every pcap header variant reads the same in C as in JavaScript', () => {
  const variants: [string, Variant][] = [
    ['little-endian µs', {}],
    ['big-endian µs', { bigEndian: true }],
    ['little-endian ns', { nanosecond: true }],
    ['big-endian ns', { bigEndian: true, nanosecond: true }],
    ['2.2, lengths swapped', { minor: 2 }],
    ['2.3, lengths maybe swapped', { minor: 3, bigEndian: true, claimSnapped: true }],
    ['records snapped', { claimSnapped: true }],
    ['snaplen 60 under longer records', { snaplen: 60 }],
    ['fractions out of range', { overflowEvery: 7 }],
    ['ns fractions out of range', { nanosecond: true, overflowEvery: 5 }],
  ];
  for (const [label, v] of variants) {
    const file = path.join(dir, 'variant.pcap');
    fs.writeFileSync(file, writePcap(base.linkType, base.records, v));
    const a = assertSame(file, label) as Analysis;
    assert.equal(a.summary.packets, base.records.length, label);
    assert.ok(a.summary.handshakes.attempted > 1000, `${label}: ${a.summary.handshakes.attempted} attempts`);
  }
});

test('a file cut anywhere in its last record, or in a record header, reads the same in C', () => {
  const whole = writePcap(base.linkType, base.records, {});
  const lastStart = whole.length - 16 - base.records[base.records.length - 1]!.caplen;
  const file = path.join(dir, 'cut.pcap');
  for (const cut of [whole.length, whole.length - 1, lastStart + 17, lastStart + 16, lastStart + 5, lastStart, 24 + 3, 24]) {
    fs.writeFileSync(file, whole.subarray(0, cut));
    const a = assertSame(file, `cut at ${cut}`) as Analysis;
    const truncated = cut !== whole.length && cut !== lastStart && cut !== 24;
    assert.equal(a.inputs[0]!.truncatedAt !== null, truncated, `cut at ${cut}: ${JSON.stringify(a.inputs[0])}`);
  }
});

test('a record longer than the format allows stops the scan with the reader\'s error: file, offset and record', () => {
  const whole = writePcap(base.linkType, base.records, {});
  for (const record of [0, 4095, 4096, 20000]) {
    let at = 24;
    for (let i = 0; i < record; i++) at += 16 + base.records[i]!.caplen;
    const bad = Buffer.from(whole);
    bad.writeUInt32LE(262145, at + 8);
    const file = path.join(dir, 'bad.pcap');
    fs.writeFileSync(file, bad);
    const e = assertSame(file, `bad caplen at record ${record}`);
    assert.ok(e instanceof SynscopeError);
    assert.equal(e.offset, at);
    assert.equal(e.record, record);
  }
});

test('progress is reported while C reads, with packets and bytes growing to the whole file', () => {
  const seen: { packets: number; bytesRead: number }[] = [];
  const many = parsePcap(fs.readFileSync(generated.out)).records;
  // Above 2^18 packets, where analyze reports progress.
  const records = Array.from({ length: 300000 }, (_, i) => many[i % many.length]!);
  const file = path.join(dir, 'many.pcap');
  fs.writeFileSync(file, writePcap(base.linkType, records, {}));
  const a = analyzeFiles([file], { onProgress: (p) => seen.push({ packets: p.packets, bytesRead: p.bytesRead }) });
  assert.equal(a.summary.packets, 300000);
  assert.ok(seen.length >= 1, 'progress reported');
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.packets > seen[i - 1]!.packets && seen[i]!.bytesRead > seen[i - 1]!.bytesRead);
  assert.ok(seen[0]!.packets >= 262144 && seen[0]!.bytesRead < fs.statSync(file).size);
});

test('a cooked v2 file (-i any: an interface index per record, some cut before it, some sent by the host) reads the same in C', () => {
  const records = base.records.map((r, i) => {
    // Interfaces by address pair, so that most flows stay on one; every 50th frame sent by the host.
    const ifindex = 2 + (r.data[29]! % 3);
    const data = Buffer.concat([sll2Header(r.data.readUInt16BE(12), ifindex, i % 50 === 0 ? 4 : 0), r.data.subarray(14)]);
    return { ...r, caplen: r.caplen + 6, origLen: r.origLen + 6, data };
  });
  const cut = (i: number) => (records[i] = { ...records[i]!, caplen: 12, data: records[i]!.data.subarray(0, 12) });
  // Records cut inside their cooked header keep the file's name.
  cut(700);
  cut(9000);
  const file = path.join(dir, 'sll2.pcap');
  fs.writeFileSync(file, writePcap(276, records, {}));
  const a = assertSame(file, 'cooked v2') as Analysis;
  assert.ok(a.interfaceNames.length >= 4, a.interfaceNames.join(' '));
  fs.writeFileSync(file, writePcap(276, records, { snaplen: 40 }));
  assertSame(file, 'cooked v2 under a snaplen of 40');
  // A first record cut before its index names the file's interface for every record after it.
  cut(0);
  fs.writeFileSync(file, writePcap(276, records, {}));
  assertSame(file, 'cooked v2, the first record cut');
});

test('analyze -f and several files are read in JavaScript', () => {
  const original = NativeFlowTracker.prototype.scanPcap;
  let scans = 0;
  NativeFlowTracker.prototype.scanPcap = function (...args) {
    scans++;
    return original.apply(this, args);
  };
  try {
    analyzeFiles([generated.out], { filter: 'tcp port 5432' });
    analyzeFiles([generated.out, generated.out]);
    assert.equal(scans, 0);
    analyzeFiles([generated.out]);
    assert.equal(scans, 1);
  } finally {
    NativeFlowTracker.prototype.scanPcap = original;
  }
});

/** A LINKTYPE_LINUX_SLL2 header: protocol, interface index, packet type (0 to us, 4 sent by us), Ethernet, a 6-byte address. */
function sll2Header(protocol: number, ifindex: number, packetType: number): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8);
  h[10] = packetType;
  h[11] = 6;
  h.writeUIntBE(0x02420a000001 + ifindex, 12, 6);
  return h;
}

test('mutated and cut pcap files read the same in C as in JavaScript: the same analysis or the same error', () => {
  const small = writePcap(base.linkType, base.records.slice(0, 300), {});
  const file = path.join(dir, 'mutated.pcap');
  let seed = 7;
  const random = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let errors = 0;
  for (let run = 0; run < 150; run++) {
    const bytes = Buffer.from(small);
    // Flips in record headers (lengths, times) and frames, then sometimes a cut.
    for (let flips = 1 + random(6); flips > 0; flips--) {
      const at = 24 + random(bytes.length - 24);
      bytes[at] = bytes[at]! ^ (1 << random(8));
    }
    if (random(3) === 0) bytes.writeUInt32LE(random(2) === 0 ? 262145 + random(1000) : random(70000), 24 + 8);
    const cut = random(2) === 0 ? bytes.subarray(0, 24 + random(bytes.length - 24)) : bytes;
    fs.writeFileSync(file, cut);
    if (assertSame(file, `mutation ${run}`) instanceof SynscopeError) errors++;
  }
  assert.ok(errors > 10 && errors < 140, `${errors} of 150 mutations end in an error`);
});
