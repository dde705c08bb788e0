import type { DecodedPacket } from '../decode/packet';
import { TcpFlag } from '../decode/packet';
import { parseTcpOptions } from '../decode/tcp-options';
import { E, EW, Layout, S, W, endpointBase, endpointWideBase } from './flow-record';
import type { FlowStore } from './flow-store';
import { Hist, Letter, addHistory, addHistoryFor, bumpScaled, checkHistory, flipHistoryFromStart } from './history';
import { EndpointState, seqDelta, setState, toRelativeSeqSpace, updateAckSeq, updateLastSeq } from './zeek-endpoint';

/** TCP.cc TOO_LARGE_SEQ_DELTA: SYN/RST sequence jumps beyond this are not trusted. */
const TOO_LARGE_SEQ_DELTA = 1048576;

/** Zeek timers (scripts/base/init-bare.zeek). */
export const ZEEK_TCP_ATTEMPT_DELAY = 5;
export const ZEEK_TCP_CLOSE_DELAY = 5;
export const ZEEK_TCP_RESET_DELAY = 5;
export const ZEEK_TCP_INACTIVITY_TIMEOUT = 300;

let relUnderflow = false;

/** TCPSessionAdapter::get_relative_seq for the endpoint at `e`; sets the module flag `relUnderflow`. */
function getRelativeSeq(u: Uint32Array, e: number, cur: number, last: number, wraps: number): number {
  relUnderflow = false;
  let delta = seqDelta(cur, last);
  if (delta < 0) {
    if (wraps && cur > last) --wraps;
  } else if (delta > 0) {
    if (cur < last) ++wraps;
  }
  if (wraps === 0) {
    delta = seqDelta(cur, u[e + E.START_SEQ]!);
    if (delta < 0) relUnderflow = true;
    return delta;
  }
  return toRelativeSeqSpace(u, e, cur, wraps);
}

/*
 * One TCP connection with Zeek's per-packet processing (TCPSessionAdapter::Process and the
 * Update*State functions of src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc):
 * endpoint states, relative sequence numbers with wraparound, and history letters.
 * The connection is the record at `slot` in a FlowStore; "side" 0 is endpoint A (the
 * sender of the flow's first packet), 1 is B.
 *
 * Limits (deliberate): no checksum validation (baselines run with -C), no stream
 * reassembly, so no content-gap letters (g/G) and no DataPending deferral of closes;
 * window tracking only as far as zero-window letters need it.
 */

/** Connection::FlipRoles: swap originator and responder, append '^'. */
export function flipRoles(store: FlowStore, slot: number): void {
  const at = slot * Layout.WORDS + S.ORIG_SIDE;
  store.int[at] = 1 - store.int[at]!;
  addHistory(store, slot, Letter.FLIP);
}

/**
 * Zeek's flip of a connection that began with a SYN-ACK when an ACK or data segment
 * follows (zeek PR #2191). The baselines (one-sided-2745 "^haf", ctu-64702 "^hAfdtFr",
 * flip-without-syn "^hADadFf") read as if the roles had been flipped before the SYN-ACK,
 * so that is what this reproduces: the SYN-ACK's sender becomes an ESTABLISHED responder.
 */
export function flipAfterSynAck(store: FlowStore, slot: number): void {
  const i = store.int;
  const s = slot * Layout.WORDS;
  const newOrig = 1 - i[s + S.ORIG_SIDE]!;
  i[s + S.ORIG_SIDE] = newOrig;
  const resp = endpointBase(slot, 1 - newOrig);
  i[resp + E.PREV_STATE] = EndpointState.INACTIVE;
  i[resp + E.STATE] = EndpointState.ESTABLISHED;
  store.wide[slot * Layout.WIDE_WORDS + W.ATTEMPT_AT] = -1;
  flipHistoryFromStart(store, slot);
  i[s + S.BEGAN_WITH_SYN_ACK] = 0;
}

