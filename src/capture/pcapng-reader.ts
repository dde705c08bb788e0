import { ErrorCode, SynscopeError } from '../errors';
import type { ByteWindow } from './byte-window';
import { newPacketRecord } from './record';
import type { CaptureInterface, CaptureReader, PacketRecord, ReaderStats } from './record';
import { recordIterator } from './record-iterator';

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_OPB = 2; // obsolete Packet Block
const BLOCK_SPB = 3;
const BLOCK_ISB = 5;
const BLOCK_EPB = 6;
const END_OF_FILE = -1;

/** Smallest legal total length of a block of this type. */
function minLength(type: number): number {
  switch (type) {
    case BLOCK_EPB:
    case BLOCK_OPB:
      return 32;
    case BLOCK_SHB:
      return 28;
    case BLOCK_ISB:
      return 24;
    case BLOCK_IDB:
      return 20;
    case BLOCK_SPB:
      return 16;
    default:
      return 12;
  }
}

const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_FILTER = 11;
const IF_TSOFFSET = 14;
const ISB_STARTTIME = 2;
const ISB_ENDTIME = 3;
const ISB_IFDROP = 5;
const TWO_32 = 4294967296;
/** Finest resolutions libpcap accepts (sf-pcapng.c): 10^-19 and 2^-63 seconds. */
const MAX_DECIMAL_EXPONENT = 19;
const MAX_BINARY_EXPONENT = 63;
/** An if_tsoffset beyond this many seconds (year 9999) puts every packet outside any printable time. */
const MAX_TSOFFSET_SECONDS = 253402300800;

/**
 * How one interface's 64-bit timestamps become seconds + nanoseconds.
 * Decimal resolutions from 10^-4 to 10^-9 (µs and ns among them) use exact
 * 16-bit long division in doubles; anything else goes through BigInt.
 */
interface Clock {
  /** Units per second for the fast path, or 0 to use `bigUnits`. */
  divisor: number;
  /** Nanoseconds per unit on the fast path. */
  nsPerUnit: number;
  bigUnits: bigint;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
}

/** A 64-bit option value; exact up to 2^53. */
function u64(view: DataView, p: number, little: boolean): number {
  return little ? view.getUint32(p + 4, true) * TWO_32 + view.getUint32(p, true) : view.getUint32(p, false) * TWO_32 + view.getUint32(p + 4, false);
}

/**
 * x mod d for integers 0 <= x < 2^53, d > 0. A float division plus one
 * correction step, because `%` on doubles outside int32 is a slow fmod call.
 */
function mod(x: number, d: number): number {
  const r = x - Math.floor(x / d) * d;
  return r < 0 ? r + d : r >= d ? r - d : r;
}

function clockFor(tsresol: number, offsetSec: number): Clock {
  const binary = (tsresol & 0x80) !== 0;
  const exponent = tsresol & 0x7f;
  if (!binary && exponent >= 4 && exponent <= 9) {
    return { divisor: 10 ** exponent, nsPerUnit: 10 ** (9 - exponent), bigUnits: 0n, offsetSec };
  }
  return { divisor: 0, nsPerUnit: 0, bigUnits: binary ? 1n << BigInt(exponent) : 10n ** BigInt(exponent), offsetSec };
}

/**
 * Reads pcapng (RFC draft "PCAP Next Generation"): any number of sections in
 * either byte order, IDBs with if_name/if_tsresol/if_tsoffset, EPB, SPB, the
 * obsolete OPB and ISB drop counters; other block types are skipped. Interfaces
 * accumulate across sections; a packet's `interfaceIndex` points into
 * `interfaces`. Records point into the window buffer: zero copies.
 */
export class PcapngReader implements CaptureReader {
  readonly format = 'pcapng' as const;
  readonly interfaces: CaptureInterface[] = [];
  readonly stats: ReaderStats = { packets: 0, bytesRead: 0, truncatedAt: null, snapped: 0 };
  private readonly record = newPacketRecord();
  private readonly clocks: Clock[] = [];
  /** Section-local interface id -> index in `interfaces`. */
  private sectionInterfaces: number[] = [];
  private section = -1;
  private little = true;
  private blockLength = 0;
  private blockIndex = 0;
  private done = false;

