import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileSink } from '../src/capture/byte-sink';
import { openCaptureFile } from '../src/capture/open';
import { PcapWriter } from '../src/capture/pcap-writer';
import { ROOT, findCaptures, makePackets } from './capture-helpers';

// pcap-parser (devDependency, no types) is the independent oracle: it reads classic
// microsecond pcap in both byte orders, version 2.4.
const pcapParser = require('pcap-parser') as { parse(input: string): EventEmitter };

interface OracleRecord {
  header: { timestampSeconds: number; timestampMicroseconds: number; capturedLength: number; originalLength: number };
  data: Buffer;
}

/** Records as pcap-parser sees them, or null when it refuses the file. */
function oracle(file: string): Promise<OracleRecord[] | null> {
  return new Promise((resolve) => {
    const records: OracleRecord[] = [];
    let failed = false;
    const parser = pcapParser.parse(file);
    parser.on('packet', (p: OracleRecord) => records.push({ header: { ...p.header }, data: Buffer.from(p.data) }));
    parser.on('error', () => {
      failed = true;
    });
    parser.on('end', () => resolve(failed ? null : records));
  });
}

/** Classic µs pcap files (either byte order): the ones pcap-parser claims to read. */
function isMicrosecondPcap(file: string): boolean {
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  try {
    if (fs.readSync(fd, head, 0, 4, 0) < 4) return false;
  } finally {
    fs.closeSync(fd);
  }
  const magic = head.toString('hex');
  return magic === 'a1b2c3d4' || magic === 'd4c3b2a1';
}

function writeGenerated(dir: string): string[] {
  const packets = makePackets(300, 3);
  return [false, true].map((bigEndian) => {
    const file = path.join(dir, `generated-${bigEndian ? 'be' : 'le'}.pcap`);
    const w = new PcapWriter(new FileSink(file), { linkType: 1, bigEndian });
    for (const p of packets) w.writePacket(p.bytes, p.tsSec, p.tsNsec, p.origLen);
    w.close();
    return file;
  });
}

test('pcap reader matches pcap-parser byte for byte on every classic µs pcap under test/fixtures and captures', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'synscope-diff-'));
  try {
    const files = [...findCaptures(path.join(ROOT, 'test', 'fixtures')), ...findCaptures(path.join(ROOT, 'captures')), ...writeGenerated(tmp)].filter(
      isMicrosecondPcap,
    );
    let compared = 0;
    const byteOrders = new Set<string>();
    for (const file of files) {
      const expected = await oracle(file);
      if (expected === null) continue;
      const reader = openCaptureFile(file);
      let i = 0;
      for (const r of reader) {
        const e: OracleRecord | undefined = expected[i];
        assert.ok(e, `${file}: reader yields more than pcap-parser's ${expected.length} records`);
        const where = `${file} record ${i}`;
        assert.equal(r.caplen, e.header.capturedLength, where);
        assert.equal(r.origLen, e.header.originalLength, where);
        assert.ok(r.data.subarray(r.offset, r.offset + r.caplen).equals(e.data), `${where}: bytes differ`);
        // The reader carries an out-of-range µs field into the seconds; the instant is the same.
        assert.equal(r.tsSec * 1e6 + r.tsNsec / 1000, e.header.timestampSeconds * 1e6 + e.header.timestampMicroseconds, where);
        i++;
      }
      assert.equal(i, expected.length, `${file}: record count`);
      byteOrders.add(fs.readFileSync(file).subarray(0, 1).toString('hex'));
      compared++;
    }
    t.diagnostic(`compared ${compared} files`);
    assert.ok(compared > 0, 'found no classic pcap files to compare');
    assert.ok(byteOrders.has('d4') && byteOrders.has('a1'), 'both byte orders compared');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
