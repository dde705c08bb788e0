import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemorySink } from '../src/capture/byte-sink';
import { BufferSource } from '../src/capture/byte-source';
import { openCapture, openCaptureFile } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';
import { ErrorCode, SynscopeError } from '../src/errors';
import { CORPUS, makePackets, openBytes, readAll } from './capture-helpers';
import type { TestPacket } from './capture-helpers';

function writePcap(packets: TestPacket[], options: { nanosecond?: boolean; bigEndian?: boolean; snaplen?: number }): Buffer {
  const sink = new MemorySink();
  const w = new PcapWriter(sink, { linkType: 1, ...options });
  for (const p of packets) w.writePacket(p.bytes, p.tsSec, p.tsNsec, p.origLen);
  w.close();
  return sink.toBuffer();
}

function isCode(code: string, place: { offset?: number; record?: number } = {}) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof SynscopeError, `expected SynscopeError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (place.offset !== undefined) assert.equal(e.offset, place.offset);
    if (place.record !== undefined) assert.equal(e.record, place.record);
    return true;
  };
}

const packets = makePackets(200);

for (const bigEndian of [false, true]) {
  for (const nanosecond of [false, true]) {
    const name = `${bigEndian ? 'big' : 'little'}-endian ${nanosecond ? 'ns' : 'µs'}`;
    test(`pcap ${name}: same packets, bytes and times as written`, () => {
      const reader = openBytes(writePcap(packets, { bigEndian, nanosecond }));
      assert.equal(reader.format, 'pcap');
      const records = readAll(reader);
      assert.equal(records.length, packets.length);
      records.forEach((r, i) => {
        const p = packets[i];
        assert.equal(r.bytes, p.bytes.toString('hex'));
        assert.equal(r.caplen, p.bytes.length);
        assert.equal(r.origLen, p.origLen);
        assert.equal(r.tsSec, p.tsSec);
        assert.equal(r.tsNsec, nanosecond ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000);
        assert.equal(r.linkType, 1);
      });
      assert.equal(reader.stats.packets, packets.length);
      assert.equal(reader.stats.snapped, packets.filter((p) => p.origLen > p.bytes.length).length);
      assert.equal(reader.stats.truncatedAt, null);
    });

    test(`pcap ${name}: fed one byte at a time gives the same records`, () => {
      const file = writePcap(packets.slice(0, 40), { bigEndian, nanosecond });
      assert.deepEqual(readAll(openBytes(file, 1)), readAll(openBytes(file)));
    });
  }
}

test('pcap: both byte orders of one capture read identically', () => {
  const le = readAll(openBytes(writePcap(packets, { nanosecond: true })));
  const be = readAll(openBytes(writePcap(packets, { nanosecond: true, bigEndian: true })));
  assert.deepEqual(be, le);
});

test('pcap: records are zero-copy views and the record and iterator result are reused', () => {
  const file = writePcap(packets.slice(0, 5), {});
  const reader = openBytes(file);
  const it = reader[Symbol.iterator]();
  const first = it.next();
  const record = first.value;
  const buffer = record.data;
  const second = it.next();
  assert.equal(second, first, 'iterator result object is reused');
  assert.equal(second.value, record, 'record object is reused');
  assert.equal(second.value.data, buffer, 'data points into the same window buffer');
  assert.deepEqual(record.data.subarray(record.offset, record.offset + record.caplen), packets[1].bytes);
  assert.equal(record.fileOffset, 24 + 16 + packets[0].bytes.length);
});

test('pcap corpus: nanosecond file has the µs file\'s packets and times (wireshark dhcp)', () => {
  const us = readAll(openCaptureFile(path.join(CORPUS, 'wireshark/dhcp.pcap')));
  const ns = readAll(openCaptureFile(path.join(CORPUS, 'wireshark/dhcp-nanosecond.pcap')));
  assert.equal(us.length, 4);
  assert.deepEqual(ns, us);
  // Upstream oracle test/baseline/ff-ts-usec-pcap-direct.txt (quoted in MANIFEST.md).
  assert.deepEqual(
    us.map((r) => `${r.tsSec}.${String(r.tsNsec).padStart(9, '0')}`),
    ['1102274184.317453000', '1102274184.317748000', '1102274184.387484000', '1102274184.387798000'],
  );
});

test('pcap corpus: record counts from MANIFEST.md, both byte orders and ns precision', () => {
  const expected: Array<[string, number, number]> = [
    ['tcpdump/pptp.pcap', 23, 1], // big-endian
    ['tcpdump/isup.pcap', 6, 1], // big-endian
    ['tcpdump/tcp-handshake-nano.pcap', 3, 113],
    ['tcpdump/quic_handshake_truncated.pcap', 18, 0],
    ['tcpdump/bigtcp-ipv4.pcap', 1, 1],
    ['tcpdump/unsupported-link-type-dbus.pcap', 2, 231],
    ['tcpdump/empty.pcap', 0, 1],
    ['zeek/pop3__pop3.pcap', 125, 1],
    ['zeek/ssh__ssh.pcap', 1797, 1],
  ];
  for (const [file, count, linkType] of expected) {
    const reader = openCaptureFile(path.join(CORPUS, file));
    assert.equal(readAll(reader).length, count, file);
    assert.equal(reader.interfaces[0].linkType, linkType, file);
    assert.equal(reader.stats.truncatedAt, null, file);
  }
  const quic = openCaptureFile(path.join(CORPUS, 'tcpdump/quic_handshake_truncated.pcap'));
  readAll(quic);
  assert.equal(quic.stats.snapped, 4, 'MANIFEST: 4 of 18 records have caplen < len');
  const nano = readAll(openCaptureFile(path.join(CORPUS, 'tcpdump/tcp-handshake-nano.pcap')));
  // tcpdump tests/tcp-handshake-nano.out prints 17:16:09.924505488 for the first packet.
  assert.equal(nano[0].tsNsec, 924_505_488);
  assert.equal(nano[0].tsSec % 60, 9);
});

test('pcap corpus: link type field with upper bits set is masked like libpcap (heapoverflow-tcp_print)', () => {
  const reader = openCaptureFile(path.join(CORPUS, 'tcpdump/heapoverflow-tcp_print.pcap'));
  const records = readAll(reader);
  assert.equal(fs.readFileSync(path.join(CORPUS, 'tcpdump/heapoverflow-tcp_print.pcap')).readUInt32LE(20), 0x30000001);
  assert.equal(reader.interfaces[0].linkType, 1);
  assert.deepEqual([records.length, records[0].caplen, records[0].origLen, records[0].linkType], [1, 64, 262144, 1]);
});

test('pcap corpus: out-of-range fractions carry into the seconds and stay within 0..1e9-1', () => {
  for (const name of ['timestamp_invalid_micro.pcap', 'timestamp_invalid_nano.pcap']) {
    const file = fs.readFileSync(path.join(CORPUS, 'tcpdump', name));
    const nano = file.readUInt32LE(0) === 0xa1b23c4d;
    const records = readAll(openBytes(file));
    assert.equal(records.length, 3);
    for (const r of records) {
      const rawSec = file.readUInt32LE(r.fileOffset);
      const rawFrac = file.readUInt32LE(r.fileOffset + 4);
      const unit = nano ? 1e9 : 1e6;
      assert.ok(r.tsNsec >= 0 && r.tsNsec < 1e9);
      assert.equal(r.tsSec, rawSec + Math.floor(rawFrac / unit), name);
      assert.equal(r.tsNsec, (rawFrac % unit) * (nano ? 1 : 1000), name);
    }
  }
});

test('pcap: caplen above the snaplen but sane is cut to the snaplen and the next record stays aligned (libpcap)', () => {
  const two = [packets[5], packets[6]].map((p) => ({ ...p, bytes: Buffer.alloc(150, 0x5a), origLen: 150 }));
  const file = writePcap(two, {});
  file.writeUInt32LE(100, 16); // header snaplen 100 after the fact
  const records = readAll(openBytes(file));
  assert.deepEqual(records.map((r) => [r.caplen, r.origLen]), [[100, 150], [100, 150]]);
  assert.equal(records[1].fileOffset, 24 + 16 + 150);
});

test('pcap: absurd caplen is ERR_BAD_RECORD_LENGTH with file, offset and record index', () => {
  const file = writePcap(packets.slice(0, 3), {});
  const third = 24 + 16 + packets[0].bytes.length + 16 + packets[1].bytes.length;
  file.writeUInt32LE(262145, third + 8);
  const reader = openCapture(new BufferSource(file), 'bad.pcap');
  assert.ok(reader.next());
  assert.ok(reader.next());
  assert.throws(() => reader.next(), (e: unknown) => isCode(ErrorCode.BAD_RECORD_LENGTH, { offset: third, record: 2 })(e) && (e as SynscopeError).file === 'bad.pcap');
});

test('pcap: header errors have codes (magic, version, short header, empty file)', () => {
  const good = writePcap([], {});
  const badVersion = Buffer.from(good);
  badVersion.writeUInt16LE(3, 4);
  assert.throws(() => openBytes(badVersion), isCode(ErrorCode.BAD_VERSION));
  const badMagic = Buffer.from(good);
  badMagic.writeUInt32LE(0x12345678, 0);
  assert.throws(() => openBytes(badMagic), isCode(ErrorCode.BAD_MAGIC, { offset: 0 }));
  assert.throws(() => openBytes(good.subarray(0, 20)), isCode(ErrorCode.TRUNCATED_HEADER));
  assert.throws(() => openBytes(good.subarray(0, 2)), isCode(ErrorCode.TRUNCATED_HEADER));
  assert.throws(() => openBytes(Buffer.alloc(0)), isCode(ErrorCode.TRUNCATED_HEADER, { offset: 0 }));
});

test('pcap: versions before 2.3 store caplen and len swapped (libpcap lengths_swapped)', () => {
  const p = { bytes: Buffer.alloc(20, 1), tsSec: 1, tsNsec: 0, origLen: 80 };
  const file = writePcap([p], {});
  file.writeUInt16LE(2, 6); // version 2.2
  file.writeUInt32LE(80, 24 + 8); // caplen slot holds len
  file.writeUInt32LE(20, 24 + 12);
  const [r] = readAll(openBytes(file));
  assert.deepEqual([r.caplen, r.origLen], [20, 80]);
});

test('pcap: a file cut anywhere inside its last record yields the records before and sets truncatedAt', () => {
  const some = packets.slice(0, 4);
  const file = writePcap(some, {});
  const full = readAll(openBytes(file));
  const lastStart = full[full.length - 1].fileOffset;
  for (let cut = lastStart; cut <= file.length; cut++) {
    for (const step of [undefined, 7]) {
      const reader = openBytes(file.subarray(0, cut), step);
      const records = readAll(reader);
      if (cut === file.length) {
        assert.equal(records.length, some.length);
        assert.equal(reader.stats.truncatedAt, null);
      } else {
        assert.deepEqual(records, full.slice(0, -1), `cut at ${cut}`);
        assert.equal(reader.stats.truncatedAt, cut === lastStart ? null : lastStart, `cut at ${cut}`);
      }
      assert.equal(reader.stats.bytesRead, cut);
      assert.equal(reader.next(), null, 'stays at the end');
    }
  }
});