  /** Reads the first Section Header Block; throws when it is missing or short. */
  constructor(private readonly window: ByteWindow, readonly source: string) {
    const start = window.position;
    if (!window.ensure(12)) {
      throw new SynscopeError(ErrorCode.TRUNCATED_HEADER, 'pcapng file is shorter than a section header', { file: source, offset: start });
    }
    if (window.view.getUint32(window.pos, true) !== BLOCK_SHB) {
      throw new SynscopeError(ErrorCode.MISSING_SECTION_HEADER, 'pcapng file does not start with a section header block', { file: source, offset: start });
    }
    if (this.loadBlock() === END_OF_FILE) {
      throw new SynscopeError(ErrorCode.TRUNCATED_HEADER, 'pcapng section header block is cut off', { file: source, offset: start });
    }
    this.readSectionHeader();
    this.endBlock();
  }

  next(): PacketRecord | null {
    if (this.done) return null;
    for (;;) {
      const type = this.loadBlock();
      switch (type) {
        case END_OF_FILE:
          return this.finish();
        case BLOCK_EPB:
          return this.readPacket(this.window.view.getUint32(this.window.pos + 8, this.little));
        case BLOCK_OPB:
          return this.readPacket(this.window.view.getUint16(this.window.pos + 8, this.little));
        case BLOCK_SPB:
          return this.readSimplePacket();
        case BLOCK_SHB:
          this.readSectionHeader();
          break;
        case BLOCK_IDB:
          this.readInterface();
          break;
        case BLOCK_ISB:
          this.readStatistics();
          break;
        default:
          break; // NRB, DSB, custom and unknown blocks carry nothing we use
      }
      this.endBlock();
    }
  }

  droppedByCapture(): number | null {
    let total: number | null = null;
    for (const iface of this.interfaces) {
      if (iface.dropped !== null) total = (total ?? 0) + iface.dropped;
    }
    return total;
  }

  onBeforeBufferReuse(listener: () => void): void {
    this.window.beforeMove = listener;
  }

  close(): void {
    this.done = true;
    this.window.source.close();
  }

  [Symbol.iterator](): Iterator<PacketRecord> {
    return recordIterator(this);
  }

  /**
   * Make the whole next block available at `window.pos` and check its lengths;
   * returns its type, or END_OF_FILE when the file ends (cleanly or mid-block).
   */
  private loadBlock(): number {
    const w = this.window;
    if (w.end - w.pos < 8 && !w.ensure(8)) return END_OF_FILE;
    const type = this.window.view.getUint32(w.pos, this.little);
    if (type === BLOCK_SHB) {
      // The section's byte order is only known from the byte-order magic.
      if (!w.ensure(12)) return END_OF_FILE;
      const magic = this.window.view.getUint32(w.pos + 8, true);
      if (magic === 0x1a2b3c4d) this.little = true;
      else if (magic === 0x4d3c2b1a) this.little = false;
      else throw this.error(ErrorCode.BAD_MAGIC, `bad byte-order magic 0x${magic.toString(16)} in section header`);
    }
    const length = this.window.view.getUint32(w.pos + 4, this.little);
    if (length < minLength(type) || (length & 3) !== 0) {
      throw this.error(ErrorCode.BAD_RECORD_LENGTH, `block type 0x${type.toString(16)} has impossible length ${length}`);
    }
    if (w.end - w.pos < length && !w.ensure(length)) return END_OF_FILE;
    const trailing = this.window.view.getUint32(w.pos + length - 4, this.little);
    if (trailing !== length) {
      throw this.error(ErrorCode.BLOCK_LENGTH_MISMATCH, `block length ${length} but trailing length ${trailing}`);
    }
    this.blockLength = length;
    return type;
  }

  private endBlock(): void {
    const w = this.window;
    w.pos += this.blockLength;
    this.blockIndex++;
    this.stats.bytesRead = w.base + w.pos;
  }

  private readSectionHeader(): void {
    const major = this.window.view.getUint16(this.window.pos + 12, this.little);
    const minor = this.window.view.getUint16(this.window.pos + 14, this.little);
    if (major !== 1) throw this.error(ErrorCode.BAD_VERSION, `unsupported pcapng version ${major}.${minor}`);
    this.section++;
    this.sectionInterfaces = [];
  }

