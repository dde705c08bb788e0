import { ErrorCode, SynscopeError } from '../errors';

/** One piece of a container's output as the Engine API hands it on. */
export interface LogFrame {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

const HEADER_BYTES = 8;
const STREAMS = ['stdin', 'stdout', 'stderr'] as const;

/**
 * Docker's multiplexed log stream (a container or service without a TTY): each frame is an
 * 8-byte header (stream: 0 stdin, 1 stdout, 2 stderr; three zero bytes; the payload's
 * length, 32-bit big-endian) and the payload. With a TTY the stream is the raw output,
 * all of it stdout. A header that is not one, or a body cut short, is an error naming
 * `source` and the byte offset.
 */
export function demuxDockerStream(bytes: Buffer, tty: boolean, source: string): LogFrame[] {
  if (tty) return bytes.length === 0 ? [] : [{ stream: 'stdout', data: bytes }];
  const frames: LogFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < HEADER_BYTES) throw badStream(source, at, `${bytes.length - at} bytes left, less than a frame header`);
    const kind = bytes[at]!;
    if (kind > 2 || bytes[at + 1] !== 0 || bytes[at + 2] !== 0 || bytes[at + 3] !== 0) throw badStream(source, at, 'not a frame header (stream 0..2 and three zero bytes)');
    const size = bytes.readUInt32BE(at + 4);
    const end = at + HEADER_BYTES + size;
    if (end > bytes.length) throw badStream(source, at, `a frame of ${size} bytes with ${bytes.length - at - HEADER_BYTES} left`);
    const stream = STREAMS[kind]!;
    if (stream !== 'stdin') frames.push({ stream, data: bytes.subarray(at + HEADER_BYTES, end) });
    at = end;
  }
  return frames;
}

function badStream(source: string, offset: number, why: string): SynscopeError {
  return new SynscopeError(ErrorCode.BAD_HOST_OUTPUT, why, { file: source, offset });
}
