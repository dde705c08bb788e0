import { formatAddress } from '../decode/address';
import { Transport, TcpFlag, type DecodedPacket } from '../decode/packet';
import { attemptResult } from './attempt';
import { connState } from './conn-state';
import { DeadlineHeap } from './deadline-heap';
import type { Flow } from './flow';
import { FlowTable, tupleHash } from './flow-table';
import {
  TcpSession,
  ZEEK_TCP_CLOSE_DELAY,
  ZEEK_TCP_INACTIVITY_TIMEOUT,
  ZEEK_TCP_RESET_DELAY,
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
  /** Called once per flow when it leaves the table (closed, idle, attempt timer, or finish()). */
  onFlow(flow: Flow): void;
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
}


/**
 * Tracks TCP connections through Zeek's endpoint state machine and hands each one to
 * `onFlow` when it leaves the table. Feed packets in capture order.
 *
 * Expiry is amortized: a flow sits in a deadline heap under the deadline it had when queued;
 * when that deadline passes, its current deadline is recomputed and the flow is either
 * emitted or queued again. Timers fire before the packet whose timestamp passes them, as in
 * Zeek.
 */
export class FlowTracker {
  private readonly onFlow: (flow: Flow) => void;
  private readonly zeekTimers: boolean;
  private readonly likely: Set<number>;
  private readonly closeDelay: number;
  private readonly attemptIdle: number;
  private readonly idle: number;
  private readonly table = new FlowTable<TcpSession>();
  private readonly heap = new DeadlineHeap<TcpSession>();
  private now = -Infinity;
  private created = 0;

  constructor(options: FlowTrackerOptions) {
    this.onFlow = options.onFlow;
    this.zeekTimers = options.zeekTimers ?? false;
    this.likely = new Set(options.likelyServerPorts ?? DEFAULT_LIKELY_SERVER_PORTS);
    this.closeDelay = options.closeDelay ?? 5;
    this.attemptIdle = options.attemptIdleTimeout ?? 150;
    this.idle = options.idleTimeout ?? ZEEK_TCP_INACTIVITY_TIMEOUT;
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
    const rest = [...this.table.values()].sort((x, y) => x.seqNo - y.seqNo);
    for (const s of rest) this.emit(s);
  }

