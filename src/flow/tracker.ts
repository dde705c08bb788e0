import { TcpFlag, Transport, type DecodedPacket } from '../decode/packet';
import type { Flow } from './flow';
import { EvictedAttempts } from './evicted-attempts';
import { DeadlineHeap } from './deadline-heap';
import { E, Layout, S, W, endpointBase } from './flow-record';
import { FlowStore } from './flow-store';
import { FlowTable, tupleHash } from './flow-table';
import { FlowView } from './flow-view';
import { isInterfaceCopy } from './interface-copy';
import {
  ZEEK_TCP_CLOSE_DELAY,
  ZEEK_TCP_INACTIVITY_TIMEOUT,
  ZEEK_TCP_RESET_DELAY,
  flipAfterSynAck,
  flipRoles,
  isReuse,
  noteInterface,
  processSegment,
} from './tcp-session';
import { EndpointState } from './zeek-endpoint';

/**
 * Ports Zeek would call likely servers in a default run (its likely_server_ports grows with
 * the loaded protocol scripts). Used only to orient a connection whose first packet is not a
 * bare SYN: then the side on a likely server port is the responder.
 */
export const DEFAULT_LIKELY_SERVER_PORTS: readonly number[] = [
  21, 22, 23, 25, 53, 80, 88, 110, 111, 135, 139, 143, 389, 443, 445, 465, 502, 587, 636, 993, 995, 1080,
  1433, 1521, 1883, 2049, 2375, 2376, 2379, 2380, 3128, 3268, 3306, 3389, 5060, 5432, 5672, 5900, 6379, 6443,
  6666, 6667, 6668, 6669, 8000, 8080, 8443, 8888, 9092, 9200, 10250, 11211, 27017,
];

export interface FlowTrackerOptions {
  /**
   * Called once per flow when it leaves the table (closed, idle, attempt timer, or finish()),
   * with the full record. Give this or onFlowView.
   */
  onFlow?(flow: Flow): void;
  /**
   * Like onFlow, but hands out a reused lightweight view: counts and outcome without
   * building a Flow (view.toFlow() builds it). Cheaper when most flows are only counted.
   * Takes precedence over onFlow.
   */
  onFlowView?(view: FlowView): void;
  /**
   * Emulate Zeek's timers that split conns (tcp_attempt_delay 5 s, close/reset delay 5 s,
   * inactivity 5 min) for oracle comparison. Default false: an attempt keeps all its SYN
   * retransmissions (Linux retries at 1, 3, 7, 15, 31 s...) in one flow.
   */
  zeekTimers?: boolean;
  /** Ports that orient a connection not starting with a bare SYN (default DEFAULT_LIKELY_SERVER_PORTS). */
  likelyServerPorts?: Iterable<number>;
  /**
   * Seconds after a full close (both FINs, or a RST) before the flow leaves the table, so
   * late ACKs and retransmitted FINs still land in it. Default 5 (Zeek's tcp_close_delay).
   */
  closeDelay?: number;
  /**
   * Seconds without a packet before an unanswered attempt leaves the table (default mode).
   * Default 150: longer than Linux's longest gap between SYN retries with the default
   * tcp_syn_retries=6 (gaps 1, 2, 4, 8, 16, 32, 64 s), so retries stay in one flow.
   */
  attemptIdleTimeout?: number;
  /** Seconds without a packet before any other flow leaves the table. Default 300 (Zeek's tcp_inactivity_timeout). */
  idleTimeout?: number;
  /**
   * Flows held at most (default MAX_LIVE_FLOWS). At the limit a new flow first ends the one
   * whose deadline is nearest (an attempt idle the longest, mostly), as if its timer had
   * fired: a SYN flood then holds bounded memory. See FlowTracker.pressure.
   */
  maxLiveFlows?: number;
}

/** About 26 MB of flow records (FlowStore: Layout.RECORD_BYTES per flow). */
export const MAX_LIVE_FLOWS = 50_000;

/** What the flow limit cost: flows ended early, and later packets that met an ended attempt. */
export interface TrackerPressure {
  /** Flows ended before their timer because the table was full. */
  endedEarly: number;
  /** SYN retransmissions of attempts ended early (counted here, not as new attempts). */
  synRetransmissionsAfter: number;
  /** SYN-ACKs or RSTs to attempts ended early: their outcome was decided before the answer came. */
  answersAfter: number;
}


