import { LinkType } from '../decode/link-types';
import { loadNativeAddon } from '../native/addon';
import { hugePageArrayBuffer } from '../native/huge-buffer';
import type { Flow } from './flow';
import { FlowStore, type IcmpAnswer } from './flow-store';
import { FlowView } from './flow-view';
import type { PcapScanFormat } from '../capture/pcap-reader';
import type { ReaderStats } from '../capture/record';
import { DEFAULT_LIKELY_SERVER_PORTS, MAX_LIVE_FLOWS, type FlowTrackerOptions, type TrackerPressure } from './tracker';
import { ZEEK_TCP_INACTIVITY_TIMEOUT } from './tcp-session';

/** What trackerSide gives for an output record with side data. */
interface NativeSide {
  history?: string;
  interfaces?: number[];
  icmp?: IcmpAnswer;
}

interface NativeTrackerHandle {
  engine: unknown;
  /** Two output areas of `areaRecords` records each: flows that left the tracker, 512-byte records (flow-record.ts layout), in emission order. */
  records: ArrayBuffer;
  areaRecords: number;
  /** Per output record: non-zero when it has side data (1 spilled history, 2 interfaces, 4 ICMP answer). */
  sideFlags: Int32Array;
  /**
   * [flows waiting in output area 0, live flows, endedEarly, synRetransmissionsAfter,
   * answersAfter, and of the frames C alone needed: TCP packets, with RST, with neither SYN nor
   * RST; flows waiting in area 1].
   */
  state: Float64Array;
}

/** The tracker functions of native/build/Release/synscope_native.node (native/src/engine/engine.c). */
export interface NativeTrackerAddon {
  trackerCreate(options: {
    zeekTimers: boolean;
    closeDelay: number;
    attemptIdleTimeout: number;
    idleTimeout: number;
    maxLiveFlows: number;
    likelyServerPorts: Int32Array;
  }): NativeTrackerHandle;
  /**
   * Decodes and tracks frames [from, to) of the batch (frame k: buffers[bufferOf[k]] from
   * offsets[k], lengths[k] bytes), the flows that leave going to output area `area`; sets
   * needs[k] to 1 for a frame JavaScript must decode for its other stages, 0 for one only the
   * tracker needed (whose evidence C kept: trackerEvidence). With `decoded`, the frames are
   * those pcapScanRead(..., engine) read into this area, decoded and seen (pcapScanSee) already.
   * Returns where it stopped: to, or earlier when the area needs a release.
   */
  trackerAddBatch(
    engine: unknown,
    buffers: Buffer[],
    bufferOf: Int32Array,
    offsets: Int32Array,
    lengths: Int32Array,
    linkTypes: Int32Array,
    times: Float64Array,
    ifaces: Int32Array,
    needs: Uint8Array,
    from: number,
    to: number,
    area: number,
    decoded?: boolean,
  ): number;
  /** trackerAddBatch's work on the engine's own thread: returns at once; the batch is left alone until trackerWait. */
  trackerSubmit(...args: Parameters<NativeTrackerAddon['trackerAddBatch']>): void;
  /** Waits for the submitted batch; returns what trackerAddBatch would have. */
  trackerWait(engine: unknown): number;
  trackerRelease(engine: unknown, area: number): void;
  /** The live flows to output area 0, at most 2048 a call: returns how many are left (drain and call again). */
  trackerFinish(engine: unknown): number;
  trackerSide(engine: unknown, index: number): NativeSide;
  /** What the frames tracked so far showed beside their flows (native/src/engine/frame-evidence.h). */
  trackerEvidence(engine: unknown): NativeFrameEvidence;
  /** From now on trackerAccount keeps what is kept of each flow (native/src/engine/flow-account.h), the records going into these arrays. */
  trackerAccountWith(engine: unknown, synRecords: Float64Array, stitchWide: Float64Array, stitchSmall: Int32Array, stitchIsns: Uint32Array): void;
  /** Keeps what is kept of every flow waiting in the area; the output indexes of those the caller must see too go to wanted[0..n). */
  trackerAccount(engine: unknown, area: number, wanted: Int32Array): number;
  trackerAccounts(engine: unknown): NativeFlowAccounts;
  /** A classic pcap file for pcapScanRead to read from `position`, batch i into buffers[i]; state: see ScanState. */
  pcapScanCreate?(format: PcapScanFormat, buffers: [Buffer, Buffer]): { scan: unknown; state: Float64Array };
  /** The evidence of the records pcapScanRead(..., engine) read into `area` (once their interfaces are set), and whether each is needed (see trackerAddBatch). */
  pcapScanSee?(scan: unknown, engine: unknown, area: number, offsets: Int32Array, lengths: Int32Array, ifaces: Int32Array, times: Float64Array, needs: Uint8Array, count: number): void;
  /** The file's next records into the batch arrays and buffers[area] (reading buffers[area ^ 1] for the start of the next record); returns how many. */
  pcapScanRead?(scan: unknown, bufferOf: Int32Array, offsets: Int32Array, lengths: Int32Array, linkTypes: Int32Array, times: Float64Array, ifaces: Int32Array, area: number, iface: number, ifindexes: Float64Array, engine?: unknown): number;
}

