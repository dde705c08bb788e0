import { ErrorCode, SynscopeError } from '../errors';
import { FileSource } from './byte-source';
import { GunzipSource, isGzip } from './gunzip-source';
import type { ByteSource } from './byte-source';
import { ByteWindow } from './byte-window';
import { PcapReader } from './pcap-reader';
import { PcapngReader } from './pcapng-reader';
import type { CaptureReader } from './record';

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1]);
const PCAPNG_SHB = 0x0a0d0d0a;

/**
 * Open a capture from any byte source, telling pcap from pcapng by the magic
 * number. Throws ERR_TRUNCATED_HEADER for an empty or too short input and
 * ERR_BAD_MAGIC when it is neither format. The reader owns `source` and closes it.
 */
export function openCapture(source: ByteSource, label: string): CaptureReader {
  try {
    const window = new ByteWindow(source, label);
    if (!window.ensure(4)) {
      throw new SynscopeError(ErrorCode.TRUNCATED_HEADER, `file is too short (${window.available} bytes) to be a capture`, { file: label, offset: 0 });
    }
    if (isGzip(window.buf.subarray(window.pos, window.end))) {
      const inflated = new GunzipSource(source, label, Buffer.from(window.buf.subarray(window.pos, window.end)));
      return Object.assign(openCapture(inflated, label), { compressed: true });
    }
    const magic = window.buf.readUInt32LE(window.pos);
    if (magic === PCAPNG_SHB) return new PcapngReader(window, label);
    if (PCAP_MAGICS.has(magic)) return new PcapReader(window, label);
    throw new SynscopeError(ErrorCode.BAD_MAGIC, `not a pcap or pcapng file (starts with 0x${magic.toString(16).padStart(8, '0')})`, {
      file: label,
      offset: 0,
    });
  } catch (e) {
    source.close();
    throw e;
  }
}

/** The name that means standard input, as for tcpdump -r and tshark -r. */
export const STDIN_NAME = '-';

/**
 * Open a capture file by path ("-" is standard input; a FIFO works like a file; a gzip-
 * compressed file is read through GunzipSource). Throws ERR_READ_FAILED when it cannot be opened.
 */
export function openCaptureFile(path: string): CaptureReader {
  if (path === STDIN_NAME) return openCapture(FileSource.stdin(), 'stdin');
  return openCapture(new FileSource(path), path);
}

/** Fraction of the input consumed so far (0..1), or null when the size is unknown (a pipe). */
export function captureProgress(reader: CaptureReader, source: ByteSource): number | null {
  const size = source.size;
  if (size === null) return null;
  return size === 0 ? 1 : Math.min(1, reader.stats.bytesRead / size);
}

/** Size in bytes of a capture file, for a progress bar's total; null when not a regular file. */
export function captureFileSize(path: string): number | null {
  const source = new FileSource(path);
  try {
    return source.size;
  } finally {
    source.close();
  }
}
