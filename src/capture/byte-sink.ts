import * as fs from 'node:fs';
import { ErrorCode, SynscopeError } from '../errors';

/** Where a writer puts bytes: a push interface so tests can write to memory and captures to disk. */
export interface ByteSink {
  /** Append `chunk`; the sink copies it, so the caller may reuse the array. */
  write(chunk: Uint8Array): void;
  /** Put what was written so far where it goes (a file sink's buffer on disk). */
  flush?(): void;
  /** Flush and release. Safe to call twice. */
  close(): void;
}

const FILE_BUFFER_SIZE = 1 << 20;
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes to a file through a 1 MiB buffer, so small writes cost a memcpy, not a syscall.
 * A chunk is never split between two writes to the file: a writer that hands over whole
 * records leaves only whole records on disk whenever the buffer goes out.
 */
export class FileSink implements ByteSink {
  private fd: number | null;
  private readonly buf = Buffer.allocUnsafe(FILE_BUFFER_SIZE);
  private used = 0;

  private readonly owned: boolean;

  /** A file created (or emptied) at `path`; with `fd`, an open descriptor such as standard output, left open at close. */
  constructor(
    private readonly path: string,
    fd?: number,
  ) {
    this.owned = fd === undefined;
    if (fd !== undefined) {
      this.fd = fd;
      return;
    }
    try {
      this.fd = fs.openSync(path, 'w');
    } catch (e) {
      throw new SynscopeError(ErrorCode.WRITE_FAILED, `cannot create the file: ${describeWriteError(e)}`, { file: path });
    }
  }

  /** Standard output (`-w -`), for `synscope live -w - | tshark -r -`. */
  static stdout(): FileSink {
    return new FileSink('<stdout>', 1);
  }

  write(chunk: Uint8Array): void {
    if (this.fd === null) throw new SynscopeError(ErrorCode.WRITE_FAILED, 'write after close', { file: this.path });
    if (this.used + chunk.length > this.buf.length) {
      this.flush();
      if (chunk.length > this.buf.length) {
        this.writeAll(chunk);
        return;
      }
    }
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  }

  close(): void {
    if (this.fd === null) return;
    try {
      this.flush();
    } finally {
      if (this.owned) fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  flush(): void {
    if (this.fd === null) return;
    if (this.used > 0) this.writeAll(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    let done = 0;
    try {
      while (done < bytes.length) {
        try {
          done += fs.writeSync(this.fd as number, bytes, done, bytes.length - done);
        } catch (e) {
          // A pipe another process made non-blocking: wait for its reader rather than fail.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(PAUSE, 0, 0, 1);
        }
      }
    } catch (e) {
      throw new SynscopeError(ErrorCode.WRITE_FAILED, `write failed: ${describeWriteError(e)}`, { file: this.path });
    }
  }
}

/** Collects everything written in memory, growing by doubling. */
export class MemorySink implements ByteSink {
  private buf = Buffer.allocUnsafe(4096);
  private used = 0;

  write(chunk: Uint8Array): void {
    if (this.used + chunk.length > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.used + chunk.length) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    this.buf.set(chunk, this.used);
    this.used += chunk.length;
  }

  close(): void {}

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.used));
  }
}

/** "EACCES (no permission to write there)"; the errno code with what to check. */
function describeWriteError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    EACCES: 'no permission to write there',
    ENOENT: 'the directory does not exist',
    ENOSPC: 'the disk is full',
    EROFS: 'the file system is read-only',
    EISDIR: 'that is a directory',
  };
  return code === undefined ? String(e) : `${code}${why[code] ? ` (${why[code]})` : ''}`;
}
