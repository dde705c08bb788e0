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

/** Standard input's descriptor; never closed by synscope. */
const STDIN_FD = 0;
/** How long to wait for more input when standard input is a non-blocking pipe or socket with nothing in it yet. */
const RETRY_MS = 2;

export class FileSource implements ByteSource {
  readonly size: number | null;
  private fd: number | null;

  /**
   * Standard input as it was inherited: a pipe, a socket, a file or a FIFO. Read from the
   * descriptor itself; opening /dev/stdin again fails for a socket (ENXIO).
   */
  static stdin(): FileSource {
    return new FileSource(null, 'stdin');
  }

  /** `label` names the input in errors (default: the path); a null path is standard input. */
  constructor(
    path: string | null,
    private readonly label = path ?? 'stdin',
  ) {
    try {
      this.fd = path === null ? STDIN_FD : fs.openSync(path, 'r');
      const st = fs.fstatSync(this.fd);
      if (st.isDirectory()) {
        fs.closeSync(this.fd);
        this.fd = null;
        throw new SynscopeError(ErrorCode.READ_FAILED, 'is a directory, not a capture file', { file: label });
      }
      this.size = st.isFile() ? st.size : null;
    } catch (e) {
      if (e instanceof SynscopeError) throw e;
      throw new SynscopeError(ErrorCode.READ_FAILED, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: label });
    }
  }

  /** The descriptor of an open regular file that is not standard input (which may not start at offset 0), else null: for reading by offset. */
  get regularFileFd(): number | null {
    return this.fd !== null && this.fd !== STDIN_FD && this.size !== null ? this.fd : null;
  }

  read(target: Buffer, offset: number, length: number): number {
    if (this.fd === null) return 0;
    try {
      for (;;) {
        try {
          return fs.readSync(this.fd, target, offset, length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
        }
      }
    } catch (e) {
      throw new SynscopeError(ErrorCode.READ_FAILED, `read failed: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file: this.label });
    }
  }

  close(): void {
    if (this.fd !== null && this.fd !== STDIN_FD) fs.closeSync(this.fd);
    this.fd = null;
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
