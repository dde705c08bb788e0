import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemorySink } from '../src/capture/byte-sink';
import { BufferSource } from '../src/capture/byte-source';
import { ByteWindow } from '../src/capture/byte-window';
import { openCaptureFile } from '../src/capture/open';
import { PcapngReader } from '../src/capture/pcapng-reader';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import { ErrorCode, SynscopeError } from '../src/errors';
import { CORPUS, findCaptures, makePackets, openBytes, readAll } from './capture-helpers';

/** One pcapng block: type, total length, body padded to 32 bits, trailing length. */
function block(type: number, body: Buffer, little = true): Buffer {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const out = Buffer.alloc(total);
  const put = (v: number, at: number): number => (little ? out.writeUInt32LE(v, at) : out.writeUInt32BE(v, at));
  put(type, 0);
  put(total, 4);
  body.copy(out, 8);
  put(total, total - 4);
  return out;
}

function u32s(values: number[], little = true): Buffer {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => (little ? out.writeUInt32LE(v >>> 0, i * 4) : out.writeUInt32BE(v >>> 0, i * 4)));
  return out;
}

function option(code: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16LE(code, 0);
  head.writeUInt16LE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(((value.length + 3) & ~3) - value.length)]);
}

const SHB = block(0x0a0d0d0a, Buffer.concat([u32s([0x1a2b3c4d, 0x00000001]), Buffer.alloc(8, 0xff)]));

function idb(linkType: number, snaplen: number, options: Buffer[] = []): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(linkType, 0);
  head.writeUInt32LE(snaplen, 4);
  return block(1, Buffer.concat([head, ...options, ...(options.length ? [Buffer.alloc(4)] : [])]));
}

function epb(ifId: number, hi: number, lo: number, data: Buffer, origLen = data.length): Buffer {
  return block(6, Buffer.concat([u32s([ifId, hi, lo, data.length, origLen]), data]));
}

