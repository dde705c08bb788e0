import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../native/package-root';
import type { Flow } from './flow';
import { FlowStore, type IcmpAnswer } from './flow-store';
import { FlowView } from './flow-view';
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
  /** Output area: flows that left the tracker, 512-byte records (flow-record.ts layout), in emission order. */
  records: ArrayBuffer;
  /** Per output record: non-zero when it has side data (1 spilled history, 2 interfaces, 4 ICMP answer). */
  sideFlags: Int32Array;
  /**
   * [flows waiting in the output area, live flows, endedEarly, synRetransmissionsAfter,
   * answersAfter, and of the frames C alone needed: TCP packets, with RST, with neither SYN nor RST].
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
   * offsets[k], lengths[k] bytes); sets needs[k] to 1 for a frame JavaScript must decode for
   * its other stages, 0 for one only the tracker needed (counted in state[5..7]). Returns
   * where it stopped: to, or earlier when the output area needs a release.
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
  ): number;
  trackerRelease(engine: unknown): void;
  trackerFinish(engine: unknown): void;
  trackerSide(engine: unknown, index: number): NativeSide;
}

export type NativeTrackerLoad = { addon: NativeTrackerAddon } | { reason: string };

let loaded: NativeTrackerLoad | null = null;

/**
 * The native flow tracker, or one line saying why it cannot be used (never throws).
 * Loaded from the package's own addon (native/build/Release/synscope_native.node).
 */
export function loadNativeTracker(): NativeTrackerLoad {
  loaded ??= load();
  return loaded;
}