/**
 * Tracks TCP connections through Zeek's endpoint state machine and hands each one to
 * `onFlow` / `onFlowView` when it leaves the table. Feed packets in capture order.
 *
 * Flows live as records in a FlowStore (no objects per flow); the table and the deadline
 * heap hold store slots. Expiry is amortized: a flow sits in the deadline heap under the
 * earliest deadline it has had since it was last queued; when that deadline passes, its
 * current deadline is recomputed and the flow is either emitted or queued again. Timers
 * fire before the packet whose timestamp passes them, as in Zeek.
 */
export class FlowTracker {
  private readonly sink: (view: FlowView) => void;
  private readonly zeekTimers: boolean;
  private readonly likely: Set<number>;
  private readonly closeDelay: number;
  private readonly attemptIdle: number;
  private readonly idle: number;
  private readonly store: FlowStore;
  private readonly table: FlowTable;
  private readonly heap = new DeadlineHeap();
  private readonly view: FlowView;
  private now = -Infinity;
  private created = 0;
  private readonly maxLive: number;
  private evicted: EvictedAttempts | null = null;
  readonly pressure: TrackerPressure = { endedEarly: 0, synRetransmissionsAfter: 0, answersAfter: 0 };

  constructor(options: FlowTrackerOptions) {
    const { onFlow, onFlowView } = options;
    if (onFlowView !== undefined) this.sink = onFlowView;
    else if (onFlow !== undefined) this.sink = (view) => onFlow(view.toFlow());
    else throw new TypeError('FlowTracker needs onFlow or onFlowView');
    this.zeekTimers = options.zeekTimers ?? false;
    this.likely = new Set(options.likelyServerPorts ?? DEFAULT_LIKELY_SERVER_PORTS);
    this.closeDelay = options.closeDelay ?? 5;
    this.attemptIdle = options.attemptIdleTimeout ?? 150;
    this.idle = options.idleTimeout ?? ZEEK_TCP_INACTIVITY_TIMEOUT;
    this.maxLive = options.maxLiveFlows ?? MAX_LIVE_FLOWS;
    this.store = new FlowStore(1024, this.maxLive);
    this.table = new FlowTable(this.store);
    this.view = new FlowView(this.store);
  }

  /** Flows currently held. */
  get size(): number {
    return this.table.size;
  }

  /** Feed a decoded packet (TCP, or an ICMP error quoting TCP; anything else ignored). */
  add(pkt: DecodedPacket, buf: Buffer, time: number, iface: number): void {
    if (time > this.now) {
      this.now = time;
      if (this.heap.peekTime() <= time) this.expire(time);
    }
    if (pkt.fragment) return;
    if (pkt.transport === Transport.TCP) this.addTcp(pkt, buf, time, iface);
    else if (pkt.transport === Transport.ICMP && pkt.icmpQuotesTcp) this.addIcmp(pkt);
  }

  /** Flush every remaining flow to onFlow, in creation order. */
  finish(): void {
    const w = this.store.wide;
    const live: number[] = [];
    for (let slot = 0; slot < this.store.highWater; slot++) if (this.store.isLive(slot)) live.push(slot);
    live.sort((x, y) => w[x * Layout.WIDE_WORDS + W.SEQ_NO]! - w[y * Layout.WIDE_WORDS + W.SEQ_NO]!);
    for (const slot of live) this.emit(slot);
  }