/**
 * The evidence C keeps of every frame it decodes (the parts of DecodeStage.handOn and
 * PacketEvidence it ports): counts, and the tables of MacSightings (IPv4) and LinkMacs as
 * they would be in JavaScript.
 */
export interface NativeFrameEvidence {
  /**
   * [SYNs, SYN-ACKs, handshake packets whose options the snap length cut, handshake packets
   * seen twice on one interface, and of the frames the caller was not asked to decode: TCP
   * segments, those with RST, those with neither SYN nor RST].
   */
  counts: Float64Array;
  /** MacSightings' slots: key (-1 when empty), first MAC, its packets. */
  macKeys: Float64Array;
  macFirst: Float64Array;
  macPackets: Float64Array;
  /** Per slot with more MACs: [slot, n, (MAC, packets) x n]. */
  macMore: Float64Array;
  /** Per interface id with a frame: [id, showed a unicast frame (0/1), n, MAC x n]. */
  links: Float64Array;
}

/** The records AttemptLog and AttemptStitcher keep, in their own arrays, for the engine to write (NativeFlowTracker.accountInC). */
export interface SharedAttemptRecords {
  synRecords: Float64Array;
  stitchWide: Float64Array;
  stitchSmall: Int32Array;
  stitchIsns: Uint32Array;
}

/** What the engine kept of every flow (native/src/engine/flow-account.h), in the order JavaScript would have made it. */
export interface NativeFlowAccounts {
  /**
   * [flows, attempted, completed, unanswered, rejected, synAckLost, SYN-ACKs without a SYN,
   * one-sided flows, attempt log records, not recorded, stitcher records, not recorded,
   * the stitcher's first interface (-2: none), whether it saw several (0/1)].
   */
  counts: Float64Array;
  /** IPv4 /24s seen as endpoints (address >>> 8), first seen first. */
  networks: Float64Array;
  /** The attempt log's IPv4 servers by index, its IPv6 address words by id, its IPv6 pair keys by id, its pair keys with an unanswered attempt. */
  synServers: Float64Array;
  v6Words: Uint32Array;
  v6Pairs: Float64Array;
  unansweredPairs: Float64Array;
  /** The stitcher's servers by id: [IP version, 4 address words, port] each. */
  stitchServers: Float64Array;
  /** Services with completed attempts, first completed first: [IP version, 4 address words, port, attempts] each. */
  completedServices: Float64Array;
}

/** pcapScanCreate's state, after each pcapScanRead. */
const enum ScanState {
  COUNT = 0,
  ENDED = 1,
  ERROR = 2,
  ERROR_OFFSET = 3,
  ERROR_CAPLEN = 4,
  ERRNO = 5,
  TRUNCATED_AT = 6,
  BYTES_READ = 7,
  PACKETS = 8,
  SNAPPED = 9,
  FIRST_AT = 10,
  LAST_AT = 11,
}

/** How a scan of a whole file ended: the reader's counts, the capture's first and last time, and its error. */
export interface PcapScanEnd extends ReaderStats {
  firstAt: number;
  lastAt: number;
  /** A record longer than the format allows (caplen, its file offset), or a failed read (errno), else null. */
  error: { caplen: number; offset: number; record: number } | { errno: number } | null;
}

