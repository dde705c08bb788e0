import type { DecodedPacket } from '../decode/packet';
import { TcpFlag } from '../decode/packet';
import { parseTcpOptions } from '../decode/tcp-options';
import type { SynOptions } from './flow';
import { Hist, History } from './history';
import { EndpointState, ZeekEndpoint, seqDelta } from './zeek-endpoint';

/** TCP.cc TOO_LARGE_SEQ_DELTA: SYN/RST sequence jumps beyond this are not trusted. */
const TOO_LARGE_SEQ_DELTA = 1048576;

/** Zeek timers (scripts/base/init-bare.zeek). */
export const ZEEK_TCP_ATTEMPT_DELAY = 5;
export const ZEEK_TCP_CLOSE_DELAY = 5;
export const ZEEK_TCP_RESET_DELAY = 5;
export const ZEEK_TCP_INACTIVITY_TIMEOUT = 300;

let relUnderflow = false;

/** TCPSessionAdapter::get_relative_seq; sets the module flag `relUnderflow`. */
function getRelativeSeq(ep: ZeekEndpoint, cur: number, last: number, wraps: number): number {
  relUnderflow = false;
  let delta = seqDelta(cur, last);
  if (delta < 0) {
    if (wraps && cur > last) --wraps;
  } else if (delta > 0) {
    if (cur < last) ++wraps;
  }
  if (wraps === 0) {
    delta = seqDelta(cur, ep.startSeq);
    if (delta < 0) relUnderflow = true;
    return delta;
  }
  return ep.toRelativeSeqSpace(cur, wraps);
}

/** Per-SYN facts of the side that sent the first bare SYN. */
export interface SynFacts {
  at: number;
  isn: number;
  options: SynOptions;
  ipId: number | null;
  ttl: number;
}

export interface IcmpAnswer {
  /** The endpoint whose SYN the ICMP error quoted. */
  quoted: ZeekEndpoint;
  from: Uint32Array;
  fromVersion: 4 | 6;
  type: number;
  code: number;
}

/**
 * One TCP connection with Zeek's per-packet processing (TCPSessionAdapter::Process and the
 * Update*State functions of src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc):
 * endpoint states, relative sequence numbers with wraparound, and history letters.
 *
 * Limits (deliberate): no checksum validation (baselines run with -C), no stream
 * reassembly, so no content-gap letters (g/G) and no DataPending deferral of closes;
 * window tracking only as far as zero-window letters need it.
 */
export class TcpSession {
  /** Creation order number (flow id "f<n>"). */
  readonly seqNo: number;
  readonly ipVersion: 4 | 6;
  /** Endpoint that sent the packet creating the session, and its peer. The table keys on these. */
  readonly a: ZeekEndpoint;
  readonly b: ZeekEndpoint;
  orig: ZeekEndpoint;
  resp: ZeekEndpoint;
  readonly history = new History();
  /** Flow-table bookkeeping. */
  hash = 0;
  tableSlot = -1;
  removed = false;
  /** Deadline this session is currently queued under in the expiry heap (-1: not queued). */
  queuedAt = -1;

  firstSeen: number;
  lastSeen: number;
  /** Zeek's Connection::LastTime: not advanced once both sides closed. */
  lastTime: number;
  packets = 0;
  readonly interfaces: number[] = [];
  /** Zeek's is_active (cleared when the connection is reported finished or reset). */
  isActive = true;
  /** Zeek timers as absolute times, -1 when not armed. */
  attemptAt = -1;
  deleteAt = -1;
  resetAt = -1;
  /** First packet was a SYN-ACK from the (unflipped) originator: candidate for the PR #2191 flip. */
  beganWithSynAck = false;
  synFacts: SynFacts | null = null;
  synFactsFrom: ZeekEndpoint | null = null;
  firstSynAckAt = -1;
  firstSynAckFrom: ZeekEndpoint | null = null;
  icmp: IcmpAnswer | null = null;