  private addTcp(pkt: DecodedPacket, buf: Buffer, t: number, iface: number): void {
    if (pkt.ipVersion !== 4 && pkt.ipVersion !== 6) return;
    const store = this.store;
    const hash = tupleHash(pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort);
    let slot = this.table.find(hash, pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort);
    if (slot >= 0 && isReuse(store, slot, pkt)) {
      this.emit(slot);
      slot = -1;
    }
    const flags = pkt.tcpFlags;
    if (slot < 0) {
      if (this.evicted !== null && this.metEndedAttempt(pkt, hash)) return;
      if (this.table.size >= this.maxLive && this.heap.length > 0) this.endEarly();
      slot = store.allocate(++this.created, pkt.ipVersion, pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort, t);
      store.int[slot * Layout.WORDS + S.HASH] = hash;
      const bareSyn = (flags & TcpFlag.SYN) !== 0 && (flags & TcpFlag.ACK) === 0;
      if (!bareSyn && this.wantFlip(pkt.srcPort, pkt.dstPort, flags)) flipRoles(store, slot);
      else if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) store.int[slot * Layout.WORDS + S.BEGAN_WITH_SYN_ACK] = 1;
      this.table.insert(slot, hash);
    } else if (
      store.int[slot * Layout.WORDS + S.BEGAN_WITH_SYN_ACK] === 1 &&
      (flags & (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) === 0 &&
      ((flags & TcpFlag.ACK) !== 0 || pkt.payloadLength > 0) &&
      this.stillSynAckOnly(slot)
    ) {
      flipAfterSynAck(store, slot);
    }
    // A connection from a host to itself on the same port matches both sides; take A.
    const side = store.endpointIs(endpointBase(slot, 0), pkt.src, pkt.srcPort) ? 0 : 1;
    if (isInterfaceCopy(store, slot, side, pkt, t, iface)) {
      noteInterface(store, slot, iface);
      return;
    }
    processSegment(store, slot, side, pkt, buf, t, iface, this.zeekTimers);
    this.heap.schedule(slot, this.deadline(slot), store.wide[slot * Layout.WIDE_WORDS + W.SEQ_NO]!);
  }

  /** Table full: end the flow whose deadline is nearest, remembering it if it was an attempt. */
  private endEarly(): void {
    const slot = this.heap.pop();
    const r = this.store.int;
    const origSide = r[slot * Layout.WORDS + S.ORIG_SIDE]!;
    const orig = endpointBase(slot, origSide);
    if (r[orig + E.SYNS]! > 0 && this.stillAttempt(slot)) {
      this.evicted ??= new EvictedAttempts();
      this.evicted.remember(r[slot * Layout.WORDS + S.HASH]!, this.store.uint[orig + E.START_SEQ]!);
    }
    this.pressure.endedEarly++;
    this.emit(slot);
  }

  /** A packet of an attempt ended early: a SYN retransmission is counted, an answer noted; neither starts a flow. */
  private metEndedAttempt(pkt: DecodedPacket, hash: number): boolean {
    const flags = pkt.tcpFlags;
    const syn = (flags & TcpFlag.SYN) !== 0;
    if (syn && (flags & TcpFlag.ACK) === 0 && this.evicted!.has(hash, pkt.seq)) {
      this.pressure.synRetransmissionsAfter++;
      return true;
    }
    if ((syn || (flags & TcpFlag.RST) !== 0) && (flags & TcpFlag.ACK) !== 0 && this.evicted!.has(hash, (pkt.ack - 1) >>> 0)) {
      this.pressure.answersAfter++;
      return true;
    }
    return false;
  }

  /** The originator sent a SYN-ACK and the responder nothing yet (the PR #2191 flip's precondition). */
  private stillSynAckOnly(slot: number): boolean {
    const r = this.store.int;
    const origSide = r[slot * Layout.WORDS + S.ORIG_SIDE]!;
    return (
      r[endpointBase(slot, origSide) + E.STATE] === EndpointState.SYN_ACK_SENT &&
      r[endpointBase(slot, 1 - origSide) + E.STATE] === EndpointState.INACTIVE
    );
  }

  /** TCPAnalyzer::WantConnection's orientation guess for a first packet that is not a bare SYN. */
  private wantFlip(srcPort: number, dstPort: number, flags: number): boolean {
    if (!this.likely.has(srcPort)) return false;
    if (this.likely.has(dstPort)) return (flags & TcpFlag.SYN) === 0 && srcPort < dstPort;
    return true;
  }