/** Bytes of each of a scan's two buffers: a batch ends when its records fill one (or it holds batchPackets of them). */
const SCAN_BUFFER_BYTES = 4 * 1024 * 1024;

export type NativeTrackerLoad = { addon: NativeTrackerAddon } | { reason: string };

/** The project's addon (loadNativeAddon) with its flow tracker, or one line saying why it cannot be used (never throws). */
export function loadNativeTracker(): NativeTrackerLoad {
  const load = loadNativeAddon();
  if ('reason' in load) return load;
  const addon = load.addon as unknown as Partial<NativeTrackerAddon>;
  if (typeof addon.trackerCreate !== 'function' || typeof addon.trackerSubmit !== 'function' || typeof addon.trackerEvidence !== 'function' || typeof addon.trackerAccount !== 'function') {
    return { reason: 'native flow tracker unavailable: the built addon predates it (rebuild with npm run build:native)' };
  }
  return { addon: addon as NativeTrackerAddon };
}

export interface NativeFlowTrackerOptions extends FlowTrackerOptions {
  /** Frames held before one native call (default 4096). */
  batchPackets?: number;
}

/** Most distinct buffers one batch refers to (engine.c's MAX_BATCH_BUFFERS). */
const MAX_BATCH_BUFFERS = 64;

/** Where waiting flows are counted in the engine's state, per output area. */
const WAITING_IN_AREA = [0, 5] as const;

/** A batch of frames held by reference: frame k is buffers[bufferOf[k]] from offsets[k], lengths[k] bytes. */
export class NativeBatch {
  readonly buffers: Buffer[] = [];
  readonly bufferOf: Int32Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly linkTypes: Int32Array;
  readonly times: Float64Array;
  readonly ifaces: Int32Array;
  /** Set by the engine: 1 for a frame the caller must decode for its other stages (see trackerAddBatch). */
  readonly needs: Uint8Array;
  count = 0;
  /** The frames were decoded as they were read (pcapScanRead with the engine): the engine only tracks them. */
  decoded = false;

  constructor(readonly capacity: number) {
    this.bufferOf = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.linkTypes = new Int32Array(capacity);
    this.times = new Float64Array(capacity);
    this.ifaces = new Int32Array(capacity);
    this.needs = new Uint8Array(capacity);
  }
}

/**
 * FlowTracker's engine in C (native/src/engine): the same flows, in the same order, through
 * the same FlowView. Frames are not copied: a batch holds where each one is (its buffer,
 * offset and length). A full batch is decoded and tracked on the engine's own thread while
 * the next one fills; the flows that left the tracker during a batch are then handed to
 * onFlowView in emission order (each view bound to its record in the batch's output area),
 * and `afterBatch` is called with the batch while its frames are still there.
 *
 * The caller keeps a frame's bytes unchanged until sync() (a capture reader's window: sync
 * before it reuses its buffer). Differences from FlowTracker: it takes the raw frame, since it
 * decodes itself; flows reach onFlowView a batch or two late (as batches fill, at sync(), finish()),
 * not during the packet that ends them; `size`, `pressure` and the TCP counts are exact after
 * sync().
 */
export class NativeFlowTracker {
  private readonly sink: (view: FlowView) => void;
  private readonly addon: NativeTrackerAddon;
  private readonly engine: unknown;
  private readonly store: FlowStore;
  private readonly view: FlowView;
  private readonly sideFlags: Int32Array;
  private readonly state: Float64Array;
  private readonly areaRecords: number;
  /** Batch i sends its flows to output area i: one fills (or is read) while the other is tracked. */
  private readonly batches: readonly [NativeBatch, NativeBatch];
  private filling = 0;
  /** The batch on the engine's thread, or -1. */
  private pending = -1;
  /** Called after a batch's frames were tracked and its flows handed out, before it is emptied. */
  afterBatch: ((batch: NativeBatch) => void) | null = null;
  private finished = false;
  /** Flushes so far: frames added before flush n are all handed out once this is n + 2. */
  flushes = 0;
  /** With accountInC: the flows C says the caller must see go here (not to onFlowView), through `wanted`. */
  private keep: ((view: FlowView) => void) | null = null;
  private wanted: Int32Array | null = null;