  constructor(seqNo: number, pkt: DecodedPacket, t: number) {
    this.seqNo = seqNo;
    this.ipVersion = pkt.ipVersion === 6 ? 6 : 4;
    this.a = new ZeekEndpoint(true);
    this.b = new ZeekEndpoint(false);
    this.a.setAddress(pkt.src, pkt.srcPort);
    this.b.setAddress(pkt.dst, pkt.dstPort);
    this.orig = this.a;
    this.resp = this.b;
    this.firstSeen = this.lastSeen = this.lastTime = t;
  }

  /** The endpoint that sent `pkt` (src address and port match). */
  senderOf(pkt: DecodedPacket): ZeekEndpoint {
    // A connection from a host to itself on the same port matches both; take a.
    return this.a.is(pkt.src, pkt.srcPort) ? this.a : this.b;
  }

  /** Connection::FlipRoles: swap originator and responder, append '^'. */
  flipRoles(): void {
    const tmp = this.orig;
    this.orig = this.resp;
    this.resp = tmp;
    this.orig.isOrig = true;
    this.resp.isOrig = false;
    this.history.add('^');
  }

  /**
   * Zeek's flip of a connection that began with a SYN-ACK when an ACK or data segment
   * follows (zeek PR #2191). The baselines (one-sided-2745 "^haf", ctu-64702 "^hAfdtFr",
   * flip-without-syn "^hADadFf") read as if the roles had been flipped before the SYN-ACK,
   * so that is what this reproduces: the SYN-ACK's sender becomes an ESTABLISHED responder.
   */
  flipAfterSynAck(): void {
    const tmp = this.orig;
    this.orig = this.resp;
    this.resp = tmp;
    this.orig.isOrig = true;
    this.resp.isOrig = false;
    this.resp.prevState = EndpointState.INACTIVE;
    this.resp.state = EndpointState.ESTABLISHED;
    this.attemptAt = -1;
    this.history.flipFromStart();
    this.beganWithSynAck = false;
  }

  /** TCPSessionAdapter::IsReuse: does this SYN start a new connection on the same tuple? */
  isReuse(pkt: DecodedPacket): boolean {
    const flags = pkt.tcpFlags;
    if (!(flags & TcpFlag.SYN)) return false;
    let connOrig = this.orig;
    if (flags & TcpFlag.ACK) {
      if (this.orig.state !== EndpointState.INACTIVE) return false;
      connOrig = this.resp;
    }
    if (!(this.orig.didClose || this.resp.didClose)) {
      const baseSeq = pkt.seq >>> 0;
      if (baseSeq === connOrig.startSeq) return false;
      if (
        !(flags & TcpFlag.ACK) &&
        connOrig.state === EndpointState.SYN_ACK_SENT &&
        this.resp.state === EndpointState.INACTIVE &&
        baseSeq === this.resp.startSeq
      ) {
        return false;
      }
    }
    return true;
  }