  private addIcmp(pkt: DecodedPacket): void {
    const v = pkt.quotedIpVersion;
    if (v !== 4 && v !== 6) return;
    const store = this.store;
    const hash = tupleHash(pkt.quotedSrc, pkt.quotedSrcPort, pkt.quotedDst, pkt.quotedDstPort);
    const slot = this.table.find(hash, pkt.quotedSrc, pkt.quotedSrcPort, pkt.quotedDst, pkt.quotedDstPort);
    if (slot < 0) return;
    const side = store.endpointIs(endpointBase(slot, 0), pkt.quotedSrc, pkt.quotedSrcPort) ? 0 : 1;
    const q = endpointBase(slot, side);
    const u = store.uint;
    const seq = pkt.quotedSeq >>> 0;
    if (store.int[q + E.SYNS] === 0) return;
    // The quoted SYN's sequence number, when the capture kept it, must be this flow's.
    if (!pkt.quotedSeqCut && seq !== u[q + E.LAST_SYN_SEQ] && seq !== u[q + E.START_SEQ]) return;
    if (store.icmp.has(slot)) return;
    const from = new Uint32Array(4);
    from.set(pkt.src);
    store.icmp.set(slot, { quotedSide: side, from, fromVersion: pkt.ipVersion === 6 ? 6 : 4, type: pkt.icmpType, code: pkt.icmpCode });
  }

  /** When this flow should leave the table, given what has happened so far. */
  private deadline(slot: number): number {
    const r = this.store.int;
    const w = this.store.wide;
    const sw = slot * Layout.WIDE_WORDS;
    let d: number;
    if (this.zeekTimers) {
      d = w[sw + W.LAST_TIME]! + ZEEK_TCP_INACTIVITY_TIMEOUT;
      const attemptAt = w[sw + W.ATTEMPT_AT]!;
      if (attemptAt >= 0 && attemptAt < d) d = attemptAt;
    } else {
      const origSide = r[slot * Layout.WORDS + S.ORIG_SIDE]!;
      const os = r[endpointBase(slot, origSide) + E.STATE];
      const attempt =
        (os === EndpointState.SYN_SENT || os === EndpointState.SYN_ACK_SENT) &&
        r[endpointBase(slot, 1 - origSide) + E.STATE] === EndpointState.INACTIVE;
      d = w[sw + W.LAST_SEEN]! + (attempt ? this.attemptIdle : this.idle);
    }
    const deleteAt = w[sw + W.DELETE_AT]!;
    if (deleteAt >= 0) {
      const del = this.zeekTimers ? deleteAt : deleteAt - ZEEK_TCP_CLOSE_DELAY + this.closeDelay;
      if (del < d) d = del;
    }
    const resetAt = w[sw + W.RESET_AT]!;
    if (resetAt >= 0 && r[slot * Layout.WORDS + S.ACTIVE] === 1) {
      const rs = this.zeekTimers ? resetAt : resetAt - ZEEK_TCP_RESET_DELAY + this.closeDelay;
      if (rs < d) d = rs;
    }
    return d;
  }

  private expire(now: number): void {
    const heap = this.heap;
    while (heap.peekTime() <= now) {
      const slot = heap.pop();
      const w = this.store.wide;
      const sw = slot * Layout.WIDE_WORDS;
      const attemptAt = w[sw + W.ATTEMPT_AT]!;
      if (this.zeekTimers && attemptAt >= 0 && attemptAt <= now) {
        // TCPSessionAdapter::AttemptTimer
        w[sw + W.ATTEMPT_AT] = -1;
        if (this.store.int[slot * Layout.WORDS + S.ACTIVE] === 1 && this.stillAttempt(slot)) {
          this.emit(slot);
          continue;
        }
      }
      const d = this.deadline(slot);
      if (d <= now) this.emit(slot);
      else heap.schedule(slot, d, w[sw + W.SEQ_NO]!);
    }
  }

  /** The originator sent a SYN or SYN-ACK and the responder nothing (Zeek's attempt-timer test). */
  private stillAttempt(slot: number): boolean {
    const r = this.store.int;
    const origSide = r[slot * Layout.WORDS + S.ORIG_SIDE]!;
    const os = r[endpointBase(slot, origSide) + E.STATE];
    return (
      (os === EndpointState.SYN_SENT || os === EndpointState.SYN_ACK_SENT) &&
      r[endpointBase(slot, 1 - origSide) + E.STATE] === EndpointState.INACTIVE
    );
  }

  /** Takes the flow out of the table and the heap, hands it out, and frees its record. */
  private emit(slot: number): void {
    this.table.remove(slot, this.store.int[slot * Layout.WORDS + S.HASH]!);
    this.heap.remove(slot);
    this.view.bind(slot);
    this.sink(this.view);
    this.store.release(slot);
  }
}