  private addTcp(pkt: DecodedPacket, buf: Buffer, t: number, iface: number): void {
    if (pkt.ipVersion !== 4 && pkt.ipVersion !== 6) return;
    const hash = tupleHash(pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort);
    let s = this.table.find(hash, pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort);
    if (s !== null && s.isReuse(pkt)) {
      this.emit(s);
      s = null;
    }
    if (s === null) {
      s = new TcpSession(++this.created, pkt, t);
      s.hash = hash;
      const flags = pkt.tcpFlags;
      const bareSyn = (flags & TcpFlag.SYN) !== 0 && (flags & TcpFlag.ACK) === 0;
      if (!bareSyn && this.wantFlip(pkt.srcPort, pkt.dstPort, flags)) s.flipRoles();
      else if ((flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) s.beganWithSynAck = true;
      this.table.insert(s);
    } else if (
      s.beganWithSynAck &&
      s.orig.state === EndpointState.SYN_ACK_SENT &&
      s.resp.state === EndpointState.INACTIVE &&
      (pkt.tcpFlags & (TcpFlag.SYN | TcpFlag.FIN | TcpFlag.RST)) === 0 &&
      ((pkt.tcpFlags & TcpFlag.ACK) !== 0 || pkt.payloadLength > 0)
    ) {
      s.flipAfterSynAck();
    }
    s.process(pkt, buf, t, iface, s.senderOf(pkt), this.zeekTimers);
    const d = this.deadline(s);
    if (s.queuedAt < 0 || d < s.queuedAt) {
      s.queuedAt = d;
      this.heap.push(d, s);
    }
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
    const hash = tupleHash(pkt.quotedSrc, pkt.quotedSrcPort, pkt.quotedDst, pkt.quotedDstPort);
    const s = this.table.find(hash, pkt.quotedSrc, pkt.quotedSrcPort, pkt.quotedDst, pkt.quotedDstPort);
    if (s === null) return;
    const q = s.a.is(pkt.quotedSrc, pkt.quotedSrcPort) ? s.a : s.b;
    const seq = pkt.quotedSeq >>> 0;
    if (q.syns === 0 || (seq !== q.lastSynSeq && seq !== q.startSeq)) return;
    if (s.icmp !== null) return;
    const from = new Uint32Array(4);
    from.set(pkt.src);
    s.icmp = { quoted: q, from, fromVersion: pkt.ipVersion === 6 ? 6 : 4, type: pkt.icmpType, code: pkt.icmpCode };
  }

  /** When this flow should leave the table, given what has happened so far. */
  private deadline(s: TcpSession): number {
    let d: number;
    if (this.zeekTimers) {
      d = s.lastTime + ZEEK_TCP_INACTIVITY_TIMEOUT;
      if (s.attemptAt >= 0 && s.attemptAt < d) d = s.attemptAt;
    } else {
      const attempt =
        (s.orig.state === EndpointState.SYN_SENT || s.orig.state === EndpointState.SYN_ACK_SENT) &&
        s.resp.state === EndpointState.INACTIVE;
      d = s.lastSeen + (attempt ? this.attemptIdle : this.idle);
    }
    if (s.deleteAt >= 0) {
      const del = this.zeekTimers ? s.deleteAt : s.deleteAt - ZEEK_TCP_CLOSE_DELAY + this.closeDelay;
      if (del < d) d = del;
    }
    if (s.resetAt >= 0 && s.isActive) {
      const r = this.zeekTimers ? s.resetAt : s.resetAt - ZEEK_TCP_RESET_DELAY + this.closeDelay;
      if (r < d) d = r;
    }
    return d;
  }

  private expire(now: number): void {
    const heap = this.heap;
    while (heap.peekTime() <= now) {
      const queued = heap.peekTime();
      const s = heap.pop();
      if (s.removed || s.queuedAt !== queued) continue;
      if (this.zeekTimers && s.attemptAt >= 0 && s.attemptAt <= now) {
        // TCPSessionAdapter::AttemptTimer
        s.attemptAt = -1;
        if (
          s.isActive &&
          (s.orig.state === EndpointState.SYN_SENT || s.orig.state === EndpointState.SYN_ACK_SENT) &&
          s.resp.state === EndpointState.INACTIVE
        ) {
          this.emit(s);
          continue;
        }
      }
      const d = this.deadline(s);
      if (d <= now) {
        this.emit(s);
      } else {
        s.queuedAt = d;
        heap.push(d, s);
      }
    }
  }

  private emit(s: TcpSession): void {
    if (s.removed) return;
    s.removed = true;
    this.table.remove(s);
    this.onFlow(toFlow(s));
  }
}

/** Builds the output record (the only place addresses become text). */
export function toFlow(s: TcpSession): Flow {
  const client = s.orig;
  const server = s.resp;
  const history = s.history.text;
  const { outcome, rejection } = attemptResult(s);
  const syn = s.synFactsFrom === client ? s.synFacts : null;
  return {
    id: 'f' + s.seqNo,
    ipVersion: s.ipVersion,
    clientIp: formatAddress(client.words(), s.ipVersion),
    clientPort: client.port,
    serverIp: formatAddress(server.words(), s.ipVersion),
    serverPort: server.port,
    state: connState(client, server, history),
    history,
    syns: client.syns,
    synAcks: server.synAcks,
    origPackets: client.packets,
    respPackets: server.packets,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    firstSynAt: syn !== null ? syn.at : null,
    firstSynAckAt: s.firstSynAckFrom === server ? s.firstSynAckAt : null,
    isn: syn !== null ? syn.isn : null,
    synOptions: syn !== null ? syn.options : null,
    synIpId: syn !== null ? syn.ipId : null,
    synTtl: syn !== null ? syn.ttl : null,
    interfaces: s.interfaces.slice(),
    outcome,
    rejection,
  };
}
