/** TCP options of one segment, as carried by a SYN (RFC 9293 3.1, RFC 7323, RFC 2018). */
export interface TcpOptions {
  /** Maximum segment size (kind 2), or null when absent. */
  mss: number | null;
  /** Window scale shift count (kind 3) as sent, or null when absent. */
  windowScale: number | null;
  /** SACK-permitted (kind 4) seen. */
  sackPermitted: boolean;
  /** Timestamps (kind 8): TSval and TSecr as uint32, or null when absent. */
  tsVal: number | null;
  tsEcr: number | null;
  /** Options of other kinds, data as a view into the packet (not copied). */
  unknown: { kind: number; data: Buffer }[];
  /** A length byte was missing, < 2, ran past the options, or a known kind had the wrong length. */
  malformed: boolean;
}

const EOL = 0;
const NOP = 1;
const MSS = 2;
const WINDOW_SCALE = 3;
const SACK_PERMITTED = 4;
const TIMESTAMPS = 8;

function u16(buf: Buffer, i: number): number {
  return (buf[i]! << 8) | buf[i + 1]!;
}

function u32(buf: Buffer, i: number): number {
  return ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
}

/**
 * Parses the options area `buf[offset, offset + length)` (use pkt.tcpOptionsOffset /
 * tcpOptionsLength) in one TLV loop. Never throws: an unknown kind is kept raw, a bad
 * length sets `malformed` and stops the loop (RFC 9293 3.1: length covers kind and
 * length bytes). Reads are bounded by the buffer too, so a snapped packet is safe.
 */
export function parseTcpOptions(buf: Buffer, offset: number, length: number): TcpOptions {
  const out: TcpOptions = {
    mss: null,
    windowScale: null,
    sackPermitted: false,
    tsVal: null,
    tsEcr: null,
    unknown: [],
    malformed: false,
  };
  const end = Math.min(offset + Math.max(length, 0), buf.length);
  let i = Math.max(offset, 0);
  while (i < end) {
    const kind = buf[i]!;
    if (kind === EOL) break;
    if (kind === NOP) {
      i++;
      continue;
    }
    if (i + 1 >= end) {
      out.malformed = true;
      break;
    }
    const len = buf[i + 1]!;
    if (len < 2 || i + len > end) {
      out.malformed = true;
      break;
    }
    if (kind === MSS && len === 4) out.mss = u16(buf, i + 2);
    else if (kind === WINDOW_SCALE && len === 3) out.windowScale = buf[i + 2]!;
    else if (kind === SACK_PERMITTED && len === 2) out.sackPermitted = true;
    else if (kind === TIMESTAMPS && len === 10) {
      out.tsVal = u32(buf, i + 2);
      out.tsEcr = u32(buf, i + 6);
    } else if (kind === MSS || kind === WINDOW_SCALE || kind === SACK_PERMITTED || kind === TIMESTAMPS) {
      out.malformed = true;
    } else {
      out.unknown.push({ kind, data: buf.subarray(i + 2, i + len) });
    }
    i += len;
  }
  return out;
}
