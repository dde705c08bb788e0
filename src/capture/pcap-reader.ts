import { ErrorCode, SynscopeError } from '../errors';
import { FileSource } from './byte-source';
import type { ByteWindow } from './byte-window';
import { newPacketRecord } from './record';
import type { CaptureInterface, CaptureReader, PacketRecord, ReaderStats } from './record';
import { recordIterator } from './record-iterator';

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/** libpcap's MAXIMUM_SNAPLEN and its per-DLT exceptions (pcap-int.h, max_snaplen_for_dlt). */
export function maxSnaplenForLinkType(linkType: number): number {
  switch (linkType) {
    case 231: // DBUS: a message can be up to 128 MiB
      return 128 * 1024 * 1024;
    case 279: // EBHSCR
      return 8 * 1024 * 1024;
    case 249: // USBPCAP
      return 1024 * 1024;
    default:
      return 262144;
  }
}

/** A classic pcap file's descriptor, where its next record starts, and what its header says about records. */
export interface PcapScanFormat {
  fd: number;
  position: number;
  littleEndian: boolean;
  nanosecond: boolean;
  lengthOrder: number;
  snaplen: number;
  maxCaplen: number;
  linkType: number;
}

/** How a file orders the caplen/len fields (libpcap's swapped_type_t). */
const LengthOrder = { normal: 0, swapped: 1, maybeSwapped: 2 } as const;
type LengthOrder = (typeof LengthOrder)[keyof typeof LengthOrder];

/**
 * Reads classic pcap files: microsecond (a1b2c3d4) and nanosecond (a1b23c4d)
 * magic in either byte order, version 2.x (and DG/UX 543.0) like libpcap's
 * sf-pcap.c. Records point into the window buffer: zero copies, no allocation.
 */
export class PcapReader implements CaptureReader {
  readonly format = 'pcap' as const;
  readonly interfaces: CaptureInterface[];
  readonly stats: ReaderStats = { packets: 0, bytesRead: 0, truncatedAt: null, snapped: 0 };
  /** True when the file has the nanosecond magic. */
  readonly nanosecond: boolean;
  /** True when the file's headers are little-endian. */
  readonly littleEndian: boolean;
  private readonly record = newPacketRecord();
  private readonly snaplen: number;
  private readonly maxCaplen: number;
  private readonly lengthOrder: LengthOrder;
  private done = false;

