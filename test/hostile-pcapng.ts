import { ETHERNET_SYN } from './decode-fixtures';

/**
 * Build little-endian pcapng files with exactly the interface options and raw 64-bit
 * timestamps a test names, including values no sane writer produces (the project's
 * writer refuses them), to feed the reader and the CLI hostile clocks.
 */
export interface HostileInterface {
  /** if_tsresol byte; left out when undefined. */
  tsresol?: number;
  /** if_tsoffset as a signed 64-bit count of seconds; left out when undefined. */
  tsoffset?: bigint;
}

const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

function block(type: number, body: Buffer): Buffer {
  const length = 12 + body.length;
  const b = Buffer.alloc(length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(length, 4);
  body.copy(b, 8);
  b.writeUInt32LE(length, length - 4);
  return b;
}

function option(code: number, value: Buffer): Buffer {
  const b = Buffer.alloc(4 + ((value.length + 3) & ~3));
  b.writeUInt16LE(code, 0);
  b.writeUInt16LE(value.length, 2);
  value.copy(b, 4);
  return b;
}

function shb(): Buffer {
  const body = Buffer.alloc(16);
  body.writeUInt32LE(0x1a2b3c4d, 0);
  body.writeUInt16LE(1, 4);
  body.writeUInt16LE(0, 6);
  body.writeBigInt64LE(-1n, 8);
  return block(0x0a0d0d0a, body);
}

function idb(iface: HostileInterface): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeUInt16LE(1, 0); // LINKTYPE_ETHERNET
  fixed.writeUInt32LE(262144, 4);
  const options: Buffer[] = [];
  if (iface.tsresol !== undefined) options.push(option(IF_TSRESOL, Buffer.from([iface.tsresol])));
  if (iface.tsoffset !== undefined) {
    const v = Buffer.alloc(8);
    v.writeBigInt64LE(BigInt.asIntN(64, iface.tsoffset));
    options.push(option(IF_TSOFFSET, v));
  }
  if (options.length > 0) options.push(Buffer.alloc(4)); // opt_endofopt
  return block(1, Buffer.concat([fixed, ...options]));
}

function epb(timestamp: bigint, frame: Buffer): Buffer {
  const head = Buffer.alloc(20);
  const ts = BigInt.asUintN(64, timestamp);
  head.writeUInt32LE(0, 0);
  head.writeUInt32LE(Number(ts >> 32n), 4);
  head.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  head.writeUInt32LE(frame.length, 12);
  head.writeUInt32LE(frame.length, 16);
  const padded = Buffer.alloc((frame.length + 3) & ~3);
  frame.copy(padded);
  return block(6, Buffer.concat([head, padded]));
}

/** One interface, and one copy of a real SYN per timestamp (raw units of that interface). */
export function hostilePcapng(iface: HostileInterface, timestamps: readonly bigint[]): Buffer {
  return Buffer.concat([shb(), idb(iface), ...timestamps.map((t) => epb(t, ETHERNET_SYN))]);
}

/** Byte offset of the interface description block in a file built by hostilePcapng. */
export const HOSTILE_IDB_OFFSET = 28;

/** A timestamp in microseconds for a Unix time in seconds (the default resolution). */
export function micros(seconds: number): bigint {
  return BigInt(seconds) * 1_000_000n;
}
