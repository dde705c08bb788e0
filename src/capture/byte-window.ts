import { ErrorCode, SynscopeError } from '../errors';
import type { ByteSource } from './byte-source';

/** Default read buffer: big enough that one read syscall covers thousands of packets. */
export const DEFAULT_WINDOW_SIZE = 4 << 20;
/** No record may be larger than this; a larger length field means a damaged file. */
export const MAX_WINDOW_SIZE = 256 << 20;

/**
 * A sliding window over a ByteSource. Readers parse straight out of `buf`
 * between `pos` and `end`; `ensure(n)` makes n bytes from `pos` available,
 * moving the unread tail to the front (or growing the buffer) only when the
 * window runs out. Records handed out point into `buf`. Moving the window writes the unread
 * tail into a second buffer and makes it `buf`: a record stays valid until the window has
 * moved twice, and `beforeMove` tells a consumer that holds records by reference (the native
 * tracker's batch) before each move.
 */
export class ByteWindow {
  /** Current buffer; replaced when the window grows, so re-read it after `ensure`. */
  buf: Buffer;
  /** A DataView over `buf` (replaced with it): TurboFan inlines its typed reads. */
  view: DataView;
  /** Index in `buf` of the next unread byte. */
  pos = 0;
  /** Index in `buf` one past the last valid byte. */
  end = 0;
  /** File offset of `buf[0]`; changes when the window moves. */
  base = 0;
  private eof = false;
  /** The buffer the window moves into next (the one before the last move). */
  private spare: Buffer | null = null;
  /** Called before the window moves (and may write over `spare`). */
  beforeMove: (() => void) | null = null;

  /**
   * @param source where bytes come from; the window does not close it.
   * @param label file name used in errors.
   * @param maxSize largest `ensure(n)` allowed before it throws ERR_BAD_RECORD_LENGTH.
   */
  constructor(
    readonly source: ByteSource,
    private readonly label: string,
    private readonly maxSize = MAX_WINDOW_SIZE,
  ) {
    const size = source.size;
    // Small inputs (tests, fuzzing) get a small buffer instead of 4 MiB each.
    const initial = size !== null && size < DEFAULT_WINDOW_SIZE ? Math.max(size, 64) : DEFAULT_WINDOW_SIZE;
    this.buf = Buffer.allocUnsafe(Math.min(initial, maxSize));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Bytes available from `pos` without reading more. */
  get available(): number {
    return this.end - this.pos;
  }

  /** File offset of `pos`: everything before it has been consumed. */
  get position(): number {
    return this.base + this.pos;
  }

  /** File offset of buffer index `index`. */
  offsetOf(index: number): number {
    return this.base + index;
  }

  /**
   * Make `n` bytes available from `pos`. Returns false when the source ends first
   * (the bytes that were there stay available). Throws ERR_BAD_RECORD_LENGTH when
   * `n` exceeds the window's maximum size.
   */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (n > this.maxSize) {
      throw new SynscopeError(ErrorCode.BAD_RECORD_LENGTH, `record of ${n} bytes exceeds the ${this.maxSize}-byte limit`, {
        file: this.label,
        offset: this.position,
      });
    }
    if (this.eof) return false;
    // A damaged length field must not make us allocate far past the end of the file.
    const size = this.source.size;
    if (size !== null && this.position + n > size && n > this.buf.length) return false;
    if (this.pos + n > this.buf.length || this.buf.length - this.end < this.buf.length / 4) this.compact(n);
    while (this.end - this.pos < n) {
      const got = this.source.read(this.buf, this.end, this.buf.length - this.end);
      if (got <= 0) {
        this.eof = true;
        return false;
      }
      this.end += got;
    }
    return true;
  }

  /** Consume `n` bytes (they must be available). */
  advance(n: number): void {
    this.pos += n;
  }

  /** Move the unread bytes to the front, growing the buffer if `n` would not fit. */
  private compact(n: number): void {
    this.beforeMove?.();
    const unread = this.end - this.pos;
    if (n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxSize, Math.max(n, this.buf.length * 2)));
      this.buf.copy(grown, 0, this.pos, this.end);
      this.buf = grown;
      this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    } else if (this.pos > 0) {
      const into = this.spare !== null && this.spare.length === this.buf.length ? this.spare : Buffer.allocUnsafe(this.buf.length);
      this.buf.copy(into, 0, this.pos, this.end);
      this.spare = this.buf;
      this.buf = into;
      this.view = new DataView(into.buffer, into.byteOffset, into.length);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = unread;
  }
}
