import type { NativeCaptureHandle, NativeCaptureStats } from '../native/addon';

/**
 * Receives one packet. `data` is the batch buffer: the bytes at `offset` are valid only
 * until the next `poll()`; copy `data.subarray(offset, offset + caplen)` to keep them.
 */
export type CapturedPacketCallback = (data: Buffer, offset: number, caplen: number, origLen: number, tsSec: number, tsNsec: number) => void;

/** u32 tsSec, u32 tsNsec, u32 caplen, u32 origLen, as native/src/capture.c writes them. */
const RECORD_HEADER_BYTES = 16;

/**
 * One poll moves up to ~45k small packets; measured on 2 cores, draining a full ring runs
 * at ~9M packets/s, so a 2-5 ms timer is never the bottleneck.
 */
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * A native libpcap handle read in batches: each `poll()` is one call into C that copies
 * every waiting packet into one reused Buffer, then walks it without allocating.
 * Owns the handle: `close()` closes it.
 */
export class NativeCapture {
  private readonly batch: Buffer;

  constructor(
    private readonly handle: NativeCaptureHandle,
    batchBytes = DEFAULT_BATCH_BYTES,
  ) {
    this.batch = Buffer.allocUnsafe(batchBytes);
  }

  /** LINKTYPE_* of the interface. */
  get linkType(): number {
    return this.handle.linkType;
  }

  /** Whether timestamps have nanosecond precision (tsNsec is nanoseconds either way). */
  get nanosecond(): boolean {
    return this.handle.nanosecond;
  }

  get snaplen(): number {
    return this.handle.snaplen;
  }

  /**
   * Hand every packet waiting now (up to one batch) to `onPacket`, in capture order, and
   * return how many there were. Packets that did not fit wait in the kernel for the
   * next poll.
   */
  poll(onPacket: CapturedPacketCallback): number {
    const batch = this.batch;
    const end = this.handle.dispatch(batch);
    let offset = 0;
    let packets = 0;
    while (offset < end) {
      const tsSec = batch.readUInt32LE(offset);
      const tsNsec = batch.readUInt32LE(offset + 4);
      const caplen = batch.readUInt32LE(offset + 8);
      const origLen = batch.readUInt32LE(offset + 12);
      onPacket(batch, offset + RECORD_HEADER_BYTES, caplen, origLen, tsSec, tsNsec);
      offset += RECORD_HEADER_BYTES + ((caplen + 3) & ~3);
      packets++;
    }
    return packets;
  }

  stats(): NativeCaptureStats {
    return this.handle.stats();
  }

  /** Safe to call twice. */
  close(): void {
    this.handle.close();
  }
}