  constructor(options: NativeFlowTrackerOptions, addon?: NativeTrackerAddon) {
    const { onFlow, onFlowView } = options;
    if (onFlowView !== undefined) this.sink = onFlowView;
    else if (onFlow !== undefined) this.sink = (view) => onFlow(view.toFlow());
    else throw new TypeError('NativeFlowTracker needs onFlow or onFlowView');
    if (addon === undefined) {
      const l = loadNativeTracker();
      if ('reason' in l) throw new Error(l.reason);
      addon = l.addon;
    }
    this.addon = addon;
    const handle = addon.trackerCreate({
      zeekTimers: options.zeekTimers ?? false,
      closeDelay: options.closeDelay ?? 5,
      attemptIdleTimeout: options.attemptIdleTimeout ?? 150,
      idleTimeout: options.idleTimeout ?? ZEEK_TCP_INACTIVITY_TIMEOUT,
      maxLiveFlows: options.maxLiveFlows ?? MAX_LIVE_FLOWS,
      likelyServerPorts: Int32Array.from(options.likelyServerPorts ?? DEFAULT_LIKELY_SERVER_PORTS),
    });
    this.engine = handle.engine;
    this.sideFlags = handle.sideFlags;
    this.state = handle.state;
    this.areaRecords = handle.areaRecords;
    // A FlowStore whose record memory is the engine's output areas (slot = area * areaRecords + place).
    const store = new FlowStore(1);
    store.buffer = handle.records;
    store.wide = new Float64Array(handle.records);
    store.int = new Int32Array(handle.records);
    store.uint = new Uint32Array(handle.records);
    store.bytes = new Uint8Array(handle.records);
    this.store = store;
    this.view = new FlowView(store);
    const n = Math.max(1, options.batchPackets ?? 4096);
    this.batches = [new NativeBatch(n), new NativeBatch(n)];
  }

  /** Flows currently held (as of the last sync). */
  get size(): number {
    return this.state[1]!;
  }

  /** What the flow limit cost (as of the last sync). */
  get pressure(): TrackerPressure {
    return { endedEarly: this.state[2]!, synRetransmissionsAfter: this.state[3]!, answersAfter: this.state[4]! };
  }

  /**
   * Add the frame buf[start, end) of LINKTYPE linkType to the batch (not copied: keep its
   * bytes until the next sync). The engine decodes it and tracks what FlowTracker.add would
   * get (TCP, ICMP errors quoting TCP) and ignores the rest, so any frame may be given.
   */
  addFrame(linkType: number, buf: Buffer, start: number, end: number, time: number, iface: number): void {
    if (end > buf.length) end = buf.length;
    if (start < 0) start = 0;
    if (end < start) end = start;
    let batch = this.batches[this.filling];
    const buffers = batch.buffers;
    let b = buffers.length - 1;
    while (b >= 0 && buffers[b] !== buf) b--;
    if (b < 0) {
      if (buffers.length === MAX_BATCH_BUFFERS) {
        this.flush();
        batch = this.batches[this.filling];
      }
      b = batch.buffers.length;
      batch.buffers.push(buf);
    }
    const k = batch.count;
    batch.bufferOf[k] = b;
    batch.offsets[k] = start;
    batch.lengths[k] = end - start;
    batch.linkTypes[k] = linkType;
    batch.times[k] = time;
    batch.ifaces[k] = iface;
    if (++batch.count === batch.capacity) this.flush();
  }

  /**
   * Send the filled batch to the engine's thread, and hand out the batch before it (waiting
   * for its end): that one's flows and afterBatch run while the engine tracks this one.
   */
  private flush(): void {
    const before = this.pending;
    if (before >= 0) this.complete(before);
    const current = this.filling;
    const batch = this.batches[current];
    this.pending = -1;
    if (batch.count > 0) {
      this.addon.trackerSubmit(this.engine, batch.buffers, batch.bufferOf, batch.offsets, batch.lengths, batch.linkTypes, batch.times, batch.ifaces, batch.needs, 0, batch.count, current, batch.decoded);
      this.pending = current;
      this.filling = current ^ 1;
    }
    if (before >= 0) this.handOut(before);
    this.flushes++;
  }