  /** Parses the file header at the window's position; throws on a bad or short header. */
  constructor(private readonly window: ByteWindow, readonly source: string) {
    if (!window.ensure(FILE_HEADER)) {
      throw new SynscopeError(ErrorCode.TRUNCATED_HEADER, `pcap file header needs ${FILE_HEADER} bytes, file has ${window.available}`, {
        file: source,
        offset: window.position,
      });
    }
    const view = window.view;
    const p = window.pos;
    const magic = view.getUint32(p, true);
    if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) this.littleEndian = true;
    else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) this.littleEndian = false;
    else throw new SynscopeError(ErrorCode.BAD_MAGIC, `not a pcap file (magic 0x${magic.toString(16)})`, { file: source, offset: window.position });
    const little = this.littleEndian;
    this.nanosecond = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;

    const major = view.getUint16(p + 4, little);
    const minor = view.getUint16(p + 6, little);
    // libpcap accepts 2.0 to 2.4, plus 543.0 written by DG/UX tcpdump.
    if (!((major === 2 && minor <= 4) || (major === 543 && minor === 0))) {
      throw new SynscopeError(ErrorCode.BAD_VERSION, `unsupported pcap version ${major}.${minor}`, { file: source, offset: window.position + 4 });
    }
    // Before 2.3, and in DG/UX files, caplen and len were stored the other way round.
    this.lengthOrder = major === 543 || minor < 3 ? LengthOrder.swapped : minor === 3 ? LengthOrder.maybeSwapped : LengthOrder.normal;

    // Upper bits of the link type field carry FCS-length flags (LT_LINKTYPE_EXT).
    const linkType = view.getUint32(p + 20, little) & 0xffff;
    this.maxCaplen = maxSnaplenForLinkType(linkType);
    const headerSnaplen = view.getUint32(p + 16, little);
    // pcap_adjust_snapshot: 0 or an oversized snaplen means "the maximum".
    this.snaplen = headerSnaplen === 0 || headerSnaplen > this.maxCaplen ? this.maxCaplen : headerSnaplen;
    this.interfaces = [{ name: null, linkType, snaplen: this.snaplen, section: 0, dropped: null }];
    this.record.linkType = linkType;
    window.advance(FILE_HEADER);
    this.stats.bytesRead = window.position;
  }

  next(): PacketRecord | null {
    if (this.done) return null;
    const w = this.window;
    // The window checks are inlined: ensure() is only called when the buffer runs dry.
    if (w.end - w.pos < RECORD_HEADER && !w.ensure(RECORD_HEADER)) return this.finish();
    const little = this.littleEndian;
    let caplen = w.view.getUint32(w.pos + 8, little);
    let origLen = w.view.getUint32(w.pos + 12, little);
    if (this.lengthOrder !== LengthOrder.normal && (this.lengthOrder === LengthOrder.swapped || caplen > origLen)) {
      const t = caplen;
      caplen = origLen;
      origLen = t;
    }
    if (caplen > this.maxCaplen) {
      throw new SynscopeError(ErrorCode.BAD_RECORD_LENGTH, `record caplen ${caplen} exceeds the maximum of ${this.maxCaplen}`, {
        file: this.source,
        offset: w.position,
        record: this.stats.packets,
      });
    }
    const size = RECORD_HEADER + caplen;
    if (w.end - w.pos < size && !w.ensure(size)) return this.finish();

    const view = w.view;
    const p = w.pos;
    const rec = this.record;
    let sec = view.getUint32(p, little);
    let frac = view.getUint32(p + 4, little);
    // An out-of-range fraction (tcpdump prints "invalid us") carries into the seconds.
    if (this.nanosecond) {
      if (frac >= 1e9) {
        sec += Math.floor(frac / 1e9);
        frac %= 1e9;
      }
    } else {
      if (frac >= 1e6) {
        sec += Math.floor(frac / 1e6);
        frac %= 1e6;
      }
      frac *= 1000;
    }
    rec.data = w.buf;
    rec.offset = p + RECORD_HEADER;
    // libpcap keeps a record bigger than the snaplen but hands out only snaplen bytes.
    rec.caplen = caplen > this.snaplen ? this.snaplen : caplen;
    rec.origLen = origLen;
    rec.tsSec = sec;
    rec.tsNsec = frac;
    rec.fileOffset = w.base + p;
    w.pos = p + size;
    const stats = this.stats;
    stats.packets++;
    if (rec.caplen < origLen) stats.snapped++;
    stats.bytesRead = w.base + w.pos;
    return rec;
  }

  /**
   * Where the next record is and how to read records from there, for a reader in C
   * (NativeFlowTracker.scanPcap): only for a regular file read from its start, before any
   * record was handed out; else null.
   */
  scanFormat(): PcapScanFormat | null {
    const w = this.window;
    const fd = w.source instanceof FileSource ? w.source.regularFileFd : null;
    if (fd === null || this.done || this.stats.packets > 0) return null;
    return {
      fd,
      position: w.position,
      littleEndian: this.littleEndian,
      nanosecond: this.nanosecond,
      lengthOrder: this.lengthOrder,
      snaplen: this.snaplen,
      maxCaplen: this.maxCaplen,
      linkType: this.interfaces[0]!.linkType,
    };
  }

  /** The file was read elsewhere (scanFormat): its counts, as next() would have left them; no record follows. */
  scanned(end: ReaderStats): void {
    Object.assign(this.stats, end);
    this.done = true;
  }

  droppedByCapture(): number | null {
    return null;
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

  private finish(): null {
    const w = this.window;
    this.done = true;
    if (w.available > 0) this.stats.truncatedAt = w.position;
    this.stats.bytesRead = w.position + w.available;
    return null;
  }
}