  /**
   * Processes one TCP segment sent by `endpoint` (TCPSessionAdapter::Process).
   * `timersOn` arms Zeek's attempt timer.
   */
  process(pkt: DecodedPacket, buf: Buffer, t: number, iface: number, endpoint: ZeekEndpoint, timersOn: boolean): void {
    const peer = endpoint === this.a ? this.b : this.a;
    const isOrig = endpoint === this.orig;
    const flags = pkt.tcpFlags;
    const SYN = (flags & TcpFlag.SYN) !== 0;
    const ACK = (flags & TcpFlag.ACK) !== 0;
    const FIN = (flags & TcpFlag.FIN) !== 0;
    const RST = (flags & TcpFlag.RST) !== 0;
    const len = pkt.payloadLength;
    const baseSeq = pkt.seq >>> 0;
    const ackSeq = pkt.ack >>> 0;

    this.recordFacts(pkt, buf, t, iface, endpoint, peer, SYN, ACK, RST);

    let segLen = len;
    if (SYN) ++segLen;
    if (FIN) ++segLen;
    if (RST) segLen -= len;
    const seqOnePast = (baseSeq + segLen) >>> 0;

    this.initEndpoint(endpoint, SYN, baseSeq, seqOnePast, t);

    const relSeq = getRelativeSeq(endpoint, baseSeq, endpoint.lastSeq, endpoint.seqWraps);
    this.updateHistory(endpoint, SYN, ACK, FIN, RST, relSeq, len);

    // update_window: only the zero-window letter is tracked. A scaled window is zero
    // exactly when the raw one is.
    if (
      pkt.window === 0 &&
      !RST &&
      peer.state !== EndpointState.CLOSED &&
      endpoint.state !== EndpointState.RESET &&
      endpoint.zeroWindow.bump()
    ) {
      this.history.addFor('W', endpoint.isOrig);
    }

    if (!this.orig.didClose || !this.resp.didClose) this.lastTime = t;

    if (FIN) ++endpoint.finCnt;
    if (RST) ++endpoint.rstCnt;

    if (ACK) {
      if (peer.state === EndpointState.INACTIVE) {
        // init_peer: number the peer as if its SYN had been seen.
        const s = (ackSeq - 1) >>> 0;
        peer.startSeq = s;
        peer.ackSeq = s;
        peer.lastSeq = s;
      } else {
        getRelativeSeq(peer, ackSeq, peer.ackSeq, peer.ackWraps);
        if (!relUnderflow && !RST) {
          // update_ack_seq
          const deltaAck = seqDelta(ackSeq, peer.ackSeq);
          if (!(ackSeq === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) && deltaAck > 0) peer.updateAckSeq(ackSeq);
        }
      }
    }

    // update_last_seq
    const deltaLast = seqDelta(seqOnePast, endpoint.lastSeq);
    if ((SYN || RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // untrusted jump
    } else if (FIN && endpoint.lastSeq === ((endpoint.startSeq + 1) >>> 0)) {
      endpoint.updateLastSeq(seqOnePast);
    } else if (endpoint.state === EndpointState.RESET) {
      // don't trust any subsequent sequence numbers
    } else if (deltaLast > 0) {
      endpoint.updateLastSeq(seqOnePast);
    } else if (len > 0 && endpoint.rxmit.bump()) {
      this.history.addFor('T', endpoint.isOrig);
    }

    let doClose = false;
    switch (endpoint.state) {
      case EndpointState.INACTIVE:
        doClose = this.updateInactive(t, endpoint, peer, baseSeq, len, isOrig, SYN, ACK, FIN, RST, timersOn);
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        if (FIN) {
          endpoint.setState(EndpointState.CLOSED);
          doClose = true;
        }
        if (RST) {
          endpoint.setState(EndpointState.RESET);
          this.isActive = false; // ConnectionReset
          doClose = true;
        }
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        if (SYN && endpoint.state === EndpointState.PARTIAL && peer.state === EndpointState.INACTIVE && !ACK) {
          endpoint.setState(EndpointState.SYN_SENT); // SYN_after_partial
        }
        if (FIN && !RST) {
          endpoint.setState(EndpointState.CLOSED);
          if (peer.state === EndpointState.RESET && peer.prevState === EndpointState.CLOSED) {
            // The peer sent a FIN and then a RST: a normal termination after all.
            peer.setState(EndpointState.CLOSED);
          }
          doClose = true;
        }
        if (RST) {
          endpoint.setState(EndpointState.RESET);
          doClose = true;
          if (peer.state !== EndpointState.RESET || peer.prevState !== EndpointState.ESTABLISHED) {
            this.isActive = false;
          }
        }
        break;
      case EndpointState.CLOSED:
        if (RST && peer.state !== EndpointState.CLOSED) {
          endpoint.setState(EndpointState.RESET);
          if (!endpoint.didClose) doClose = true;
          this.resetAt = t + ZEEK_TCP_RESET_DELAY;
        }
        break;
      case EndpointState.RESET:
        break;
    }

    if (doClose) this.connectionClosed(endpoint, peer);
  }

  /** init_endpoint: set up or re-initialize this side's sequence space. */
  private initEndpoint(ep: ZeekEndpoint, SYN: boolean, firstSeq: number, lastSeq: number, t: number): void {
    switch (ep.state) {
      case EndpointState.INACTIVE:
        if (SYN) {
          ep.ackSeq = firstSeq;
          ep.startSeq = firstSeq;
        } else {
          const s = (firstSeq - 1) >>> 0;
          ep.ackSeq = s;
          ep.startSeq = s;
          lastSeq = firstSeq;
        }
        ep.lastSeq = lastSeq;
        void t;
        break;
      case EndpointState.SYN_SENT:
      case EndpointState.SYN_ACK_SENT:
        if (SYN && firstSeq !== ep.startSeq) {
          ep.startSeq = firstSeq;
          ep.ackSeq = firstSeq;
          ep.lastSeq = lastSeq;
        }
        break;
      case EndpointState.ESTABLISHED:
      case EndpointState.PARTIAL:
        if (SYN) {
          ep.startSeq = firstSeq;
          ep.ackSeq = firstSeq;
          ep.lastSeq = lastSeq;
        }
        break;
      case EndpointState.RESET:
        if (SYN && ep.prevState === EndpointState.INACTIVE) {
          ep.startSeq = firstSeq;
          ep.ackSeq = firstSeq;
          ep.lastSeq = lastSeq;
        }
        break;
      default:
        break;
    }
  }

  /** update_history. */
  private updateHistory(ep: ZeekEndpoint, SYN: boolean, ACK: boolean, FIN: boolean, RST: boolean, relSeq: number, len: number): void {
    const h = this.history;
    const o = ep.isOrig;
    const bits = (SYN ? 1 : 0) + (FIN ? 1 : 0) + (RST ? 1 : 0);
    if (bits > 1) {
      if (FIN && RST) h.check(Hist.FIN_RST_PKT, 'I', o);
      else h.check(Hist.MULTI_FLAG_PKT, 'Q', o);
    } else if (bits === 1) {
      if (SYN) {
        const code = ACK ? 'H' : 'S';
        if (h.check(Hist.SYN_PKT, code, o) && relSeq !== ep.histLastSyn) h.addFor(code, o);
        ep.histLastSyn = relSeq;
      }
      if (FIN) {
        if (h.check(Hist.FIN_PKT, 'F', o) && relSeq + len !== ep.histLastFin) h.addFor('F', o);
        ep.histLastFin = relSeq + len;
      }
      if (RST) {
        if (h.check(Hist.RST_PKT, 'R', o) && relSeq !== ep.histLastRst) h.addFor('R', o);
        ep.histLastRst = relSeq;
      }
    } else if (len) {
      h.check(Hist.DATA_PKT, 'D', o);
    } else if (ACK) {
      h.check(Hist.ACK_PKT, 'A', o);
    }
  }

  /** UpdateInactiveState; returns do_close. */
  private updateInactive(
    t: number,
    endpoint: ZeekEndpoint,
    peer: ZeekEndpoint,
    baseSeq: number,
    len: number,
    isOrig: boolean,
    SYN: boolean,
    ACK: boolean,
    FIN: boolean,
    RST: boolean,
    timersOn: boolean,
  ): boolean {
    let doClose = false;
    if (SYN) {
      if (isOrig) {
        endpoint.setState(ACK ? EndpointState.SYN_ACK_SENT : EndpointState.SYN_SENT);
        if (timersOn) this.attemptAt = t + ZEEK_TCP_ATTEMPT_DELAY;
      } else {
        if (ACK) {
          // bad_SYN_ack weird only
        } else if (peer.state === EndpointState.SYN_ACK_SENT && baseSeq === endpoint.startSeq) {
          // SYN/SYN-ACK reversal (captured out of order): flip and establish.
          this.flipRoles();
          peer.setState(EndpointState.ESTABLISHED);
        }
        if (peer.state === EndpointState.SYN_SENT) peer.setState(EndpointState.ESTABLISHED);
        endpoint.setState(EndpointState.ESTABLISHED);
      }
    }
    if (FIN) {
      endpoint.setState(EndpointState.CLOSED);
      doClose = true;
    }
    if (RST) {
      endpoint.setState(EndpointState.RESET);
      doClose = true;
    }
    if (endpoint.state === EndpointState.INACTIVE) {
      if (!isOrig && len === 0 && this.orig.state === EndpointState.SYN_SENT) {
        // An ACK of the initial SYN before the SYN-ACK: not a partial connection.
      } else if (ACK && peer.state === EndpointState.ESTABLISHED) {
        // SYN-ACK seen, SYN missed, now a pure ACK: establish.
        endpoint.setState(EndpointState.ESTABLISHED);
      } else {
        endpoint.setState(EndpointState.PARTIAL);
      }
    }
    return doClose;
  }

  /** ConnectionClosed without reassembly (nothing is ever pending). */
  private connectionClosed(endpoint: ZeekEndpoint, peer: ZeekEndpoint): void {
    if (endpoint.didClose) return;
    endpoint.didClose = true;
    const closeComplete =
      endpoint.state === EndpointState.RESET || peer.didClose || peer.state === EndpointState.INACTIVE;
    if (closeComplete) {
      if (endpoint.prevState !== EndpointState.INACTIVE || peer.state !== EndpointState.INACTIVE) {
        this.isActive = false; // ConnectionFinished
      }
      // CancelTimers, then the delete timer.
      this.attemptAt = -1;
      this.resetAt = -1;
      this.deleteAt = this.lastTime + ZEEK_TCP_CLOSE_DELAY;
    }
  }

  /** synscope's own per-side counters and handshake facts. */
  private recordFacts(
    pkt: DecodedPacket,
    buf: Buffer,
    t: number,
    iface: number,
    ep: ZeekEndpoint,
    peer: ZeekEndpoint,
    SYN: boolean,
    ACK: boolean,
    RST: boolean,
  ): void {
    this.packets++;
    ep.packets++;
    if (t > this.lastSeen) this.lastSeen = t;
    if (t < this.firstSeen) this.firstSeen = t;
    const ifs = this.interfaces;
    if (ifs.length === 0 || (ifs[0] !== iface && !ifs.includes(iface))) ifs.push(iface);

    if (SYN && !ACK) {
      ep.syns++;
      if (this.synFacts === null) {
        const o = parseTcpOptions(buf, pkt.tcpOptionsOffset, pkt.tcpOptionsLength);
        this.synFacts = {
          at: t,
          isn: pkt.seq >>> 0,
          options: { mss: o.mss, windowScale: o.windowScale, sackPermitted: o.sackPermitted, tsVal: o.tsVal, tsEcr: o.tsEcr },
          ipId: pkt.ipId >= 0 ? pkt.ipId : null,
          ttl: pkt.ttl,
        };
        this.synFactsFrom = ep;
      }
      ep.lastSynSeq = pkt.seq >>> 0;
    } else if (SYN && ACK && !RST) {
      ep.synAcks++;
      ep.synAckSeq = pkt.seq >>> 0;
      if (this.firstSynAckAt < 0) {
        this.firstSynAckAt = t;
        this.firstSynAckFrom = ep;
      }
    } else if (ACK && !RST && !ep.ackedPeerSynAck && ep.syns > 0) {
      // The third step of the handshake: an ACK after our SYN, for the peer's SYN-ACK
      // (or for a SYN-ACK the capture missed).
      if (peer.synAcks === 0 || seqDelta(pkt.ack >>> 0, peer.synAckSeq) >= 1) ep.ackedPeerSynAck = true;
    }
    if (RST && !peer.ackedPeerSynAck) ep.rstBeforeHandshake = true;
    if (ep.firstKind === 0) ep.firstKind = SYN ? (ACK ? 2 : 1) : 3;
  }
}