  /** Track every frame given and hand out every flow that left: afterwards no frame is held. */
  sync(): void {
    this.flush();
    this.flush();
  }

  /** Sync, then every remaining flow to onFlowView, in creation order. */
  finish(): void {
    if (this.finished) return;
    this.sync();
    this.finished = true;
    for (let left = 1; left > 0; ) {
      left = this.addon.trackerFinish(this.engine);
      this.drain(0);
    }
  }

  /** Whether this addon can read a classic pcap file itself (scanPcap), and the format allows it (a record fits a buffer). */
  canScan(format: PcapScanFormat): boolean {
    return this.addon.pcapScanCreate !== undefined && this.addon.pcapScanSee !== undefined && 16 + format.maxCaplen <= SCAN_BUFFER_BYTES;
  }

  /**
   * Reads, decodes and tracks a whole classic pcap file in C (stages 1 and 2): each batch of
   * records is read into a buffer of its own here while the engine's thread tracks the batch
   * before, then handed on as with addFrame (its flows to onFlowView, the batch to
   * afterBatch). `interfaceOf(ifindex)` gives a record's interface id before it is tracked:
   * called once for a file whose records name no interface (ifindex -1), and for a cooked v2
   * file each time the interface index its records name changes. `onBatch` is called after
   * each batch, with the packets and bytes read so far. Stops at the first error (see
   * PcapScanEnd); afterwards no frame is held.
   */
  scanPcap(format: PcapScanFormat, interfaceOf: (ifindex: number) => number, onBatch: (packets: number, bytesRead: number) => void): PcapScanEnd {
    this.sync();
    // Huge pages: filling the two buffers then costs four page faults, not two thousand.
    const buffers: [Buffer, Buffer] = [Buffer.from(hugePageArrayBuffer(SCAN_BUFFER_BYTES)), Buffer.from(hugePageArrayBuffer(SCAN_BUFFER_BYTES))];
    const { scan, state } = this.addon.pcapScanCreate!(format, buffers);
    const ifindexes = new Float64Array(this.batches[0].capacity);
    const cooked = format.linkType === LinkType.LINUX_SLL2;
    let iface = -1;
    let lastIfindex = NaN;
    for (;;) {
      // The batch filling was handed out (flush): its buffer is free; the other is being tracked, and only read.
      const area = this.filling;
      const batch = this.batches[area]!;
      // Decoded here too, beside the tracking of the batch before: the engine's thread then only tracks.
      const count = this.addon.pcapScanRead!(scan, batch.bufferOf, batch.offsets, batch.lengths, batch.linkTypes, batch.times, batch.ifaces, area, iface, ifindexes, this.engine);
      if (state[ScanState.ERROR] !== 0) break;
      const ended = state[ScanState.ENDED] !== 0;
      if (count === 0 && !ended) throw new Error('native pcap scan: a batch read no record before the end of the file');
      if (count > 0) {
        if (cooked) {
          const ifaces = batch.ifaces;
          for (let k = 0; k < count; k++) {
            if (ifindexes[k] !== lastIfindex) iface = interfaceOf((lastIfindex = ifindexes[k]!));
            ifaces[k] = iface;
          }
        } else if (iface < 0) {
          iface = interfaceOf(-1);
          batch.ifaces.fill(iface, 0, count);
        }
        this.addon.pcapScanSee!(scan, this.engine, area, batch.offsets, batch.lengths, batch.ifaces, batch.times, batch.needs, count);
        batch.count = count;
        batch.decoded = true;
        batch.buffers.push(buffers[area]);
        this.flush();
        onBatch(state[ScanState.PACKETS]!, state[ScanState.BYTES_READ]!);
      }
      if (ended) break;
    }
    this.sync();
    const error = state[ScanState.ERROR]!;
    return {
      packets: state[ScanState.PACKETS]!,
      bytesRead: state[ScanState.BYTES_READ]!,
      truncatedAt: state[ScanState.TRUNCATED_AT]! < 0 ? null : state[ScanState.TRUNCATED_AT]!,
      snapped: state[ScanState.SNAPPED]!,
      firstAt: state[ScanState.FIRST_AT]!,
      lastAt: state[ScanState.LAST_AT]!,
      error: error === 1 ? { caplen: state[ScanState.ERROR_CAPLEN]!, offset: state[ScanState.ERROR_OFFSET]!, record: state[ScanState.PACKETS]! } : error === 2 ? { errno: state[ScanState.ERRNO]! } : null,
    };
  }

