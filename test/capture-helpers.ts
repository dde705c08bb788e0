import * as fs from 'node:fs';
import * as path from 'node:path';
import { BufferSource } from '../src/capture/byte-source';
import { openCapture } from '../src/capture/open';
import type { CaptureReader } from '../src/capture/record';

/** Repository root (tests run from dist/test). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const CORPUS = path.join(ROOT, 'test', 'fixtures', 'corpus');

/** A packet record copied out of the reader's buffer, so it can be compared later. */
export interface CopiedRecord {
  bytes: string;
  caplen: number;
  origLen: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceIndex: number;
  fileOffset: number;
}

/** Everything a reader yields, copied. */
export function readAll(reader: CaptureReader): CopiedRecord[] {
  const out: CopiedRecord[] = [];
  for (const r of reader) {
    out.push({
      bytes: r.data.toString('hex', r.offset, r.offset + r.caplen),
      caplen: r.caplen,
      origLen: r.origLen,
      tsSec: r.tsSec,
      tsNsec: r.tsNsec,
      linkType: r.linkType,
      interfaceIndex: r.interfaceIndex,
      fileOffset: r.fileOffset,
    });
  }
  return out;
}

/** Open in-memory bytes, handing them to the reader `step` bytes at a time. */
export function openBytes(bytes: Uint8Array, step?: number, label = 'memory'): CaptureReader {
  return openCapture(new BufferSource(bytes, step), label);
}

/** Every .pcap/.pcapng file under `dir`, recursively, sorted; [] when `dir` does not exist. */
export function findCaptures(dir: string, pattern = /\.(pcap|pcapng)$/): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findCaptures(full, pattern));
    else if (pattern.test(entry.name)) out.push(full);
  }
  return out.sort();
}

/** One synthetic packet: bytes of varied length and content, and a time. */
export interface TestPacket {
  bytes: Buffer;
  tsSec: number;
  tsNsec: number;
  origLen: number;
}

/** `n` deterministic packets: lengths 0..~1500 (some snapped), times with every nanosecond digit used. */
export function makePackets(n: number, seed = 1): TestPacket[] {
  let x = seed;
  const rand = (): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  const packets: TestPacket[] = [];
  for (let i = 0; i < n; i++) {
    const length = i === 0 ? 0 : rand() % 1515;
    const bytes = Buffer.alloc(length);
    for (let j = 0; j < length; j++) bytes[j] = rand() & 0xff;
    const snapped = i % 7 === 3;
    packets.push({ bytes, tsSec: 1_600_000_000 + (rand() % 100_000), tsNsec: rand() % 1_000_000_000, origLen: length + (snapped ? 100 : 0) });
  }
  return packets;
}
