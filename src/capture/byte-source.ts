import * as fs from 'node:fs';
import { ErrorCode, SynscopeError } from '../errors';

/**
 * Where a reader gets bytes from: a pull interface so tests can hand out bytes
 * one at a time and the file source can read large chunks with no copies.
 */
export interface ByteSource {
  /** Read up to `length` bytes into `target` at `offset`; returns 0 at end of input. */
  read(target: Buffer, offset: number, length: number): number;
  /** Total size when known (for progress), else null. */
  readonly size: number | null;
  close(): void;
}

export class FileSource implements ByteSource {
  readonly size: number | null;
  private fd: number | null;

  constructor(private readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
      const st = fs.fstatSync(this.fd);
      if (st.isDirectory()) {
        fs.closeSync(this.fd);
        this.fd = null;
        throw new SynscopeError(ErrorCode.READ_FAILED, 'is a directory, not a capture file', { file: path });
      }
      this.size = st.isFile() ? st.size : null;
    } catch (e) {
      if (e instanceof SynscopeError) throw e;
      throw new SynscopeError(ErrorCode.READ_FAILED, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: path });
    }
  }

  read(target: Buffer, offset: number, length: number): number {
    if (this.fd === null) return 0;
    try {
      return fs.readSync(this.fd, target, offset, length, null);
    } catch (e) {
      throw new SynscopeError(ErrorCode.READ_FAILED, `read failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: this.path });
    }
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** A source over bytes already in memory, handing out at most `step` bytes per read (tests use step=1). */
export class BufferSource implements ByteSource {
  readonly size: number;
  private pos = 0;

  constructor(private readonly bytes: Uint8Array, private readonly step = Number.MAX_SAFE_INTEGER) {
    this.size = bytes.length;
  }

  read(target: Buffer, offset: number, length: number): number {
    const n = Math.min(length, this.step, this.bytes.length - this.pos);
    if (n <= 0) return 0;
    target.set(this.bytes.subarray(this.pos, this.pos + n), offset);
    this.pos += n;
    return n;
  }

  close(): void {}
}
