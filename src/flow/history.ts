/**
 * Zeek's connection history string (Connection::CheckHistory / AddHistory /
 * ScaledHistoryEntry in src/Conn.cc, letters from update_history in
 * src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc).
 *
 * Upper case: the originator sent it; lower case: the responder. The "seen" mask keeps
 * the once-per-direction letters (a, d, i, q and the first s/h, f, r); the originator's
 * bits are the low 16, the responder's the same bits shifted left by 16.
 */
export const Hist = {
  SYN_PKT: 0x1,
  FIN_PKT: 0x2,
  RST_PKT: 0x4,
  FIN_RST_PKT: 0x8,
  DATA_PKT: 0x10,
  ACK_PKT: 0x20,
  MULTI_FLAG_PKT: 0x40,
  CORRUPT_PKT: 0x80,
  RXMIT: 0x100,
  WIN0: 0x200,
} as const;

export class History {
  /** The history string so far. Appended per event, not per packet. */
  text = '';
  /** Bit mask of letters already recorded (orig low 16 bits, resp high 16 bits). */
  seen = 0;

  /** Appends a letter unconditionally (Connection::AddHistory). */
  add(code: string): void {
    this.text += code;
  }

  /**
   * Connection::CheckHistory through TCP_Endpoint::CheckHistory: records `code` the first
   * time `mask` is seen for this direction and returns false; returns true when the letter
   * was already recorded (the caller may then add it again, e.g. for a new sequence number).
   */
  check(mask: number, code: string, isOrig: boolean): boolean {
    if (!isOrig) mask = (mask << 16) >>> 0;
    if ((this.seen & mask) === 0) {
      this.seen = (this.seen | mask) >>> 0;
      this.addFor(code, isOrig);
      return false;
    }
    return true;
  }

  /** Adds a direction-cased letter without checking the mask (TCP_Endpoint::AddHistory). */
  addFor(code: string, isOrig: boolean): void {
    // Single ASCII characters come from V8's single-character string cache: no allocation.
    this.text += isOrig ? code : String.fromCharCode(code.charCodeAt(0) | 0x20);
  }

  /**
   * Re-expresses the history as if the roles had been flipped before its first letter:
   * '^' first, letter cases swapped, the seen masks swapped. Used for Zeek's flip of a
   * connection that began with a SYN-ACK once an ACK or data follows (zeek PR #2191):
   * the baselines show that flip as a leading '^' (e.g. "^hADadFf").
   */
  flipFromStart(): void {
    let out = '^';
    for (let i = 0; i < this.text.length; i++) {
      const c = this.text[i]!;
      const lower = c.toLowerCase();
      out += c === lower ? c.toUpperCase() : lower;
    }
    this.text = out;
    this.seen = (((this.seen & 0xffff) << 16) | (this.seen >>> 16)) >>> 0;
  }
}

/**
 * Connection::ScaledHistoryEntry: logarithmic letters (t, w, c, g). Adds the letter when
 * the counter reaches the threshold, then multiplies the threshold by 10: letters at the
 * 1st, 10th, 100th... event.
 */
export class ScaledCounter {
  count = 0;
  threshold = 1;

  /** Counts one event; returns true when a letter must be added. */
  bump(): boolean {
    this.count++;
    if (this.count === this.threshold) {
      const next = this.threshold * 10;
      if (next > 0xffffffff) this.count = 0;
      else this.threshold = next;
      return true;
    }
    return false;
  }
}
