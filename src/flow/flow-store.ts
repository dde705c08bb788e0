import { E, Layout, S } from './flow-record';
import { EndpointState } from './zeek-endpoint';

/** An ICMP error that quoted one side's SYN (rare: kept in a side map, not in the record). */
export interface IcmpAnswer {
  /** Side (0 = A, 1 = B) whose SYN the ICMP error quoted. */
  quotedSide: number;
  from: Uint32Array;
  fromVersion: 4 | 6;
  type: number;
  code: number;
}

/**
 * Storage for the flows in the tracker: one fixed-size record per flow (layout in
 * flow-record.ts) in a Float64Array, addressed by slot number, plus the rare parts that
 * do not fit a record (a second interface, an ICMP answer, a long history) in side maps
 * keyed by slot. Slots are recycled through a free list; the arrays double when full.
 *
 * Nothing here allocates per packet, and only the side maps allocate per flow.
 */
export class FlowStore {
  /** The records; replaced (copied) when the store grows, so never cache it across an allocate(). */
  rec: Float64Array;
  /** History letters (char codes), Layout.HIST_INLINE bytes per slot. */
  hist: Uint8Array;
  /** Histories longer than Layout.HIST_INLINE letters (the record's HIST_LEN is then Layout.HIST_SPILLED). */
  readonly histSpill = new Map<number, string>();
  /** All interface ids of flows seen on more than one interface, in first-seen order. */
  readonly interfaces = new Map<number, number[]>();
  readonly icmp = new Map<number, IcmpAnswer>();
  private capacity: number;
  private used = 0;
  private readonly free: number[] = [];

  /**
   * With a maximum, the arrays are allocated at it at once: pages no flow has touched cost
   * no memory, and a full table is never copied to grow (a copy would need both at once).
   */
  constructor(initialCapacity = 1024, private readonly maxCapacity = Infinity) {
    this.capacity = Number.isFinite(maxCapacity) ? maxCapacity : initialCapacity;
    this.rec = new Float64Array(this.capacity * Layout.RECORD_SIZE);
    this.hist = new Uint8Array(this.capacity * Layout.HIST_INLINE);
  }

  /** Number of slots ever handed out (live slots are below this). */
  get highWater(): number {
    return this.used;
  }

  /** Whether `slot` holds a live flow. */
  isLive(slot: number): boolean {
    return this.rec[slot * Layout.RECORD_SIZE + S.SEQ_NO]! !== 0;
  }

  /**
   * A fresh record for a flow created by a packet from (src, sport) to (dst, dport) at time t.
   * Every field is written, since the slot may have held an earlier flow.
   */
  allocate(seqNo: number, ipVersion: 4 | 6, src: Uint32Array, sport: number, dst: Uint32Array, dport: number, t: number): number {
    const slot = this.takeSlot();
    const r = this.rec;
    const s = slot * Layout.RECORD_SIZE;
    r[s + S.SEQ_NO] = seqNo;
    r[s + S.IP_VERSION] = ipVersion;
    r[s + S.HASH] = 0;
    r[s + S.ORIG_SIDE] = 0;
    r[s + S.FIRST_SEEN] = t;
    r[s + S.LAST_SEEN] = t;
    r[s + S.LAST_TIME] = t;
    r[s + S.ACTIVE] = 1;
    r[s + S.ATTEMPT_AT] = -1;
    r[s + S.DELETE_AT] = -1;
    r[s + S.RESET_AT] = -1;
    r[s + S.BEGAN_WITH_SYN_ACK] = 0;
    r[s + S.IFACE0] = -1;
    r[s + S.HIST_SEEN] = 0;
    r[s + S.HIST_LEN] = 0;
    r[s + S.SYN_FROM] = 0;
    r[s + S.SYN_AT] = -1;
    r[s + S.SYN_ISN] = -1;
    r[s + S.SYN_MSS] = -1;
    r[s + S.SYN_WSCALE] = -1;
    r[s + S.SYN_SACK] = 0;
    r[s + S.SYN_TSVAL] = -1;
    r[s + S.SYN_TSECR] = -1;
    r[s + S.SYN_IP_ID] = -1;
    r[s + S.SYN_TTL] = -1;
    r[s + S.SYN_ACK_FROM] = 0;
    r[s + S.SYN_ACK_AT] = -1;
    r[s + S.LAST_A_AT] = -1;
    r[s + S.LAST_B_AT] = -1;
    const a = s + Layout.ENDPOINT_A;
    const b = a + Layout.ENDPOINT_HOT;
    initEndpoint(r, a, src, sport);
    initEndpoint(r, b, dst, dport);
    return slot;
  }

