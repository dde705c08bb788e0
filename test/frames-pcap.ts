import * as fs from 'node:fs';

/** One Ethernet frame of a generated capture, at `at` seconds. */
export interface Frame {
  data: Buffer;
  at: number;
  /** Bytes kept (the rest cut by the snap length). */
  caplen?: number;
}

/** A classic pcap (µs, of LINKTYPE linkType: Ethernet unless said) of the frames, in their order. */
export function writeFramesPcap(file: string, frames: readonly Frame[], linkType = 1): void {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [head];
  for (const f of frames) {
    const h = Buffer.alloc(16);
    const caplen = Math.min(f.caplen ?? f.data.length, f.data.length);
    h.writeUInt32LE(Math.floor(f.at), 0);
    h.writeUInt32LE(Math.round((f.at % 1) * 1e6), 4);
    h.writeUInt32LE(caplen, 8);
    h.writeUInt32LE(f.data.length, 12);
    parts.push(h, f.data.subarray(0, caplen));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}