/** TCPSessionAdapter::IsReuse: does this SYN start a new connection on the same tuple? */
export function isReuse(store: FlowStore, slot: number, pkt: DecodedPacket): boolean {
  const flags = pkt.tcpFlags;
  if (!(flags & TcpFlag.SYN)) return false;
  const r = store.int;
  const u = store.uint;
  const origSide = r[slot * Layout.WORDS + S.ORIG_SIDE]!;
  const orig = endpointBase(slot, origSide);
  const resp = endpointBase(slot, 1 - origSide);
  let connOrig = orig;
  if (flags & TcpFlag.ACK) {
    if (r[orig + E.STATE] !== EndpointState.INACTIVE) return false;
    connOrig = resp;
  }
  if (r[orig + E.DID_CLOSE] === 0 && r[resp + E.DID_CLOSE] === 0) {
    const baseSeq = pkt.seq >>> 0;
    if (baseSeq === u[connOrig + E.START_SEQ]) return false;
    if (
      !(flags & TcpFlag.ACK) &&
      r[connOrig + E.STATE] === EndpointState.SYN_ACK_SENT &&
      r[resp + E.STATE] === EndpointState.INACTIVE &&
      baseSeq === u[resp + E.START_SEQ]
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Processes one TCP segment sent by endpoint `side` of the flow at `slot`
 * (TCPSessionAdapter::Process). `timersOn` arms Zeek's attempt timer.
 */
export function processSegment(
  store: FlowStore,
  slot: number,
  side: number,
  pkt: DecodedPacket,
  buf: Buffer,
  t: number,
  iface: number,
  timersOn: boolean,
): void {
  const r = store.int;
  const u = store.uint;
  const w = store.wide;
  const s = slot * Layout.WORDS;
  const sw = slot * Layout.WIDE_WORDS;
  const ep = endpointBase(slot, side);
  const peer = endpointBase(slot, 1 - side);
  const isOrig = side === r[s + S.ORIG_SIDE];
  const flags = pkt.tcpFlags;
  const SYN = (flags & TcpFlag.SYN) !== 0;
  const ACK = (flags & TcpFlag.ACK) !== 0;
  const FIN = (flags & TcpFlag.FIN) !== 0;
  const RST = (flags & TcpFlag.RST) !== 0;
  const len = pkt.payloadLength;
  const baseSeq = pkt.seq >>> 0;
  const ackSeq = pkt.ack >>> 0;

  recordFacts(store, slot, side, pkt, buf, t, iface, SYN, ACK, RST);

  let segLen = len;
  if (SYN) ++segLen;
  if (FIN) ++segLen;
  if (RST) segLen -= len;
  const seqOnePast = (baseSeq + segLen) >>> 0;

  initEndpoint(r, u, ep, SYN, baseSeq, seqOnePast);

  const relSeq = getRelativeSeq(u, ep, baseSeq, u[ep + E.LAST_SEQ]!, r[ep + E.SEQ_WRAPS]!);
  updateHistory(store, slot, endpointWideBase(slot, side), isOrig, SYN, ACK, FIN, RST, relSeq, len);

  // update_window: only the zero-window letter is tracked. A scaled window is zero
  // exactly when the raw one is.
  if (
    pkt.window === 0 &&
    !RST &&
    r[peer + E.STATE] !== EndpointState.CLOSED &&
    r[ep + E.STATE] !== EndpointState.RESET &&
    bumpScaled(r, ep + E.ZERO_WIN_COUNT)
  ) {
    addHistoryFor(store, slot, Letter.W, isOrig);
  }

  if (r[ep + E.DID_CLOSE] === 0 || r[peer + E.DID_CLOSE] === 0) w[sw + W.LAST_TIME] = t;

  if (FIN) r[ep + E.FIN_CNT]++;

  if (ACK) {
    if (r[peer + E.STATE] === EndpointState.INACTIVE) {
      // init_peer: number the peer as if its SYN had been seen.
      const n = (ackSeq - 1) >>> 0;
      u[peer + E.START_SEQ] = n;
      u[peer + E.ACK_SEQ] = n;
      u[peer + E.LAST_SEQ] = n;
    } else {
      const peerAck = u[peer + E.ACK_SEQ]!;
      getRelativeSeq(u, peer, ackSeq, peerAck, r[peer + E.ACK_WRAPS]!);
      if (!relUnderflow && !RST) {
        // update_ack_seq
        const deltaAck = seqDelta(ackSeq, peerAck);
        if (!(ackSeq === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) && deltaAck > 0) updateAckSeq(r, u, peer, ackSeq);
      }
    }
  }

  // update_last_seq
  const lastSeq = u[ep + E.LAST_SEQ]!;
  const deltaLast = seqDelta(seqOnePast, lastSeq);
  if ((SYN || RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    // untrusted jump
  } else if (FIN && lastSeq === ((u[ep + E.START_SEQ]! + 1) >>> 0)) {
    updateLastSeq(r, u, ep, seqOnePast);
  } else if (r[ep + E.STATE] === EndpointState.RESET) {
    // don't trust any subsequent sequence numbers
  } else if (deltaLast > 0) {
    updateLastSeq(r, u, ep, seqOnePast);
  } else if (len > 0 && bumpScaled(r, ep + E.RXMIT_COUNT)) {
    addHistoryFor(store, slot, Letter.T, isOrig);
  }

  let doClose = false;
  switch (r[ep + E.STATE]) {
    case EndpointState.INACTIVE:
      doClose = updateInactive(store, slot, t, ep, peer, baseSeq, len, isOrig, SYN, ACK, FIN, RST, timersOn);
      break;
    case EndpointState.SYN_SENT:
    case EndpointState.SYN_ACK_SENT:
      if (FIN) {
        setState(r, ep, EndpointState.CLOSED);
        doClose = true;
      }
      if (RST) {
        setState(r, ep, EndpointState.RESET);
        r[s + S.ACTIVE] = 0; // ConnectionReset
        doClose = true;
      }
      break;
    case EndpointState.ESTABLISHED:
    case EndpointState.PARTIAL:
      if (SYN && r[ep + E.STATE] === EndpointState.PARTIAL && r[peer + E.STATE] === EndpointState.INACTIVE && !ACK) {
        setState(r, ep, EndpointState.SYN_SENT); // SYN_after_partial
      }
      if (FIN && !RST) {
        setState(r, ep, EndpointState.CLOSED);
        if (r[peer + E.STATE] === EndpointState.RESET && r[peer + E.PREV_STATE] === EndpointState.CLOSED) {
          // The peer sent a FIN and then a RST: a normal termination after all.
          setState(r, peer, EndpointState.CLOSED);
        }
        doClose = true;
      }
      if (RST) {
        setState(r, ep, EndpointState.RESET);
        doClose = true;
        if (r[peer + E.STATE] !== EndpointState.RESET || r[peer + E.PREV_STATE] !== EndpointState.ESTABLISHED) {
          r[s + S.ACTIVE] = 0;
        }
      }
      break;
    case EndpointState.CLOSED:
      if (RST && r[peer + E.STATE] !== EndpointState.CLOSED) {
        setState(r, ep, EndpointState.RESET);
        if (r[ep + E.DID_CLOSE] === 0) doClose = true;
        w[sw + W.RESET_AT] = t + ZEEK_TCP_RESET_DELAY;
      }
      break;
    default:
      break;
  }

  if (doClose) connectionClosed(r, w, s, sw, ep, peer);
}

/** init_endpoint: set up or re-initialize the sequence space of the endpoint at `e`. */
function initEndpoint(r: Int32Array, u: Uint32Array, e: number, SYN: boolean, firstSeq: number, lastSeq: number): void {
  switch (r[e + E.STATE]) {
    case EndpointState.INACTIVE:
      if (SYN) {
        u[e + E.ACK_SEQ] = firstSeq;
        u[e + E.START_SEQ] = firstSeq;
      } else {
        const n = (firstSeq - 1) >>> 0;
        u[e + E.ACK_SEQ] = n;
        u[e + E.START_SEQ] = n;
        lastSeq = firstSeq;
      }
      u[e + E.LAST_SEQ] = lastSeq;
      break;
    case EndpointState.SYN_SENT:
    case EndpointState.SYN_ACK_SENT:
      if (SYN && firstSeq !== u[e + E.START_SEQ]) {
        u[e + E.START_SEQ] = firstSeq;
        u[e + E.ACK_SEQ] = firstSeq;
        u[e + E.LAST_SEQ] = lastSeq;
      }
      break;
    case EndpointState.ESTABLISHED:
    case EndpointState.PARTIAL:
      if (SYN) {
        u[e + E.START_SEQ] = firstSeq;
        u[e + E.ACK_SEQ] = firstSeq;
        u[e + E.LAST_SEQ] = lastSeq;
      }
      break;
    case EndpointState.RESET:
      if (SYN && r[e + E.PREV_STATE] === EndpointState.INACTIVE) {
        u[e + E.START_SEQ] = firstSeq;
        u[e + E.ACK_SEQ] = firstSeq;
        u[e + E.LAST_SEQ] = lastSeq;
      }
      break;
    default:
      break;
  }
}

/** update_history for a segment from the endpoint whose wide fields are at `e`. */
function updateHistory(
  store: FlowStore,
  slot: number,
  e: number,
  o: boolean,
  SYN: boolean,
  ACK: boolean,
  FIN: boolean,
  RST: boolean,
  relSeq: number,
  len: number,
): void {
  const r = store.wide;
  const bits = (SYN ? 1 : 0) + (FIN ? 1 : 0) + (RST ? 1 : 0);
  if (bits > 1) {
    if (FIN && RST) checkHistory(store, slot, Hist.FIN_RST_PKT, Letter.I, o);
    else checkHistory(store, slot, Hist.MULTI_FLAG_PKT, Letter.Q, o);
  } else if (bits === 1) {
    if (SYN) {
      const code = ACK ? Letter.H : Letter.S;
      if (checkHistory(store, slot, Hist.SYN_PKT, code, o) && relSeq !== r[e + EW.HIST_LAST_SYN]) addHistoryFor(store, slot, code, o);
      r[e + EW.HIST_LAST_SYN] = relSeq;
    }
    if (FIN) {
      if (checkHistory(store, slot, Hist.FIN_PKT, Letter.F, o) && relSeq + len !== r[e + EW.HIST_LAST_FIN]) addHistoryFor(store, slot, Letter.F, o);
      r[e + EW.HIST_LAST_FIN] = relSeq + len;
    }
    if (RST) {
      if (checkHistory(store, slot, Hist.RST_PKT, Letter.R, o) && relSeq !== r[e + EW.HIST_LAST_RST]) addHistoryFor(store, slot, Letter.R, o);
      r[e + EW.HIST_LAST_RST] = relSeq;
    }
  } else if (len) {
    checkHistory(store, slot, Hist.DATA_PKT, Letter.D, o);
  } else if (ACK) {
    checkHistory(store, slot, Hist.ACK_PKT, Letter.A, o);
  }
}

/** UpdateInactiveState; returns do_close. */
function updateInactive(
  store: FlowStore,
  slot: number,
  t: number,
  ep: number,
  peer: number,
  baseSeq: number,
  len: number,
  isOrig: boolean,
  SYN: boolean,
  ACK: boolean,
  FIN: boolean,
  RST: boolean,
  timersOn: boolean,
): boolean {
  const r = store.int;
  const s = slot * Layout.WORDS;
  let doClose = false;
  if (SYN) {
    if (isOrig) {
      setState(r, ep, ACK ? EndpointState.SYN_ACK_SENT : EndpointState.SYN_SENT);
      if (timersOn) store.wide[slot * Layout.WIDE_WORDS + W.ATTEMPT_AT] = t + ZEEK_TCP_ATTEMPT_DELAY;
    } else {
      if (ACK) {
        // bad_SYN_ack weird only
      } else if (r[peer + E.STATE] === EndpointState.SYN_ACK_SENT && baseSeq === store.uint[ep + E.START_SEQ]) {
        // SYN/SYN-ACK reversal (captured out of order): flip and establish.
        flipRoles(store, slot);
        setState(r, peer, EndpointState.ESTABLISHED);
      }
      if (r[peer + E.STATE] === EndpointState.SYN_SENT) setState(r, peer, EndpointState.ESTABLISHED);
      setState(r, ep, EndpointState.ESTABLISHED);
    }
  }
  if (FIN) {
    setState(r, ep, EndpointState.CLOSED);
    doClose = true;
  }
  if (RST) {
    setState(r, ep, EndpointState.RESET);
    doClose = true;
  }
  if (r[ep + E.STATE] === EndpointState.INACTIVE) {
    const orig = endpointBase(slot, r[s + S.ORIG_SIDE]!);
    if (!isOrig && len === 0 && r[orig + E.STATE] === EndpointState.SYN_SENT) {
      // An ACK of the initial SYN before the SYN-ACK: not a partial connection.
    } else if (ACK && r[peer + E.STATE] === EndpointState.ESTABLISHED) {
      // SYN-ACK seen, SYN missed, now a pure ACK: establish.
      setState(r, ep, EndpointState.ESTABLISHED);
    } else {
      setState(r, ep, EndpointState.PARTIAL);
    }
  }
  return doClose;
}

/** ConnectionClosed without reassembly (nothing is ever pending). `s`, `sw`: the record's offsets in the int and wide views. */
function connectionClosed(r: Int32Array, w: Float64Array, s: number, sw: number, ep: number, peer: number): void {
  if (r[ep + E.DID_CLOSE] === 1) return;
  r[ep + E.DID_CLOSE] = 1;
  const closeComplete =
    r[ep + E.STATE] === EndpointState.RESET || r[peer + E.DID_CLOSE] === 1 || r[peer + E.STATE] === EndpointState.INACTIVE;
  if (closeComplete) {
    if (r[ep + E.PREV_STATE] !== EndpointState.INACTIVE || r[peer + E.STATE] !== EndpointState.INACTIVE) {
      r[s + S.ACTIVE] = 0; // ConnectionFinished
    }
    // CancelTimers, then the delete timer.
    w[sw + W.ATTEMPT_AT] = -1;
    w[sw + W.RESET_AT] = -1;
    w[sw + W.DELETE_AT] = w[sw + W.LAST_TIME]! + ZEEK_TCP_CLOSE_DELAY;
  }
}

/** synscope's own per-side counters and handshake facts, for a segment from `side`. */
function recordFacts(
  store: FlowStore,
  slot: number,
  side: number,
  pkt: DecodedPacket,
  buf: Buffer,
  t: number,
  iface: number,
  SYN: boolean,
  ACK: boolean,
  RST: boolean,
): void {
  const r = store.int;
  const u = store.uint;
  const w = store.wide;
  const s = slot * Layout.WORDS;
  const sw = slot * Layout.WIDE_WORDS;
  const ep = endpointBase(slot, side);
  const peer = endpointBase(slot, 1 - side);
  w[sw + W.PACKETS_A + side]++;
  if (t > w[sw + W.LAST_SEEN]!) w[sw + W.LAST_SEEN] = t;
  if (t < w[sw + W.FIRST_SEEN]!) w[sw + W.FIRST_SEEN] = t;
  noteInterface(store, slot, iface);

  if (SYN && !ACK) {
    r[ep + E.SYNS]++;
    if (r[s + S.SYN_FROM] === 0) {
      const o = parseTcpOptions(buf, pkt.tcpOptionsOffset, pkt.tcpOptionsLength);
      r[s + S.SYN_FROM] = side + 1;
      w[sw + W.SYN_AT] = t;
      u[s + S.SYN_ISN] = pkt.seq >>> 0;
      r[s + S.SYN_MSS] = o.mss ?? -1;
      r[s + S.SYN_WSCALE] = o.windowScale ?? -1;
      r[s + S.SYN_SACK] = o.sackPermitted ? 1 : 0;
      w[sw + W.SYN_TSVAL] = o.tsVal ?? -1;
      w[sw + W.SYN_TSECR] = o.tsEcr ?? -1;
      r[s + S.SYN_IP_ID] = pkt.ipId >= 0 ? pkt.ipId : -1;
      r[s + S.SYN_TTL] = pkt.ttl;
    }
    u[ep + E.LAST_SYN_SEQ] = pkt.seq >>> 0;
  } else if (SYN && ACK && !RST) {
    r[ep + E.SYN_ACKS]++;
    u[ep + E.SYN_ACK_SEQ] = pkt.seq >>> 0;
    if (r[s + S.SYN_ACK_FROM] === 0) {
      r[s + S.SYN_ACK_FROM] = side + 1;
      w[sw + W.SYN_ACK_AT] = t;
    }
  } else if (ACK && !RST && r[ep + E.ACKED_PEER_SYN_ACK] === 0 && r[ep + E.SYNS]! > 0) {
    // The third step of the handshake: an ACK after our SYN, for the peer's SYN-ACK
    // (or for a SYN-ACK the capture missed).
    if (r[peer + E.SYN_ACKS] === 0 || seqDelta(pkt.ack >>> 0, u[peer + E.SYN_ACK_SEQ]!) >= 1) r[ep + E.ACKED_PEER_SYN_ACK] = 1;
  }
  if (RST && r[peer + E.ACKED_PEER_SYN_ACK] === 0) r[ep + E.RST_BEFORE_HANDSHAKE] = 1;
  if (r[ep + E.FIRST_KIND] === 0) r[ep + E.FIRST_KIND] = SYN ? (ACK ? 2 : 1) : 3;
}

/** The flow was seen on `iface`: its first interface, or one more in the store's side map. */
export function noteInterface(store: FlowStore, slot: number, iface: number): void {
  const at = slot * Layout.WORDS + S.IFACE0;
  const iface0 = store.int[at];
  if (iface0 === iface) return;
  if (iface0 === -1) store.int[at] = iface;
  else addInterface(store, slot, iface0!, iface);
}

/** A packet of the flow on an interface other than its first one (rare: multi-interface captures). */
function addInterface(store: FlowStore, slot: number, iface0: number, iface: number): void {
  let list = store.interfaces.get(slot);
  if (list === undefined) {
    list = [iface0];
    store.interfaces.set(slot, list);
  }
  if (!list.includes(iface)) list.push(iface);
}