  /** A copy of the flow at `slot` of `from` (record, history and side-map entries) in a new slot of this store. */
  copyFrom(from: FlowStore, slot: number): number {
    const to = this.takeSlot();
    this.rec.set(from.rec.subarray(slot * Layout.RECORD_SIZE, (slot + 1) * Layout.RECORD_SIZE), to * Layout.RECORD_SIZE);
    this.hist.set(from.hist.subarray(slot * Layout.HIST_INLINE, (slot + 1) * Layout.HIST_INLINE), to * Layout.HIST_INLINE);
    const spilled = from.histSpill.get(slot);
    if (spilled !== undefined) this.histSpill.set(to, spilled);
    const interfaces = from.interfaces.get(slot);
    if (interfaces !== undefined) this.interfaces.set(to, interfaces.slice());
    const icmp = from.icmp.get(slot);
    if (icmp !== undefined) this.icmp.set(to, icmp);
    return to;
  }

  /** Returns a slot to the free list and drops its side-map entries. */
  release(slot: number): void {
    this.rec[slot * Layout.RECORD_SIZE + S.SEQ_NO] = 0;
    if (this.histSpill.size > 0) this.histSpill.delete(slot);
    if (this.interfaces.size > 0) this.interfaces.delete(slot);
    if (this.icmp.size > 0) this.icmp.delete(slot);
    this.free.push(slot);
  }

  /** Whether (w, port) is the endpoint at base offset `e`. */
  endpointIs(e: number, w: Uint32Array, port: number): boolean {
    const r = this.rec;
    return r[e + E.PORT] === port && r[e + E.A3] === w[3] && r[e + E.A2] === w[2] && r[e + E.A1] === w[1] && r[e + E.A0] === w[0];
  }

  /** Copies the address of the endpoint at base offset `e` into `out` (4 words). */
  endpointWords(e: number, out: Uint32Array): Uint32Array {
    const r = this.rec;
    out[0] = r[e + E.A0]!;
    out[1] = r[e + E.A1]!;
    out[2] = r[e + E.A2]!;
    out[3] = r[e + E.A3]!;
    return out;
  }

  private takeSlot(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    const cap = Math.min(this.capacity * 2, this.maxCapacity);
    const rec = new Float64Array(cap * Layout.RECORD_SIZE);
    rec.set(this.rec);
    const hist = new Uint8Array(cap * Layout.HIST_INLINE);
    hist.set(this.hist);
    this.rec = rec;
    this.hist = hist;
    this.capacity = cap;
  }
}

function initEndpoint(r: Float64Array, e: number, w: Uint32Array, port: number): void {
  r[e + E.STATE] = EndpointState.INACTIVE;
  r[e + E.PREV_STATE] = EndpointState.INACTIVE;
  r[e + E.START_SEQ] = 0;
  r[e + E.LAST_SEQ] = 0;
  r[e + E.ACK_SEQ] = 0;
  r[e + E.SEQ_WRAPS] = 0;
  r[e + E.ACK_WRAPS] = 0;
  r[e + E.FIN_CNT] = 0;
  r[e + E.DID_CLOSE] = 0;
  r[e + E.HIST_LAST_SYN] = -1;
  r[e + E.HIST_LAST_FIN] = -1;
  r[e + E.HIST_LAST_RST] = -1;
  r[e + E.RXMIT_COUNT] = 0;
  r[e + E.RXMIT_THRESHOLD] = 1;
  r[e + E.ZERO_WIN_COUNT] = 0;
  r[e + E.ZERO_WIN_THRESHOLD] = 1;
  r[e + E.A0] = w[0]!;
  r[e + E.A1] = w[1]!;
  r[e + E.A2] = w[2]!;
  r[e + E.A3] = w[3]!;
  r[e + E.PORT] = port;
  r[e + E.PACKETS] = 0;
  r[e + E.SYNS] = 0;
  r[e + E.SYN_ACKS] = 0;
  r[e + E.FIRST_KIND] = 0;
  r[e + E.SYN_ACK_SEQ] = 0;
  r[e + E.ACKED_PEER_SYN_ACK] = 0;
  r[e + E.LAST_SYN_SEQ] = 0;
  r[e + E.RST_BEFORE_HANDSHAKE] = 0;
}
