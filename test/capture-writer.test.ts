import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSink, MemorySink } from '../src/capture/byte-sink';
import { PcapWriter } from '../src/capture/pcap-writer';
import { PcapngWriter } from '../src/capture/pcapng-writer';
import { keepsEveryTcpPacket } from '../src/capture/filter-scope';
import { analyzeFiles } from '../src/analysis';
import { ErrorCode, SynscopeError } from '../src/errors';
import { makePackets, openBytes, readAll } from './capture-helpers';

for (const bigEndian of [false, true]) {
  for (const nanosecond of [false, true]) {
    test(`PcapWriter header: ${bigEndian ? 'big' : 'little'}-endian, ${nanosecond ? 'ns' : 'µs'}`, () => {
      const sink = new MemorySink();
      new PcapWriter(sink, { linkType: 113, snaplen: 1500, nanosecond, bigEndian }).close();
      const file = sink.toBuffer();
      const le = !bigEndian;
      assert.equal(file.length, 24);
      const view = new DataView(file.buffer, file.byteOffset, file.length);
      assert.equal(view.getUint32(0, le), nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
      assert.deepEqual([view.getUint16(4, le), view.getUint16(6, le)], [2, 4]);
      assert.equal(view.getUint32(16, le), 1500);
      assert.equal(view.getUint32(20, le), 113);
    });
  }
}

test('PcapWriter writes one record header + data per packet and cuts at the snaplen', () => {
  const sink = new MemorySink();
  const w = new PcapWriter(sink, { linkType: 1, snaplen: 10 });
  const bytes = Buffer.from('00112233445566778899aabbccdd', 'hex');
  w.writePacket(bytes, 1234, 567_891_000, 60);
  w.close();
  const file = sink.toBuffer();
  assert.equal(file.length, 24 + 16 + 10);
  assert.equal(file.readUInt32LE(24), 1234);
  assert.equal(file.readUInt32LE(28), 567_891);
  assert.equal(file.readUInt32LE(32), 10);
  assert.equal(file.readUInt32LE(36), 60);
  assert.deepEqual(file.subarray(40), bytes.subarray(0, 10));
});

test('PcapWriter rejects times a pcap record cannot hold', () => {
  const w = new PcapWriter(new MemorySink(), { linkType: 1 });
  for (const [sec, nsec] of [[-1, 0], [2 ** 32, 0], [1, 1e9], [1.5, 0]]) {
    assert.throws(() => w.writePacket(Buffer.alloc(1), sec, nsec), (e: unknown) => e instanceof SynscopeError && e.code === ErrorCode.BAD_USAGE);
  }
});

test('MemorySink grows past its first buffer and toBuffer returns a copy', () => {
  const sink = new MemorySink();
  const chunk = Buffer.alloc(3000, 7);
  for (let i = 0; i < 5; i++) sink.write(chunk);
  const out = sink.toBuffer();
  assert.equal(out.length, 15000);
  assert.ok(out.every((b) => b === 7));
  out[0] = 1;
  assert.equal(sink.toBuffer()[0], 7);
});

test('FileSink writes exactly the bytes MemorySink collects (small and over-1-MiB chunks)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-sink-'));
  try {
    const file = path.join(dir, 'out.bin');
    const fileSink = new FileSink(file);
    const memory = new MemorySink();
    const chunks = [Buffer.from('abc'), Buffer.alloc(700_000, 1), Buffer.alloc(3_000_000, 2), Buffer.from('tail')];
    for (const c of chunks) {
      fileSink.write(c);
      memory.write(c);
    }
    fileSink.close();
    fileSink.close();
    assert.deepEqual(fs.readFileSync(file), memory.toBuffer());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('FileSink reports an uncreatable path as ERR_WRITE_FAILED, saying why', () => {
  assert.throws(() => new FileSink('/nonexistent-dir/x.pcap'), (e: unknown) => e instanceof SynscopeError && e.code === ErrorCode.WRITE_FAILED && /ENOENT \(the directory does not exist\)/.test(e.message));
});

test('PcapngWriter round-trips interfaces, packets, statistics and sections through the reader', () => {
  const packets = makePackets(20);
  const sink = new MemorySink();
  const w = new PcapngWriter(sink, { bigEndian: true });
  const eth = w.addInterface({ linkType: 1, name: 'eth0' });
  const br = w.addInterface({ linkType: 113, name: 'docker0', tsResolution: 'ns', filter: 'tcp or icmp or arp' });
  packets.forEach((p, i) => w.writePacket(i % 2 === 0 ? eth : br, p.bytes, p.tsSec, p.tsNsec, p.origLen));
  w.writeStatistics(br, { received: 10, dropped: 3 }, 1, 0);
  w.writeStatistics(eth, { received: 10 }, 1_700_000_100, 250_000, { sec: 1_700_000_000, nsec: 500_000_000 });
  w.newSection();
  const lo = w.addInterface({ linkType: 0, name: 'lo' });
  assert.equal(lo, 0, 'interface ids restart in a new section');
  w.writePacket(lo, packets[1].bytes, 5, 6000);
  w.writeStatistics(lo, { dropped: 4 }, 7, 0);
  w.close();

  const reader = openBytes(sink.toBuffer());
  const records = readAll(reader);
  assert.equal(records.length, packets.length + 1);
  packets.forEach((p, i) => {
    const r = records[i];
    assert.equal(r.bytes, p.bytes.toString('hex'));
    assert.equal(r.origLen, p.origLen);
    assert.equal(r.tsSec, p.tsSec);
    // eth0 keeps microseconds, docker0 nanoseconds.
    assert.equal(r.tsNsec, i % 2 === 0 ? Math.floor(p.tsNsec / 1000) * 1000 : p.tsNsec);
    assert.equal(reader.interfaces[r.interfaceIndex].name, i % 2 === 0 ? 'eth0' : 'docker0');
  });
  const last = records[packets.length];
  assert.deepEqual([last.tsSec, last.tsNsec, reader.interfaces[last.interfaceIndex].name], [5, 6000, 'lo']);
  assert.deepEqual(
    reader.interfaces.map((i) => [i.name, i.linkType, i.section, i.dropped]),
    [
      ['eth0', 1, 0, null],
      ['docker0', 113, 0, 3],
      ['lo', 0, 1, 4],
    ],
  );
  assert.equal(reader.droppedByCapture(), 7);
  assert.deepEqual(reader.interfaces.map((i) => i.filter ?? null), [null, 'tcp or icmp or arp', null], 'if_filter, written and read back');
  // isb_starttime / isb_endtime (eth0, microseconds, big-endian), and a statistics block's own time for docker0 and lo.
  assert.deepEqual(
    reader.interfaces.map((i) => [i.capturedFrom, i.capturedTo]),
    [
      [1_700_000_000.5, 1_700_000_100.00025],
      [1, 1],
      [7, 7],
    ],
  );
});

test('PcapngWriter keeps nanosecond times exact beyond 2^53 ns and past 2106', () => {
  const times: Array<[number, number]> = [
    [0, 0],
    [4294967295, 999_999_999],
    [4294967296, 1],
    [4323283200, 123_456_789],
    [17_000_000_000, 999_999_999],
  ];
  const sink = new MemorySink();
  const w = new PcapngWriter(sink);
  w.addInterface({ linkType: 1, tsResolution: 'ns' });
  for (const [s, ns] of times) w.writePacket(0, Buffer.alloc(4), s, ns);
  w.close();
  assert.deepEqual(
    readAll(openBytes(sink.toBuffer())).map((r) => [r.tsSec, r.tsNsec]),
    times,
  );
});

test('PcapngWriter refuses a packet for an interface not added in this section', () => {
  const w = new PcapngWriter(new MemorySink());
  w.addInterface({ linkType: 1 });
  w.newSection();
  assert.throws(() => w.writePacket(0, Buffer.alloc(1), 0, 0), (e: unknown) => e instanceof SynscopeError && e.code === ErrorCode.BAD_USAGE);
});

test('a capture filter keeps every TCP packet only with `tcp` among top-level `or` alternatives', () => {
  for (const f of ['', 'tcp or icmp or icmp6 or arp or (udp port 4789)', 'arp || tcp', '(tcp) or arp', 'not udp or tcp']) assert.equal(keepsEveryTcpPacket(f), true, f);
  // libpcap's and/or bind alike, left to right: `tcp or arp and host x` is `(tcp or arp) and host x`.
  for (const f of ['port 8080', 'tcp and host 10.0.0.5', 'tcp or arp and host 10.0.0.5', '(tcp or arp) and host 10.0.0.5', 'udp or (tcp and port 80)', 'tcp or arp and(host 10.0.0.5)', 'arp&&host 10.0.0.5 || tcp', 'ip proto tcp', 'vlan or tcp']) {
    assert.equal(keepsEveryTcpPacket(f), false, f);
  }
});

test('capture spans: one per interface over all files, statistics times far from the packets not believed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-spans-'));
  try {
    const write = (name: string, packetAt: number, startedAt: number, endAt: number) => {
      const sink = new FileSink(path.join(dir, name));
      const w = new PcapngWriter(sink);
      const eth = w.addInterface({ linkType: 1, name: 'eth0', tsResolution: 'ns' });
      const p = makePackets(1)[0]!;
      w.writePacket(eth, p.bytes, packetAt, 0, p.origLen);
      w.writeStatistics(eth, { received: 1 }, endAt, 0, { sec: startedAt, nsec: 0 });
      w.close();
      return path.join(dir, name);
    };
    const T = 1_700_000_000;
    const a = write('a.pcapng', T + 10, T, T + 20);
    const b = write('b.pcapng', T + 100, T + 90, T + 130);
    assert.deepEqual(analyzeFiles([a, b]).captureSpans, [{ interface: 'eth0', from: T, to: T + 130 }]);
    // dumpcap's statistics times in microseconds on a nanosecond interface read as 1970: left out.
    const wrongUnits = write('c.pcapng', T + 10, Math.floor(T / 1000), Math.floor((T + 20) / 1000));
    assert.deepEqual(analyzeFiles([wrongUnits]).captureSpans, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
