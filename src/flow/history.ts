import { Layout, S } from './flow-record';
import type { FlowStore } from './flow-store';

/**
 * Zeek's connection history string (Connection::CheckHistory / AddHistory /
 * ScaledHistoryEntry in src/Conn.cc, letters from update_history in
 * src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc).
 *
 * Upper case: the originator sent it; lower case: the responder. The "seen" mask keeps
 * the once-per-direction letters (a, d, i, q and the first s/h, f, r); the originator's
 * bits are the low 16, the responder's the same bits shifted left by 16.
 *
 * Letters are kept per flow as char codes in its record (Layout.HIST_INLINE bytes at
 * Layout.HIST_AT) and become a string only when a Flow is built; a longer history moves to a string
 * in the store's spill map. The constants are `const enum`s so that they are literals in the
 * per-packet code (see flow-record.ts).
 */
export const enum Hist {
  SYN_PKT = 0x1,
  FIN_PKT = 0x2,
  RST_PKT = 0x4,
  FIN_RST_PKT = 0x8,
  DATA_PKT = 0x10,
  ACK_PKT = 0x20,
  MULTI_FLAG_PKT = 0x40,
  CORRUPT_PKT = 0x80,
  RXMIT = 0x100,
  WIN0 = 0x200,
}

/** Upper-case history letters as char codes (the responder's are these | 0x20). */
export const enum Letter {
  S = 0x53,
  H = 0x48,
  A = 0x41,
  D = 0x44,
  F = 0x46,
  R = 0x52,
  I = 0x49,
  Q = 0x51,
  T = 0x54,
  W = 0x57,
  FLIP = 0x5e, // '^'
}

/** Appends a char code unconditionally (Connection::AddHistory). */
export function addHistory(store: FlowStore, slot: number, code: number): void {
  const i = store.int;
  const lenAt = slot * Layout.WORDS + S.HIST_LEN;
  const len = i[lenAt]!;
  if (len < Layout.HIST_INLINE) {
    store.bytes[slot * Layout.RECORD_BYTES + Layout.HIST_AT + len] = code;
    i[lenAt] = len + 1;
  } else if (len === Layout.HIST_SPILLED) {
    store.histSpill.set(slot, store.histSpill.get(slot)! + String.fromCharCode(code));
  } else {
    store.histSpill.set(slot, historyText(store, slot) + String.fromCharCode(code));
    i[lenAt] = Layout.HIST_SPILLED;
  }
}

/** Adds a direction-cased letter without checking the mask (TCP_Endpoint::AddHistory). */
export function addHistoryFor(store: FlowStore, slot: number, code: number, isOrig: boolean): void {
  addHistory(store, slot, isOrig ? code : code | 0x20);
}

/**
 * Connection::CheckHistory through TCP_Endpoint::CheckHistory: records `code` the first
 * time `mask` is seen for this direction and returns false; returns true when the letter
 * was already recorded (the caller may then add it again, e.g. for a new sequence number).
 */
export function checkHistory(store: FlowStore, slot: number, mask: number, code: number, isOrig: boolean): boolean {
  if (!isOrig) mask = (mask << 16) >>> 0;
  const at = slot * Layout.WORDS + S.HIST_SEEN;
  const seen = store.uint[at]!;
  if ((seen & mask) === 0) {
    store.uint[at] = (seen | mask) >>> 0;
    addHistoryFor(store, slot, code, isOrig);
    return false;
  }
  return true;
}

/** The history string (built on demand: only for flows handed out as Flow objects). */
export function historyText(store: FlowStore, slot: number): string {
  const len = store.int[slot * Layout.WORDS + S.HIST_LEN]!;
  if (len === Layout.HIST_SPILLED) return store.histSpill.get(slot)!;
  const h = store.bytes;
  const base = slot * Layout.RECORD_BYTES + Layout.HIST_AT;
  let out = '';
  for (let i = 0; i < len; i++) out += String.fromCharCode(h[base + i]!);
  return out;
}

/** The responder's FIN ('f') came before the originator's ('F'), read without building the text. */
export function responderFinFirst(store: FlowStore, slot: number): boolean {
  const len = store.int[slot * Layout.WORDS + S.HIST_LEN]!;
  if (len === Layout.HIST_SPILLED) {
    const text = store.histSpill.get(slot)!;
    const f = text.indexOf('f');
    const F = text.indexOf('F');
    return f >= 0 && (F < 0 || f < F);
  }
  const h = store.bytes;
  const base = slot * Layout.RECORD_BYTES + Layout.HIST_AT;
  for (let i = 0; i < len; i++) {
    const c = h[base + i];
    if (c === 0x66) return true;
    if (c === 0x46) return false;
  }
  return false;
}

/**
 * Re-expresses the history as if the roles had been flipped before its first letter:
 * '^' first, letter cases swapped, the seen masks swapped. Used for Zeek's flip of a
 * connection that began with a SYN-ACK once an ACK or data follows (zeek PR #2191):
 * the baselines show that flip as a leading '^' (e.g. "^hADadFf").
 */
export function flipHistoryFromStart(store: FlowStore, slot: number): void {
  const s = slot * Layout.WORDS;
  const old = historyText(store, slot);
  store.int[s + S.HIST_LEN] = 0;
  store.histSpill.delete(slot);
  addHistory(store, slot, Letter.FLIP);
  for (let i = 0; i < old.length; i++) {
    const c = old.charCodeAt(i);
    const isLetter = (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
    addHistory(store, slot, isLetter ? c ^ 0x20 : c);
  }
  const u = store.uint;
  const seen = u[s + S.HIST_SEEN]!;
  u[s + S.HIST_SEEN] = (((seen & 0xffff) << 16) | (seen >>> 16)) >>> 0;
}

/**
 * Connection::ScaledHistoryEntry: logarithmic letters (t, w, c, g). `at` is the offset of
 * a count followed by its threshold in the record's int view `r`. Counts one event and returns true when a letter
 * must be added: at the 1st, 10th, 100th... event (the threshold is multiplied by 10 each time).
 */
export function bumpScaled(r: Int32Array, at: number): boolean {
  const count = r[at]! + 1;
  r[at] = count;
  const threshold = r[at + 1]!;
  if (count === threshold) {
    const next = threshold * 10;
    if (next > 0xffffffff) r[at] = 0;
    else r[at + 1] = next;
    return true;
  }
  return false;
}