function load(): NativeTrackerLoad {
  const file = path.join(PACKAGE_ROOT, 'native', 'build', 'Release', 'synscope_native.node');
  if (!fs.existsSync(file)) return { reason: `native flow tracker unavailable: addon not built (${file} missing; run npm run build:native)` };
  let addon: Partial<NativeTrackerAddon>;
  try {
    addon = require(file) as Partial<NativeTrackerAddon>;
  } catch (e) {
    const why = String((e as Error).message ?? e).split('\n')[0];
    return { reason: `native flow tracker unavailable: addon cannot be loaded (${why})` };
  }
  if (typeof addon.trackerCreate !== 'function' || typeof addon.trackerAddBatch !== 'function') {
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

/**
 * FlowTracker's engine in C (native/src/engine): the same flows, in the same order, through
 * the same FlowView. Frames are not copied: a batch holds where each one is (its buffer,
 * offset and length), and one native call decodes and tracks the batch; the flows that left
 * the tracker during it are then handed to onFlowView in emission order, each view bound to
 * its record in the engine's output area, and `afterBatch` is called while the frames are
 * still there.
 *
 * The caller keeps a frame's bytes unchanged until the batch is flushed (a capture reader's
 * window: flush before it reuses its buffer). Differences from FlowTracker: it takes the raw
 * frame, since it decodes itself; flows reach onFlowView when a batch is flushed (at
 * batchPackets, or finish()/flush()), not during the packet that ends them; `size` and
 * `pressure` are exact after a flush.
 */
export class NativeFlowTracker {
  private readonly sink: (view: FlowView) => void;
  private readonly addon: NativeTrackerAddon;
  private readonly engine: unknown;
  private readonly store: FlowStore;
  private readonly view: FlowView;
  private readonly sideFlags: Int32Array;
  private readonly state: Float64Array;
  private readonly batchPackets: number;
  /** The batch: frame k is buffers[bufferOf[k]] from offsets[k], lengths[k] bytes. */
  readonly buffers: Buffer[] = [];
  readonly bufferOf: Int32Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly linkTypes: Int32Array;
  readonly times: Float64Array;
  readonly ifaces: Int32Array;
  /** Set by each flush: 1 for a frame the caller must decode for its other stages (see trackerAddBatch). */
  readonly needs: Uint8Array;
  /** Called after each flush's frames were tracked, before the batch is emptied: (frames in it). */
  afterBatch: ((count: number) => void) | null = null;
  private count = 0;
  private finished = false;

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
    // A FlowStore whose record memory is the engine's output area (slot = output index).
    const store = new FlowStore(1);
    store.buffer = handle.records;
    store.wide = new Float64Array(handle.records);
    store.int = new Int32Array(handle.records);
    store.uint = new Uint32Array(handle.records);
    store.bytes = new Uint8Array(handle.records);
    this.store = store;
    this.view = new FlowView(store);
    const n = Math.max(1, options.batchPackets ?? 4096);
    this.batchPackets = n;
    this.bufferOf = new Int32Array(n);
    this.offsets = new Int32Array(n);
    this.lengths = new Int32Array(n);
    this.linkTypes = new Int32Array(n);
    this.times = new Float64Array(n);
    this.ifaces = new Int32Array(n);
    this.needs = new Uint8Array(n);
  }

  /** Flows currently held (as of the last flush). */
  get size(): number {
    return this.state[1]!;
  }

  /** What the flow limit cost (as of the last flush). */
  get pressure(): TrackerPressure {
    return { endedEarly: this.state[2]!, synRetransmissionsAfter: this.state[3]!, answersAfter: this.state[4]! };
  }

  /** Of the frames the caller was not asked to decode: TCP packets, those with RST, those with neither SYN nor RST. */
  get plainTcpCounts(): { tcp: number; rst: number; neitherSynNorRst: number } {
    return { tcp: this.state[5]!, rst: this.state[6]!, neitherSynNorRst: this.state[7]! };
  }

  /**
   * Add the frame buf[start, end) of LINKTYPE linkType to the batch (not copied: keep its
   * bytes until the next flush). The engine decodes it and tracks what FlowTracker.add would
   * get (TCP, ICMP errors quoting TCP) and ignores the rest, so any frame may be given.
   */
  addFrame(linkType: number, buf: Buffer, start: number, end: number, time: number, iface: number): void {
    if (end > buf.length) end = buf.length;
    if (start < 0) start = 0;
    if (end < start) end = start;
    const buffers = this.buffers;
    let b = buffers.length - 1;
    while (b >= 0 && buffers[b] !== buf) b--;
    if (b < 0) {
      if (buffers.length === MAX_BATCH_BUFFERS) this.flush();
      b = buffers.length;
      buffers.push(buf);
    }
    const k = this.count;
    this.bufferOf[k] = b;
    this.offsets[k] = start;
    this.lengths[k] = end - start;
    this.linkTypes[k] = linkType;
    this.times[k] = time;
    this.ifaces[k] = iface;
    if (++this.count === this.batchPackets) this.flush();
  }

  /** Track the batch now, hand out the flows that left, then call afterBatch. */
  flush(): void {
    const n = this.count;
    let from = 0;
    while (from < n) {
      from = this.addon.trackerAddBatch(this.engine, this.buffers, this.bufferOf, this.offsets, this.lengths, this.linkTypes, this.times, this.ifaces, this.needs, from, n);
      this.drain();
    }
    if (n > 0) this.afterBatch?.(n);
    this.count = 0;
    this.buffers.length = 0;
  }
  /** Flush, then every remaining flow to onFlowView, in creation order. */
  finish(): void {
    if (this.finished) return;
    this.flush();
    this.finished = true;
    this.addon.trackerFinish(this.engine);
    this.drain();
  }

  /** Hands out the flows waiting in the output area, in order, then gives the area back. */
  private drain(): void {
    const waiting = this.state[0]!;
    if (waiting === 0) return;
    const store = this.store;
    const flags = this.sideFlags;
    const view = this.view;
    try {
      for (let i = 0; i < waiting; i++) {
        const side = flags[i] !== 0 ? this.addon.trackerSide(this.engine, i) : null;
        if (side !== null) {
          if (side.history !== undefined) store.histSpill.set(i, side.history);
          if (side.interfaces !== undefined) store.interfaces.set(i, side.interfaces);
          if (side.icmp !== undefined) store.icmp.set(i, side.icmp);
        }
        view.bind(i);
        this.sink(view);
        if (side !== null) {
          store.histSpill.delete(i);
          store.interfaces.delete(i);
          store.icmp.delete(i);
        }
      }
    } finally {
      this.addon.trackerRelease(this.engine);
    }
  }
}

export type { Flow };
