import { ErrorCode, SynscopeError } from '../errors';
import type { ByteSink } from './byte-sink';

/** Options of a pcapng writer. */
export interface PcapngWriterOptions {
  /** Write big-endian sections instead of little-endian. */
  bigEndian?: boolean;
}

/** One Interface Description Block. */
export interface PcapngInterfaceOptions {
  /** LINKTYPE_* of the interface. */
  linkType: number;
  /** if_name, such as "eth0". */
  name?: string;
  /** if_description, free text such as the network namespace it was captured in. */
  description?: string;
  /** Largest caplen; 0 means no limit. Default 262144. */
  snaplen?: number;
  /** Timestamp unit of this interface's packets (if_tsresol 6 or 9). Default 'us'. */
  tsResolution?: 'us' | 'ns';
  /** if_filter: the capture filter, in libpcap's language. */
  filter?: string;
}

/** Counters of an Interface Statistics Block. */
export interface PcapngStatistics {
  /** isb_ifrecv: packets the interface received. */
  received?: number;
  /** isb_ifdrop: packets dropped by the interface or the capture. */
  dropped?: number;
}

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_ISB = 5;
const BLOCK_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FILTER = 11;
/** if_filter's first byte: the filter that follows is a libpcap filter string. */
const FILTER_LIBPCAP = 0;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;
const TWO_32 = 4294967296;

/**
 * Split `sec` seconds + `frac` units into the two 32-bit halves of a 64-bit
 * count of units, without ever forming a number above 2^53 (ns counts since
 * 1970 are around 2^60).
 */
function splitTimestamp(sec: number, frac: number, unitsPerSec: number, into: { hi: number; lo: number }): void {
  const secHigh = Math.floor(sec / 65536);
  const secLow = sec % 65536;
  const high = secHigh * unitsPerSec; // counts units of 2^16
  const rest = (high % 65536) * 65536 + secLow * unitsPerSec + frac;
  into.hi = Math.floor(high / 65536) + Math.floor(rest / TWO_32);
  into.lo = rest % TWO_32;
}

/** Options of a block as (code, bytes) pairs, padded to 32 bits, ending with opt_endofopt. */
function optionsLength(options: Array<[number, Uint8Array]>): number {
  if (options.length === 0) return 0;
  let n = 4;
  for (const [, value] of options) n += 4 + ((value.length + 3) & ~3);
  return n;
}

/**
 * Writes pcapng: a Section Header Block first, then IDBs, EPBs and ISBs.
 * Interface indices are per section, as in the file: `newSection()` starts
 * again at 0. `writePacket` reuses one block buffer and allocates nothing.
 */
export class PcapngWriter {
  private readonly little: boolean;
  /** One Enhanced Packet Block is assembled here, grown to the largest block written so far. */
  private epb = Buffer.alloc(32 + 512);
  private epbView = new DataView(this.epb.buffer, this.epb.byteOffset, this.epb.length);
  /** Units per second of each interface of the current section. */
  private units: number[] = [];
  /** The last converted timestamp, kept in a field so writePacket allocates nothing. */
  private readonly ts = { hi: 0, lo: 0 };
  private closed = false;

  constructor(private readonly out: ByteSink, options: PcapngWriterOptions = {}) {
    this.little = options.bigEndian !== true;
    this.writeSectionHeader();
  }

  /** Start a new section (a new SHB); interfaces must be added again. */
  newSection(): void {
    this.checkOpen();
    this.units = [];
    this.writeSectionHeader();
  }

  /** Write an Interface Description Block; returns its index in the current section. */
  addInterface(options: PcapngInterfaceOptions): number {
    this.checkOpen();
    const nanosecond = options.tsResolution === 'ns';
    const opts: Array<[number, Uint8Array]> = [];
    if (options.name !== undefined) opts.push([IF_NAME, Buffer.from(options.name, 'utf8')]);
    if (options.description !== undefined) opts.push([IF_DESCRIPTION, Buffer.from(options.description, 'utf8')]);
    if (nanosecond) opts.push([IF_TSRESOL, Uint8Array.of(9)]);
    if (options.filter !== undefined) opts.push([IF_FILTER, Buffer.concat([Uint8Array.of(FILTER_LIBPCAP), Buffer.from(options.filter, 'utf8')])]);
    const block = this.newBlock(BLOCK_IDB, 8, opts);
    block.view.setUint16(8, options.linkType, this.little);
    block.view.setUint32(12, options.snaplen ?? 262144, this.little);
    this.out.write(block.bytes);
    this.units.push(nanosecond ? 1e9 : 1e6);
    return this.units.length - 1;
  }

  /**
   * Write an Enhanced Packet Block, handed to the sink as one chunk so a sink that
   * flushes between chunks only ever puts whole blocks on disk. `origLen` defaults to
   * `bytes.length`.
   */
  writePacket(ifIndex: number, bytes: Uint8Array, tsSec: number, tsNsec: number, origLen: number = bytes.length): void {
    const units = this.unitsOf(ifIndex);
    this.timestamp(units, tsSec, tsNsec);
    const padded = (bytes.length + 3) & ~3;
    const total = 32 + padded;
    if (this.epb.length < total) this.growEpb(total);
    const v = this.epbView;
    const little = this.little;
    v.setUint32(0, BLOCK_EPB, little);
    v.setUint32(4, total, little);
    v.setUint32(8, ifIndex, little);
    v.setUint32(12, this.ts.hi, little);
    v.setUint32(16, this.ts.lo, little);
    v.setUint32(20, bytes.length, little);
    v.setUint32(24, origLen > bytes.length ? origLen : bytes.length, little);
    this.epb.set(bytes, 28);
    this.epb.fill(0, 28 + bytes.length, 28 + padded);
    v.setUint32(28 + padded, total, little);
    this.out.write(this.epb.subarray(0, total));
  }