function isCode(code: string, offset?: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SynscopeError, `expected SynscopeError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (offset !== undefined) assert.equal(e.offset, offset);
    return true;
  };
}

const packets = makePackets(120, 7);

function writePcapng(bigEndian: boolean, tsResolution: 'us' | 'ns'): Buffer {
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { bigEndian });
  w.addInterface({ linkType: 1, name: 'eth0', tsResolution });
  w.addInterface({ linkType: 113, name: 'any', tsResolution });
  packets.forEach((p, i) => w.writePacket(i % 3 === 0 ? 1 : 0, p.bytes, p.tsSec, p.tsNsec, p.origLen));
  w.close();
  return sink.toBuffer();
}

for (const bigEndian of [false, true]) {
  for (const res of ['us', 'ns'] as const) {
    const name = `${bigEndian ? 'big' : 'little'}-endian ${res}`;
    test(`pcapng ${name}: same packets, bytes, times and interface names as written`, () => {
      const reader = openBytes(writePcapng(bigEndian, res));
      assert.equal(reader.format, 'pcapng');
      const records = readAll(reader);
      assert.equal(records.length, packets.length);
      records.forEach((r, i) => {
        const p = packets[i];
        assert.equal(r.bytes, p.bytes.toString('hex'));
        assert.equal(r.origLen, p.origLen);
        assert.equal(r.tsSec, p.tsSec);
        assert.equal(r.tsNsec, res === 'ns' ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000);
        assert.equal(reader.interfaces[r.interfaceIndex].name, i % 3 === 0 ? 'any' : 'eth0');
        assert.equal(r.linkType, i % 3 === 0 ? 113 : 1);
      });
      assert.equal(reader.droppedByCapture(), null);
    });

    test(`pcapng ${name}: fed one byte at a time gives the same records`, () => {
      const file = writePcapng(bigEndian, res);
      assert.deepEqual(readAll(openBytes(file, 1)), readAll(openBytes(file)));
    });
  }
}

test('pcapng: both byte orders of one capture read identically', () => {
  const le = readAll(openBytes(writePcapng(false, 'ns')));
  const be = readAll(openBytes(writePcapng(true, 'ns')));
  assert.deepEqual(be.map((r) => ({ ...r, fileOffset: 0 })), le.map((r) => ({ ...r, fileOffset: 0 })));
});

test('pcapng corpus: multi-section files (MANIFEST counts, sections, ISB drops, le == be)', () => {
  const le202 = openCaptureFile(path.join(CORPUS, 'pcapng-test-generator/le_difficult_test202.pcapng'));
  const be202 = openCaptureFile(path.join(CORPUS, 'pcapng-test-generator/be_difficult_test202.pcapng'));
  const le = readAll(le202);
  const be = readAll(be202);
  assert.equal(le.length, 8);
  assert.deepEqual(be, le);
  assert.equal(le.filter((r) => r.caplen < r.origLen).length, 6);
  assert.deepEqual(le202.interfaces, be202.interfaces);
  // The block sequence puts 2 IDBs in section 0, 1 in section 1 and 2 in section 2.
  assert.deepEqual(le202.interfaces.map((i) => i.section), [0, 0, 1, 2, 2]);
  for (const r of le) assert.ok(r.interfaceIndex < le202.interfaces.length);

  const be201 = openCaptureFile(path.join(CORPUS, 'pcapng-test-generator/be_difficult_test201.pcapng'));
  const records201 = readAll(be201);
  assert.equal(records201.length, 4);
  assert.equal(records201.filter((r) => r.caplen < r.origLen).length, 3);
  const reported = be201.interfaces.filter((i) => i.dropped !== null);
  assert.ok(reported.length > 0, 'ISBs with isb_ifdrop');
  assert.equal(be201.droppedByCapture(), reported.reduce((s, i) => s + (i.dropped ?? 0), 0));

  const empty = openCaptureFile(path.join(CORPUS, 'pcapng-test-generator/le_difficult_test200.pcapng'));
  assert.equal(readAll(empty).length, 0);
  assert.deepEqual(empty.interfaces.map((i) => i.section), [0, 1, 2]);
});

test('pcapng corpus: SPB files and other block types (MANIFEST counts)', () => {
  const expected: Array<[string, number]> = [
    ['pcapng-test-generator/le_basic_test001.pcapng', 4],
    ['pcapng-test-generator/be_basic_test001.pcapng', 4],
    ['pcapng-test-generator/le_basic_test002.pcapng', 0],
    ['pcapng-test-generator/le_basic_test005.pcapng', 4],
    ['pcapng-test-generator/le_basic_test006.pcapng', 5],
    ['pcapng-test-generator/le_basic_test010.pcapng', 4],
    ['pcapng-test-generator/le_basic_test012.pcapng', 4],
    ['pcapng-test-generator/le_basic_test016.pcapng', 4],
    ['pcapng-test-generator/le_basic_test018.pcapng', 4],
    ['tcpdump/empty.pcapng', 0],
  ];
  for (const [file, count] of expected) assert.equal(readAll(openCaptureFile(path.join(CORPUS, file))).length, count, file);
  // test012: "IDB snaplen bigger than some, less than others": SPB caplen never exceeds it.
  const spb = openCaptureFile(path.join(CORPUS, 'pcapng-test-generator/le_basic_test012.pcapng'));
  const records = readAll(spb);
  assert.equal(records.filter((r) => r.caplen < r.origLen).length, 2);
});

test('pcapng corpus: nanosecond file times equal the µs file times (wireshark dhcp)', () => {
  const us = readAll(openCaptureFile(path.join(CORPUS, 'wireshark/dhcp.pcapng')));
  const ns = readAll(openCaptureFile(path.join(CORPUS, 'wireshark/dhcp-nanosecond.pcapng')));
  const pcap = readAll(openCaptureFile(path.join(CORPUS, 'wireshark/dhcp.pcap')));
  assert.equal(us.length, 4);
  const view = (rs: typeof us) => rs.map((r) => [r.tsSec, r.tsNsec, r.bytes, r.origLen]);
  assert.deepEqual(view(ns), view(us));
  assert.deepEqual(view(us), view(pcap));
});

test('pcapng corpus: 64-bit timestamps past 2106 (tcpdump time_2106_overflow, time_2107)', () => {
  const [a] = readAll(openCaptureFile(path.join(CORPUS, 'tcpdump/time_2106_overflow.pcapng')));
  assert.deepEqual([a.tsSec, a.tsNsec], [2 ** 32, 0]);
  const [b] = readAll(openCaptureFile(path.join(CORPUS, 'tcpdump/time_2107.pcapng')));
  assert.deepEqual([b.tsSec, b.tsNsec], [Date.UTC(2107, 0, 1) / 1000, 0]);
});

test('pcapng corpus: every pcapng file reads the same fed one byte at a time', () => {
  const files = findCaptures(CORPUS, /\.pcapng$/);
  assert.ok(files.length >= 15);
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    assert.deepEqual(readAll(openBytes(bytes, 1)), readAll(openBytes(bytes)), f);
  }
});

test('pcapng: if_tsresol (10^-n, 2^-n) and if_tsoffset convert exactly', () => {
  const hi = 0x12345;
  const lo = 0x6789abcd;
  const units = BigInt(hi) * 2n ** 32n + BigInt(lo);
  const cases: Array<[number, bigint]> = [
    [3, 1000n],
    [6, 1000000n],
    [9, 1000000000n],
    [12, 10n ** 12n],
    [0x80 | 10, 1024n],
    [0x80 | 30, 2n ** 30n],
  ];
  for (const [tsresol, perSecond] of cases) {
    const file = Buffer.concat([
      SHB,
      idb(1, 0, [option(9, Buffer.from([tsresol])), option(14, u32s([100, 0]))]),
      epb(0, hi, lo, Buffer.alloc(1)),
    ]);
    const [r] = readAll(openBytes(file));
    assert.equal(r.tsSec, Number(units / perSecond) + 100, `tsresol ${tsresol}`);
    assert.equal(r.tsNsec, Number(((units % perSecond) * 1000000000n) / perSecond), `tsresol ${tsresol}`);
  }
});

test('pcapng: SPB takes interface 0, caplen = min(orig len, snaplen, block space); OPB is read', () => {
  const data = Buffer.alloc(40, 0xee);
  const spbBody = (origLen: number) => Buffer.concat([u32s([origLen]), data]);
  const opb = block(2, Buffer.concat([Buffer.from([0, 0, 0, 0]), u32s([0, 1_000_000, 40, 60]), data]));
  const file = Buffer.concat([SHB, idb(1, 30), block(3, spbBody(40)), block(3, spbBody(25)), idb(1, 0), block(3, spbBody(99)), opb]);
  const reader = openBytes(file);
  const records = readAll(reader);
  assert.deepEqual(
    records.map((r) => [r.caplen, r.origLen, r.interfaceIndex]),
    [
      [30, 40, 0],
      [25, 25, 0],
      [30, 99, 0],
      [40, 60, 0],
    ],
  );
  // OPB time 1,000,000 µs units = exactly one second.
  assert.deepEqual([records[3].tsSec, records[3].tsNsec], [1, 0]);
});

test('pcapng: block length errors have codes and offsets', () => {
  const pkt = epb(0, 0, 0, Buffer.alloc(8));
  const start = SHB.length + idb(1, 0).length;
  const withBlock = (b: Buffer) => Buffer.concat([SHB, idb(1, 0), b]);

  const tooShort = Buffer.from(pkt);
  tooShort.writeUInt32LE(8, 4);
  assert.throws(() => readAll(openBytes(withBlock(tooShort))), isCode(ErrorCode.BAD_RECORD_LENGTH, start));

  const misaligned = Buffer.from(pkt);
  misaligned.writeUInt32LE(pkt.length + 2, 4);
  assert.throws(() => readAll(openBytes(withBlock(Buffer.concat([misaligned, Buffer.alloc(8)])))), isCode(ErrorCode.BAD_RECORD_LENGTH, start));

  const mismatch = Buffer.from(pkt);
  mismatch.writeUInt32LE(pkt.length + 4, pkt.length - 4);
  assert.throws(() => readAll(openBytes(withBlock(mismatch))), isCode(ErrorCode.BLOCK_LENGTH_MISMATCH, start));

  const bigCaplen = Buffer.from(pkt);
  bigCaplen.writeUInt32LE(9, 20);
  assert.throws(() => readAll(openBytes(withBlock(bigCaplen))), isCode(ErrorCode.BAD_RECORD_LENGTH, start));

  assert.throws(() => readAll(openBytes(withBlock(epb(1, 0, 0, Buffer.alloc(4))))), isCode(ErrorCode.UNKNOWN_INTERFACE, start));
  assert.throws(() => readAll(openBytes(Buffer.concat([SHB, epb(0, 0, 0, Buffer.alloc(4))]))), isCode(ErrorCode.UNKNOWN_INTERFACE, SHB.length));
});

test('pcapng: section header errors (version, byte-order magic, missing SHB, short file)', () => {
  const v2 = Buffer.from(SHB);
  v2.writeUInt16LE(2, 12);
  assert.throws(() => openBytes(v2), isCode(ErrorCode.BAD_VERSION, 0));
  const badBom = Buffer.from(SHB);
  badBom.writeUInt32LE(0x11111111, 8);
  assert.throws(() => openBytes(badBom), isCode(ErrorCode.BAD_MAGIC, 0));
  assert.throws(
    () => new PcapngReader(new ByteWindow(new BufferSource(Buffer.concat([idb(1, 0), SHB])), 'x'), 'x'),
    isCode(ErrorCode.MISSING_SECTION_HEADER, 0),
  );
  assert.throws(() => openBytes(SHB.subarray(0, 10)), isCode(ErrorCode.TRUNCATED_HEADER, 0));
  assert.throws(() => openBytes(SHB.subarray(0, 20)), isCode(ErrorCode.TRUNCATED_HEADER, 0));
});

test('pcapng: a file cut anywhere inside its last block yields the packets before and sets truncatedAt', () => {
  const whole = writePcapng(true, 'ns');
  const full = readAll(openBytes(whole));
  const lastStart = full[full.length - 1].fileOffset;
  for (let cut = lastStart; cut <= whole.length; cut++) {
    const reader = openBytes(whole.subarray(0, cut), cut % 2 === 0 ? 1 : undefined);
    const records = readAll(reader);
    if (cut === whole.length) {
      assert.equal(records.length, full.length);
      assert.equal(reader.stats.truncatedAt, null);
    } else {
      assert.deepEqual(records, full.slice(0, -1), `cut at ${cut}`);
      assert.equal(reader.stats.truncatedAt, cut === lastStart ? null : lastStart, `cut at ${cut}`);
    }
  }
});

test('stored synthetic fixtures: pcap and pcapng, both byte orders, agree packet for packet', () => {
  const dir = path.join(CORPUS, '..', 'capture');
  const expected = makePackets(12, 11);
  for (const res of ['us', 'ns']) {
    for (const order of ['le', 'be']) {
      for (const ext of ['pcap', 'pcapng']) {
        const reader = openCaptureFile(path.join(dir, `synthetic-${order}-${res}.${ext}`));
        const records = readAll(reader);
        assert.deepEqual(
          records.map((r) => [r.bytes, r.origLen, r.tsSec, r.tsNsec]),
          expected.map((p) => [p.bytes.toString('hex'), p.origLen, p.tsSec, res === 'ns' ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000]),
          `${order}-${res}.${ext}`,
        );
        if (ext === 'pcapng') {
          assert.deepEqual(records.map((r) => reader.interfaces[r.interfaceIndex].name), expected.map((_, i) => (i % 2 ? 'docker_gwbridge' : 'eth0')));
          assert.equal(reader.droppedByCapture(), 2);
        }
      }
    }
  }
});
