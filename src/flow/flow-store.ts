import { hugePageArrayBuffer } from '../native/huge-buffer';
import { E, EW, Layout, S, W, endpointWideBase } from './flow-record';
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
 * flow-record.ts) in one ArrayBuffer read through typed-array views, addressed by slot number, plus the rare parts that
 * do not fit a record (a second interface, an ICMP answer, a long history) in side maps
 * keyed by slot. Slots are recycled through a free list; the buffer doubles when full.
 *
 * Nothing here allocates per packet, and only the side maps allocate per flow.
 */
export class FlowStore {
  /** The records' memory; replaced (copied) when the store grows, as are the views below, so never cache one across an allocate(). */
  buffer: ArrayBuffer;
  /** Float64 view: the wide fields (W.*, EW.*). */
  wide: Float64Array;
  /** Int32 view: the 32-bit fields (S.*, E.*) except the uint ones. */
  int: Int32Array;
  /** Uint32 view: the 32-bit fields marked uint (sequence numbers, address words, the history mask). */
  uint: Uint32Array;
  /** Byte view: the history letters (char codes) at Layout.HIST_AT of each record. */
  bytes: Uint8Array;
  /** Histories longer than Layout.HIST_INLINE letters (the record's HIST_LEN is then Layout.HIST_SPILLED). */
  readonly histSpill = new Map<number, string>();
  /** All interface ids of flows seen on more than one interface, in first-seen order. */
  readonly interfaces = new Map<number, number[]>();
  readonly icmp = new Map<number, IcmpAnswer>();
  private capacity: number;
  private used = 0;
  private readonly free: number[] = [];

  /**
   * With a maximum, the records are allocated at it at once: pages no flow has touched cost
   * no memory, and a full table is never copied to grow (a copy would need both at once);
   * pages are then faulted in 2 MiB at a time (see hugePageArrayBuffer).
   */
  constructor(initialCapacity = 1024, private readonly maxCapacity = Infinity) {
    const bounded = Number.isFinite(maxCapacity);
    this.capacity = bounded ? maxCapacity : initialCapacity;
    const bytes = this.capacity * Layout.RECORD_BYTES;
    this.buffer = bounded ? hugePageArrayBuffer(bytes) : new ArrayBuffer(bytes);
    this.wide = new Float64Array(this.buffer);
    this.int = new Int32Array(this.buffer);
    this.uint = new Uint32Array(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
  }

  /** Number of slots ever handed out (live slots are below this). */
  get highWater(): number {
    return this.used;
  }

  /** Whether `slot` holds a live flow. */
  isLive(slot: number): boolean {
    return this.wide[slot * Layout.WIDE_WORDS + W.SEQ_NO]! !== 0;
  }

  /**
   * A fresh record for a flow created by a packet from (src, sport) to (dst, dport) at time t.
   * Every field is written, since the slot may have held an earlier flow.
   */
  allocate(seqNo: number, ipVersion: 4 | 6, src: Uint32Array, sport: number, dst: Uint32Array, dport: number, t: number): number {
    const slot = this.takeSlot();
    const w = this.wide;
    const i = this.int;
    const sw = slot * Layout.WIDE_WORDS;
    const s = slot * Layout.WORDS;
    w[sw + W.SEQ_NO] = seqNo;
    w[sw + W.FIRST_SEEN] = t;
    w[sw + W.LAST_SEEN] = t;
    w[sw + W.LAST_TIME] = t;
    w[sw + W.ATTEMPT_AT] = -1;
    w[sw + W.DELETE_AT] = -1;
    w[sw + W.RESET_AT] = -1;
    w[sw + W.PACKETS_A] = 0;
    w[sw + W.PACKETS_A + 1] = 0;
    w[sw + W.LAST_A_AT] = -1;
    w[sw + W.LAST_A_AT + 2] = -1;
    w[sw + W.SYN_AT] = -1;
    w[sw + W.SYN_ACK_AT] = -1;
    w[sw + W.SYN_TSVAL] = -1;
    w[sw + W.SYN_TSECR] = -1;
    i[s + S.IP_VERSION] = ipVersion;
    i[s + S.HASH] = 0;
    i[s + S.ORIG_SIDE] = 0;
    i[s + S.ACTIVE] = 1;
    i[s + S.BEGAN_WITH_SYN_ACK] = 0;
    i[s + S.IFACE0] = -1;
    i[s + S.HIST_SEEN] = 0;
    i[s + S.HIST_LEN] = 0;
    i[s + S.SYN_FROM] = 0;
    i[s + S.SYN_ISN] = 0;
    i[s + S.SYN_MSS] = -1;
    i[s + S.SYN_WSCALE] = -1;
    i[s + S.SYN_SACK] = 0;
    i[s + S.SYN_IP_ID] = -1;
    i[s + S.SYN_TTL] = -1;
    i[s + S.SYN_ACK_FROM] = 0;
    const a = s + Layout.ENDPOINT_A;
    initEndpoint(this, a, endpointWideBase(slot, 0), src, sport);
    initEndpoint(this, a + Layout.ENDPOINT_HOT, endpointWideBase(slot, 1), dst, dport);
    return slot;
  }

  /** A copy of the flow at `slot` of `from` (record and side-map entries) in a new slot of this store. */
  copyFrom(from: FlowStore, slot: number): number {
    const to = this.takeSlot();
    this.bytes.set(from.bytes.subarray(slot * Layout.RECORD_BYTES, (slot + 1) * Layout.RECORD_BYTES), to * Layout.RECORD_BYTES);
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
    this.wide[slot * Layout.WIDE_WORDS + W.SEQ_NO] = 0;
    if (this.histSpill.size > 0) this.histSpill.delete(slot);
    if (this.interfaces.size > 0) this.interfaces.delete(slot);
    if (this.icmp.size > 0) this.icmp.delete(slot);
    this.free.push(slot);
  }

  /** Whether (w, port) is the endpoint at base offset `e`. */
  endpointIs(e: number, w: Uint32Array, port: number): boolean {
    const u = this.uint;
    return this.int[e + E.PORT] === port && u[e + E.A3] === w[3] && u[e + E.A2] === w[2] && u[e + E.A1] === w[1] && u[e + E.A0] === w[0];
  }

  /** Copies the address of the endpoint at base offset `e` into `out` (4 words). */
  endpointWords(e: number, out: Uint32Array): Uint32Array {
    const u = this.uint;
    out[0] = u[e + E.A0]!;
    out[1] = u[e + E.A1]!;
    out[2] = u[e + E.A2]!;
    out[3] = u[e + E.A3]!;
    return out;
  }

  private takeSlot(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.used === this.capacity) this.grow();
    return this.used++;
  }

