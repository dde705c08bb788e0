import { ErrorCode, SynscopeError } from '../errors';
import type { ByteSink } from './byte-sink';

/** Options of a classic pcap file header. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet in the file. */
  linkType: number;
  /** Largest caplen; longer packets are cut to it. Default 262144 (tcpdump's). */
  snaplen?: number;
  /** Write the nanosecond magic (a1b23c4d) instead of the microsecond one. */
  nanosecond?: boolean;
  /** Write big-endian headers instead of little-endian. */
  bigEndian?: boolean;
}

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const DEFAULT_SNAPLEN = 262144;

/**
 * Writes a classic pcap file (version 2.4). `writePacket` reuses one 16-byte
 * record header, so writing millions of packets allocates nothing.
 */
export class PcapWriter {
  private readonly header = Buffer.alloc(16);
  private readonly view = new DataView(this.header.buffer, this.header.byteOffset, 16);
  private readonly little: boolean;
  private readonly nanosecond: boolean;
  private readonly snaplen: number;
  private closed = false;

  constructor(private readonly out: ByteSink, options: PcapWriterOptions) {
    this.little = options.bigEndian !== true;
    this.nanosecond = options.nanosecond === true;
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    const file = Buffer.alloc(24);
    const v = new DataView(file.buffer, file.byteOffset, 24);
    v.setUint32(0, this.nanosecond ? PCAP_MAGIC_NS : PCAP_MAGIC_US, this.little);
    v.setUint16(4, 2, this.little);
    v.setUint16(6, 4, this.little);
    v.setUint32(16, this.snaplen, this.little);
    v.setUint32(20, options.linkType, this.little);
    out.write(file);
  }

  /**
   * Append one packet. `tsNsec` is nanoseconds within the second (cut to
   * microseconds in a microsecond file); `origLen` defaults to `bytes.length`.
   */
  writePacket(bytes: Uint8Array, tsSec: number, tsNsec: number, origLen: number = bytes.length): void {
    if (this.closed) throw new SynscopeError(ErrorCode.BAD_USAGE, 'pcap writer is closed');
    if (tsSec >>> 0 !== tsSec || tsNsec >>> 0 !== tsNsec || tsNsec >= 1e9) {
      throw new SynscopeError(ErrorCode.BAD_USAGE, `timestamp ${tsSec}.${tsNsec} does not fit a pcap record`);
    }
    const caplen = bytes.length < this.snaplen ? bytes.length : this.snaplen;
    const v = this.view;
    v.setUint32(0, tsSec, this.little);
    v.setUint32(4, this.nanosecond ? tsNsec : Math.floor(tsNsec / 1000), this.little);
    v.setUint32(8, caplen, this.little);
    v.setUint32(12, origLen > caplen ? origLen : caplen, this.little);
    this.out.write(this.header);
    this.out.write(caplen === bytes.length ? bytes : bytes.subarray(0, caplen));
  }

  /** Close the sink. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
  }
}