  private readInterface(): void {
    const buf = this.window.buf;
    const p = this.window.pos;
    const little = this.little;
    let name: string | null = null;
    let filter: string | undefined;
    let tsresol = 6;
    let offsetSec = 0;
    const end = p + this.blockLength - 4;
    for (let o = p + 16; o + 4 <= end; ) {
      const code = this.window.view.getUint16(o, little);
      const length = this.window.view.getUint16(o + 2, little);
      const value = o + 4;
      if (code === 0 || value + length > end) break;
      if (code === IF_NAME) name = buf.toString('utf8', value, value + length).replace(/\0+$/, '');
      else if (code === IF_TSRESOL && length >= 1) tsresol = buf[value];
      // A libpcap filter string (type 0); a BPF program (type 1) says nothing readable.
      else if (code === IF_FILTER && length >= 1 && buf[value] === 0) filter = buf.toString('utf8', value + 1, value + length).replace(/\0+$/, '');
      else if (code === IF_TSOFFSET && length >= 8) {
        const hi = little ? buf.readInt32LE(value + 4) : buf.readInt32BE(value);
        offsetSec = hi * TWO_32 + this.window.view.getUint32(little ? value : value + 4, little);
      }
      o = value + ((length + 3) & ~3);
    }
    this.checkClock(tsresol, offsetSec);
    this.sectionInterfaces.push(this.interfaces.length);
    this.interfaces.push({
      name,
      linkType: this.window.view.getUint16(p + 8, little),
      snaplen: this.window.view.getUint32(p + 12, little),
      section: this.section,
      dropped: null,
      ...(filter !== undefined && { filter }),
    });
    this.clocks.push(clockFor(tsresol, offsetSec));
  }

  /** Refuse what libpcap refuses (tcpdump: "if_tsresol option resolution 10^-127 is too high"), and offsets no clock can mean. */
  private checkClock(tsresol: number, offsetSec: number): void {
    const local = this.sectionInterfaces.length;
    const binary = (tsresol & 0x80) !== 0;
    const exponent = tsresol & 0x7f;
    if (exponent > (binary ? MAX_BINARY_EXPONENT : MAX_DECIMAL_EXPONENT)) {
      const unit = binary ? `2^-${exponent}` : `10^-${exponent}`;
      throw this.error(
        ErrorCode.BAD_TIME_OPTION,
        `interface ${local}: if_tsresol 0x${tsresol.toString(16).padStart(2, '0')} (${unit} s) is finer than any capture clock (at most 10^-19 or 2^-63 s)`,
      );
    }
    if (Math.abs(offsetSec) >= MAX_TSOFFSET_SECONDS) {
      throw this.error(ErrorCode.BAD_TIME_OPTION, `interface ${local}: if_tsoffset ${offsetSec} s is beyond year 9999`);
    }
  }

  private readStatistics(): void {
    const p = this.window.pos;
    const little = this.little;
    const view = this.window.view;
    const iface = this.interfaceOf(view.getUint32(p + 8, little));
    const info = this.interfaces[iface];
    // The statistics were taken while the capture ran: their time bounds it too.
    this.noteCaptured(info, this.timeAt(iface, view.getUint32(p + 12, little), view.getUint32(p + 16, little)));
    const end = p + this.blockLength - 4;
    for (let o = p + 20; o + 4 <= end; ) {
      const code = view.getUint16(o, little);
      const length = view.getUint16(o + 2, little);
      const value = o + 4;
      if (code === 0 || value + length > end) break;
      if (code === ISB_IFDROP && length >= 8) info.dropped = u64(view, value, little);
      else if ((code === ISB_STARTTIME || code === ISB_ENDTIME) && length >= 8) this.noteCaptured(info, this.timeAt(iface, view.getUint32(value, little), view.getUint32(value + 4, little)));
      o = value + ((length + 3) & ~3);
    }
  }

  private noteCaptured(info: CaptureInterface, at: number): void {
    if (info.capturedFrom === undefined || at < info.capturedFrom) info.capturedFrom = at;
    if (info.capturedTo === undefined || at > info.capturedTo) info.capturedTo = at;
  }

  /** A timestamp of the interface's clock in seconds (the record's time is left as it was). */
  private timeAt(iface: number, hi: number, lo: number): number {
    const { tsSec, tsNsec } = this.record;
    this.setTime(iface, hi, lo);
    const at = this.record.tsSec + this.record.tsNsec * 1e-9;
    this.record.tsSec = tsSec;
    this.record.tsNsec = tsNsec;
    return at;
  }

