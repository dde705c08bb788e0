import type { Gunzip } from 'fflate';
import { ErrorCode, SynscopeError } from '../errors';
import type { ByteSource } from './byte-source';

/** Compressed bytes read per step: the decompressed output of one step stays a few MB at most. */
const COMPRESSED_STEP = 64 << 10;

/** True when the bytes start like a gzip member (RFC 1952: 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * A gzip-compressed capture (`capture.pcap.gz`, `tcpdump -w - | gzip`) read as the capture
 * inside it, streamed: compressed bytes are pulled from the inner source in small steps and
 * inflated by fflate's streaming Gunzip (Node's own zlib has no synchronous streaming
 * interface, and the readers pull synchronously). Concatenated members are one stream, as
 * gunzip reads them. A stream cut short ends the input where it was cut (the reader then
 * reports the cut-off record as for any truncated file); damaged data is ERR_BAD_GZIP with
 * the compressed offset.
 */
export class GunzipSource implements ByteSource {
  readonly size = null;
  private readonly pending: Uint8Array[] = [];
  private readonly gunzip: Gunzip;
  private readonly step = Buffer.allocUnsafe(COMPRESSED_STEP);
  private compressedRead = 0;
  private ended = false;
  /** The compressed stream ended before its last member did. */
  cutShort = false;

  constructor(
    private readonly inner: ByteSource,
    private readonly label: string,
    prefix: Uint8Array,
  ) {
    // Loaded here: fflate takes about 20 ms to load, and most captures are not compressed.
    const { Gunzip } = require('fflate') as typeof import('fflate');
    this.gunzip = new Gunzip((chunk) => {
      if (chunk.length > 0) this.pending.push(chunk);
    });
    this.push(prefix, false);
  }

  read(target: Buffer, offset: number, length: number): number {
    while (this.pending.length === 0 && !this.ended) this.pull();
    const head = this.pending[0];
    if (head === undefined) return 0;
    const n = Math.min(length, head.length);
    target.set(head.subarray(0, n), offset);
    if (n === head.length) this.pending.shift();
    else this.pending[0] = head.subarray(n);
    return n;
  }

  close(): void {
    this.inner.close();
  }

  private pull(): void {
    const n = this.inner.read(this.step, 0, COMPRESSED_STEP);
    if (n === 0) {
      this.ended = true;
      this.push(new Uint8Array(0), true);
      return;
    }
    this.push(this.step.subarray(0, n), false);
  }

  private push(bytes: Uint8Array, final: boolean): void {
    try {
      this.gunzip.push(bytes, final);
    } catch (e) {
      const message = (e as Error).message;
      if (final && /unexpected EOF/i.test(message)) {
        this.cutShort = true;
        return;
      }
      throw new SynscopeError(ErrorCode.BAD_GZIP, `gzip data is damaged between compressed bytes ${this.compressedRead} and ${this.compressedRead + bytes.length} (${message})`, { file: this.label, offset: this.compressedRead });
    } finally {
      this.compressedRead += bytes.length;
    }
  }
}