  private grow(): void {
    const cap = Math.min(this.capacity * 2, this.maxCapacity);
    const buffer = new ArrayBuffer(cap * Layout.RECORD_BYTES);
    new Uint8Array(buffer).set(this.bytes);
    this.buffer = buffer;
    this.wide = new Float64Array(buffer);
    this.int = new Int32Array(buffer);
    this.uint = new Uint32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    this.capacity = cap;
  }
}

/** Initial fields of the endpoint at 32-bit base `e` and wide base `ew`. */
function initEndpoint(store: FlowStore, e: number, ew: number, w: Uint32Array, port: number): void {
  const i = store.int;
  const u = store.uint;
  const wide = store.wide;
  i[e + E.STATE] = EndpointState.INACTIVE;
  i[e + E.PREV_STATE] = EndpointState.INACTIVE;
  u[e + E.START_SEQ] = 0;
  u[e + E.LAST_SEQ] = 0;
  u[e + E.ACK_SEQ] = 0;
  i[e + E.SEQ_WRAPS] = 0;
  i[e + E.ACK_WRAPS] = 0;
  i[e + E.FIN_CNT] = 0;
  i[e + E.DID_CLOSE] = 0;
  wide[ew + EW.HIST_LAST_SYN] = -1;
  wide[ew + EW.HIST_LAST_FIN] = -1;
  wide[ew + EW.HIST_LAST_RST] = -1;
  i[e + E.RXMIT_COUNT] = 0;
  i[e + E.RXMIT_THRESHOLD] = 1;
  i[e + E.ZERO_WIN_COUNT] = 0;
  i[e + E.ZERO_WIN_THRESHOLD] = 1;
  u[e + E.A0] = w[0]!;
  u[e + E.A1] = w[1]!;
  u[e + E.A2] = w[2]!;
  u[e + E.A3] = w[3]!;
  i[e + E.PORT] = port;
  i[e + E.SYNS] = 0;
  i[e + E.SYN_ACKS] = 0;
  i[e + E.FIRST_KIND] = 0;
  u[e + E.SYN_ACK_SEQ] = 0;
  i[e + E.ACKED_PEER_SYN_ACK] = 0;
  u[e + E.LAST_SYN_SEQ] = 0;
  i[e + E.RST_BEFORE_HANDSHAKE] = 0;
}