  /** EPB and OPB: the same layout after the interface id. */
  private readPacket(localInterface: number): PacketRecord {
    const w = this.window;
    const buf = w.buf;
    const p = w.pos;
    const little = this.little;
    const iface = this.interfaceOf(localInterface);
    const caplen = this.window.view.getUint32(p + 20, little);
    if (caplen > this.blockLength - 32) {
      throw this.error(ErrorCode.BAD_RECORD_LENGTH, `packet caplen ${caplen} does not fit its ${this.blockLength}-byte block`);
    }
    const rec = this.record;
    this.setTime(iface, this.window.view.getUint32(p + 12, little), this.window.view.getUint32(p + 16, little));
    rec.data = buf;
    rec.offset = p + 28;
    rec.caplen = caplen;
    rec.origLen = this.window.view.getUint32(p + 24, little);
    return this.emit(iface);
  }

  /** SPB: no timestamp, interface 0 of the section, caplen implied by the block. */
  private readSimplePacket(): PacketRecord {
    const w = this.window;
    const iface = this.interfaceOf(0);
    const origLen = this.window.view.getUint32(w.pos + 8, this.little);
    const snaplen = this.interfaces[iface].snaplen;
    let caplen = Math.min(origLen, this.blockLength - 16);
    if (snaplen > 0 && snaplen < caplen) caplen = snaplen;
    const rec = this.record;
    rec.data = w.buf;
    rec.offset = w.pos + 12;
    rec.caplen = caplen;
    rec.origLen = origLen;
    rec.tsSec = 0;
    rec.tsNsec = 0;
    return this.emit(iface);
  }

  private emit(iface: number): PacketRecord {
    const w = this.window;
    const rec = this.record;
    rec.linkType = this.interfaces[iface].linkType;
    rec.interfaceIndex = iface;
    rec.fileOffset = w.base + w.pos;
    this.endBlock();
    const stats = this.stats;
    stats.packets++;
    if (rec.caplen < rec.origLen) stats.snapped++;
    return rec;
  }

  /** Convert a 64-bit unit count to seconds + nanoseconds exactly. */
  private setTime(iface: number, hi: number, lo: number): void {
    const clock = this.clocks[iface];
    const rec = this.record;
    const d = clock.divisor;
    if (d !== 0) {
      // Long division of hi:lo by d in 16-bit digits keeps every value below 2^53;
      // (x - x mod d) / d is then an exact division.
      const r1 = mod(hi, d);
      const x2 = r1 * 65536 + (lo >>> 16);
      const r2 = mod(x2, d);
      const x3 = r2 * 65536 + (lo & 0xffff);
      const r3 = mod(x3, d);
      rec.tsSec = ((hi - r1) / d) * TWO_32 + ((x2 - r2) / d) * 65536 + (x3 - r3) / d + clock.offsetSec;
      rec.tsNsec = r3 * clock.nsPerUnit;
    } else {
      this.setTimeExotic(clock, hi, lo);
    }
  }

  /** Resolutions other than 10^-4..10^-9 (2^-n, ms, ps...): rare, so BigInt is fine. */
  private setTimeExotic(clock: Clock, hi: number, lo: number): void {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const rem = units % clock.bigUnits;
    this.record.tsSec = Number(units / clock.bigUnits) + clock.offsetSec;
    this.record.tsNsec = Number((rem * 1000000000n) / clock.bigUnits);
  }

  private interfaceOf(localId: number): number {
    const global = this.sectionInterfaces[localId];
    if (global === undefined) {
      throw this.error(ErrorCode.UNKNOWN_INTERFACE, `block refers to interface ${localId}, but the section defines ${this.sectionInterfaces.length}`);
    }
    return global;
  }

  private error(code: SynscopeError['code'], message: string): SynscopeError {
    return new SynscopeError(code, message, { file: this.source, offset: this.window.position, record: this.blockIndex });
  }

  private finish(): null {
    const w = this.window;
    this.done = true;
    if (w.available > 0) this.stats.truncatedAt = w.position;
    this.stats.bytesRead = w.position + w.available;
    return null;
  }
}