  /**
   * From now on the engine keeps what is kept of each flow leaving it (counts, the attempt
   * log's and the stitcher's records, into `records`; see native/src/engine/flow-account.h),
   * and only the flows that need more than numbers (failed attempts, late answers, SYN-ACKs
   * without a SYN) reach `keep`, instead of onFlowView. Read accounts() after finish().
   */
  accountInC(records: SharedAttemptRecords, keep: (view: FlowView) => void): void {
    this.addon.trackerAccountWith(this.engine, records.synRecords, records.stitchWide, records.stitchSmall, records.stitchIsns);
    this.keep = keep;
    this.wanted = new Int32Array(this.areaRecords);
  }

  /** What accountInC kept. */
  accounts(): NativeFlowAccounts {
    return this.addon.trackerAccounts(this.engine);
  }

  /** What the frames tracked so far showed beside their flows: read it after finish(). */
  frameEvidence(): NativeFrameEvidence {
    return this.addon.trackerEvidence(this.engine);
  }

  /** Waits for the engine's thread to let go of its batch, handing nothing out: after an error, before the frames' buffers go. */
  abandon(): void {
    if (this.pending >= 0) this.addon.trackerWait(this.engine);
    this.pending = -1;
  }

  /** Waits until every frame of batch i is tracked, handing out its flows whenever its area fills. */
  private complete(i: number): void {
    const batch = this.batches[i];
    let from = this.addon.trackerWait(this.engine);
    while (from < batch.count) {
      this.drain(i);
      from = this.addon.trackerAddBatch(this.engine, batch.buffers, batch.bufferOf, batch.offsets, batch.lengths, batch.linkTypes, batch.times, batch.ifaces, batch.needs, from, batch.count, i, batch.decoded);
    }
  }

  /** Batch i's last flows to onFlowView, then the batch to afterBatch; then it is empty. */
  private handOut(i: number): void {
    const batch = this.batches[i];
    this.drain(i);
    this.afterBatch?.(batch);
    batch.count = 0;
    batch.decoded = false;
    batch.buffers.length = 0;
  }

  /** Hands out the flows waiting in output area `area`, in order (with accountInC, those C flags), then gives the area back. */
  private drain(area: number): void {
    const waiting = this.state[WAITING_IN_AREA[area]!]!;
    if (waiting === 0) return;
    try {
      if (this.keep !== null) {
        const wanted = this.wanted!;
        const n = this.addon.trackerAccount(this.engine, area, wanted);
        for (let j = 0; j < n; j++) this.handOne(wanted[j]!, this.keep);
      } else {
        const base = area * this.areaRecords;
        for (let slot = base; slot < base + waiting; slot++) this.handOne(slot, this.sink);
      }
    } finally {
      this.addon.trackerRelease(this.engine, area);
    }
  }

  /** The flow in output record `slot` to `sink`, with its side data while it is there. */
  private handOne(slot: number, sink: (view: FlowView) => void): void {
    const store = this.store;
    const side = this.sideFlags[slot] !== 0 ? this.addon.trackerSide(this.engine, slot) : null;
    if (side !== null) {
      if (side.history !== undefined) store.histSpill.set(slot, side.history);
      if (side.interfaces !== undefined) store.interfaces.set(slot, side.interfaces);
      if (side.icmp !== undefined) store.icmp.set(slot, side.icmp);
    }
    this.view.bind(slot);
    sink(this.view);
    if (side !== null) {
      store.histSpill.delete(slot);
      store.interfaces.delete(slot);
      store.icmp.delete(slot);
    }
  }
}

export type { Flow };
