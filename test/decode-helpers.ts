import assert from 'node:assert/strict';
import { decodeFrame } from '../src/decode/dispatch';
import { DecodedPacket } from '../src/decode/packet';
import { problemName } from '../src/decode/problems';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Root of the shared third-party capture corpus. */
export const CORPUS = '/work/shared/corpus';

/** Path of a corpus file, e.g. corpus('zeek/q-in-q.pcap'). */
export function corpus(name: string): string {
  return join(CORPUS, name);
}

/** Bytes from hex text; whitespace, "0x" prefixes and `#` comments are ignored. */
export function hex(text: string): Buffer {
  const clean = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').replace(/0x[0-9a-f]{4}:/gi, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`bad hex fixture: ${clean}`);
  return Buffer.from(clean, 'hex');
}

/** One classic-pcap record, copied out of the file. */
export interface TestFrame {
  readonly linkType: number;
  readonly data: Buffer;
}

/**
 * Reads every record of a classic pcap file (either byte order, micro or nano).
 * A deliberately tiny walk so the decoder tests do not depend on src/capture/.
 */
export function readPcapFrames(path: string): TestFrame[] {
  const file = readFileSync(path);
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`${path}: not a classic pcap file`);
  const u32 = (o: number): number => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const frames: TestFrame[] = [];
  for (let o = 24; o + 16 <= file.length; ) {
    const caplen = u32(o + 8);
    if (o + 16 + caplen > file.length) break;
    frames.push({ linkType, data: Buffer.from(file.subarray(o + 16, o + 16 + caplen)) });
    o += 16 + caplen;
  }
  return frames;
}

/** Decodes `frame[0, end)` into a fresh DecodedPacket. */
export function decode(linkType: number, frame: Buffer, end = frame.length): DecodedPacket {
  const pkt = new DecodedPacket();
  decodeFrame(linkType, frame, 0, end, pkt);
  return pkt;
}

/**
 * Cuts the frame at every length in `[from, to)` and checks that decoding reports
 * `expected(cut)` as the problem, instead of throwing or reading past the cut.
 */
export function assertProblemAtEveryCut(
  linkType: number,
  frame: Buffer,
  from: number,
  to: number,
  expected: (cut: number) => number,
): void {
  for (let cut = from; cut < to; cut++) {
    const pkt = decode(linkType, frame, cut);
    assert.equal(problemName(pkt.problem), problemName(expected(cut)), `cut at ${cut} bytes`);
    assert.ok(pkt.cursor <= cut && pkt.end <= cut, `cursor/end within ${cut}`);
  }
}