  /**
   * Write an Interface Statistics Block with isb_ifrecv / isb_ifdrop, taken at tsSec.tsNsec;
   * with `startedAt`, also isb_starttime and isb_endtime (the capture ran from then to now).
   */
  writeStatistics(ifIndex: number, counters: PcapngStatistics, tsSec: number, tsNsec: number, startedAt?: { sec: number; nsec: number }): void {
    const units = this.unitsOf(ifIndex);
    const opts: Array<[number, Uint8Array]> = [];
    if (startedAt !== undefined) {
      opts.push([ISB_STARTTIME, this.timestampOption(units, startedAt.sec, startedAt.nsec)]);
      opts.push([ISB_ENDTIME, this.timestampOption(units, tsSec, tsNsec)]);
    }
    if (counters.received !== undefined) opts.push([ISB_IFRECV, this.u64(counters.received)]);
    if (counters.dropped !== undefined) opts.push([ISB_IFDROP, this.u64(counters.dropped)]);
    const block = this.newBlock(BLOCK_ISB, 12, opts);
    this.timestamp(units, tsSec, tsNsec);
    block.view.setUint32(8, ifIndex, this.little);
    block.view.setUint32(12, this.ts.hi, this.little);
    block.view.setUint32(16, this.ts.lo, this.little);
    this.out.write(block.bytes);
  }

  /** Put every block written so far on disk (whole blocks only). */
  flush(): void {
    if (!this.closed) this.out.flush?.();
  }

  /** Close the sink. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.close();
  }

  private writeSectionHeader(): void {
    const block = this.newBlock(BLOCK_SHB, 16, []);
    block.view.setUint32(8, BYTE_ORDER_MAGIC, this.little);
    block.view.setUint16(12, 1, this.little);
    block.view.setUint16(14, 0, this.little);
    // Section length -1: not known while streaming.
    block.view.setUint32(16, 0xffffffff, this.little);
    block.view.setUint32(20, 0xffffffff, this.little);
    this.out.write(block.bytes);
  }

  /** A zeroed block with type, both lengths and the options already filled in. */
  private newBlock(type: number, bodyLength: number, options: Array<[number, Uint8Array]>): { bytes: Buffer; view: DataView } {
    const total = 8 + bodyLength + optionsLength(options) + 4;
    const bytes = Buffer.alloc(total);
    const view = new DataView(bytes.buffer, bytes.byteOffset, total);
    view.setUint32(0, type, this.little);
    view.setUint32(4, total, this.little);
    let p = 8 + bodyLength;
    if (options.length > 0) {
      for (const [code, value] of options) {
        view.setUint16(p, code, this.little);
        view.setUint16(p + 2, value.length, this.little);
        bytes.set(value, p + 4);
        p += 4 + ((value.length + 3) & ~3);
      }
      view.setUint16(p, OPT_ENDOFOPT, this.little);
    }
    view.setUint32(total - 4, total, this.little);
    return { bytes, view };
  }

  private growEpb(total: number): void {
    this.epb = Buffer.alloc(Math.max(total, this.epb.length * 2));
    this.epbView = new DataView(this.epb.buffer, this.epb.byteOffset, this.epb.length);
  }

  private u64(value: number): Uint8Array {
    const bytes = Buffer.alloc(8);
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    const hi = Math.floor(value / TWO_32);
    const lo = value % TWO_32;
    view.setUint32(this.little ? 4 : 0, hi, this.little);
    view.setUint32(this.little ? 0 : 4, lo, this.little);
    return bytes;
  }

  /** A timestamp option: the upper and lower 32 bits as in a packet block, each in the section's byte order. */
  private timestampOption(units: number, tsSec: number, tsNsec: number): Uint8Array {
    this.timestamp(units, tsSec, tsNsec);
    const bytes = Buffer.alloc(8);
    const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
    view.setUint32(0, this.ts.hi, this.little);
    view.setUint32(4, this.ts.lo, this.little);
    return bytes;
  }

  private timestamp(units: number, tsSec: number, tsNsec: number): void {
    if (!Number.isSafeInteger(tsSec) || tsSec < 0 || tsNsec >>> 0 !== tsNsec || tsNsec >= 1e9) {
      throw new SynscopeError(ErrorCode.BAD_USAGE, `timestamp ${tsSec}.${tsNsec} does not fit a pcapng block`);
    }
    splitTimestamp(tsSec, units === 1e9 ? tsNsec : Math.floor(tsNsec / 1000), units, this.ts);
    if (this.ts.hi >= TWO_32) throw new SynscopeError(ErrorCode.BAD_USAGE, `timestamp ${tsSec} s does not fit 64 bits`);
  }

  private unitsOf(ifIndex: number): number {
    this.checkOpen();
    const units = this.units[ifIndex];
    if (units === undefined) throw new SynscopeError(ErrorCode.BAD_USAGE, `interface ${ifIndex} was not added in this section`);
    return units;
  }

  private checkOpen(): void {
    if (this.closed) throw new SynscopeError(ErrorCode.BAD_USAGE, 'pcapng writer is closed');
  }
}
