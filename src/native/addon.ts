import * as fs from 'node:fs';
import * as path from 'node:path';
import { npmInPackage, PACKAGE_ROOT } from './package-root';

/** What libpcap counted for a capture handle (pcap_stats). */
export interface NativeCaptureStats {
  /** Packets that passed the filter (ps_recv). */
  received: number;
  /** Packets dropped because the kernel ring was full (ps_drop). */
  dropped: number;
  /** Packets the interface or its driver dropped (ps_ifdrop). */
  ifDropped: number;
}

export interface NativeCaptureOptions {
  device: string;
  /** pcap-filter(7) expression; absent keeps everything. */
  filter?: string;
  /** Bytes kept of each packet; libpcap's 262144 when absent. */
  snaplen?: number;
  /** Kernel ring buffer size; libpcap's 2 MiB when absent. */
  bufferBytes?: number;
  /** Default false: a diagnosis needs only traffic to and from the host's own addresses and bridges. */
  promiscuous?: boolean;
}

/**
 * An open, non-blocking libpcap handle (immediate mode, nanosecond timestamps when the
 * kernel gives them). The finalizer closes it if `close()` was never called.
 */
export interface NativeCaptureHandle {
  /** LINKTYPE_* of the interface (pcap_datalink). */
  readonly linkType: number;
  /** Whether timestamps have nanosecond precision (else microseconds, still written as nanoseconds). */
  readonly nanosecond: boolean;
  /** The snaplen libpcap settled on (pcap_snapshot). */
  readonly snaplen: number;
  /**
   * Copy the packets waiting in the kernel ring into `buffer` and return the bytes
   * written (0 when nothing waits). Records are little-endian
   * `u32 tsSec, u32 tsNsec, u32 caplen, u32 origLen, caplen bytes, zero padding to 4`.
   * Stops while a record at full snaplen still fits; the rest waits for the next call.
   * Throws RangeError when `buffer` cannot hold one such record, code ECLOSED after close().
   */
  dispatch(buffer: Buffer): number;
  stats(): NativeCaptureStats;
  /** Safe to call twice. */
  close(): void;
}

/** A compiled BPF program (freed with the object). */
export interface NativeFilter {
  /** Whether the record's bytes `buffer[offset, offset + caplen)` pass the filter (pcap_offline_filter). */
  matches(buffer: Buffer, offset: number, caplen: number, origLen: number): boolean;
}

/** The exports of native/build/Release/synscope_native.node. */
export interface NativeAddon {
  /**
   * Call `fn` with the calling thread in the network namespace at `nsPath` and always
   * return it to its own namespace, also when `fn` throws. Errors carry the errno name
   * in `code`: ENOENT/EACCES (cannot open), EPERM (needs CAP_SYS_ADMIN), EINVAL (not a
   * network namespace).
   */
  runInNetns<T>(nsPath: string, fn: () => T): T;
  /** Move the calling thread into `nsPath` for good (a one-shot child process). */
  enterNetns(nsPath: string): void;
  /**
   * Open and activate a capture. Errors: code EPERM (no CAP_NET_RAW), ENODEV (no such
   * interface), ENETDOWN (interface down), EFILTER (bad filter), EPCAP (anything else,
   * with libpcap's message).
   */
  openCapture(options: NativeCaptureOptions): NativeCaptureHandle;
  /**
   * Compile a pcap-filter(7) expression for one link type, as `tcpdump -r` does (optimized,
   * netmask unknown). Errors: code EFILTER with libpcap's message.
   */
  compileFilter(linkType: number, snaplen: number, expression: string): NativeFilter;
  /**
   * Put a handler in front of the current ones (libuv's, once JavaScript listens) for
   * these signal numbers: each signal is passed on, and from the second one on the
   * process ends with exit status 130 within 0.3 s even while JavaScript is busy (a
   * third ends it at once). Calling it again starts the count over.
   */
  exitOnSecondSignal(signals: number[]): void;
  /** Put back the handlers exitOnSecondSignal found. */
  restoreSignals(): void;
  /**
   * madvise(MADV_HUGEPAGE) on the whole 2 MiB pages inside `buffer`, before it is touched,
   * so that filling it costs one page fault per 2 MiB instead of per 4 KiB (transparent huge
   * pages in `madvise` mode). Contents are kept. Returns the bytes advised: 0 when no whole
   * 2 MiB page fits or madvise fails (a kernel without THP), which is not an error. TypeError when
   * `buffer` is not an ArrayBuffer.
   */
  adviseHugePages(buffer: ArrayBuffer): number;
  /**
   * clockCountOf (src/diagnose/timestamp-clocks.ts) of many clients at once, to the bit:
   * client c's samples are at[i], tsVal[i] for i from runEnds[c - 1] (0 for the first) up to
   * runEnds[c], and counts[c] gets their count. RangeError when runEnds does not grow
   * within the samples or a client has more than 2^20 of them.
   */
  clockCounts?(at: Float64Array, tsVal: Float64Array, runEnds: Int32Array, counts: Int32Array): void;
  /** censusInJs (src/diagnose/clock-census.ts) in C: layout is [stride, client, flow, first SYN at, TSval]. */
  clockCensus?(records: Float64Array, count: number, layout: Int32Array, skipFlows: Float64Array): ClockCensus;
}

/** See clockCensus in src/diagnose/clock-census.ts. */
export interface ClockCensus {
  clients: Float64Array;
  records: Int32Array;
}

export type NativeAddonLoad = { addon: NativeAddon } | { reason: string };

const ADDON_FILE = ['native', 'build', 'Release', 'synscope_native.node'];

const BUILD_FIX = `run \`${npmInPackage('run build:native')}\` (needs g++, make, python3 and libpcap-dev: apt-get install -y build-essential python3 libpcap-dev)`;

let loaded: NativeAddonLoad | null = null;

/**
 * Load the addon once, or say in one line why it cannot be used. Never throws: file
 * analysis must work where the addon was never built.
 */
export function loadNativeAddon(): NativeAddonLoad {
  loaded ??= loadBuilt();
  return loaded;
}

function loadBuilt(): NativeAddonLoad {
  const file = path.join(PACKAGE_ROOT, ...ADDON_FILE);
  if (!fs.existsSync(file)) return { reason: `native addon not built: ${BUILD_FIX}` };
  try {
    return { addon: require(file) as NativeAddon };
  } catch (e) {
    // Built for another Node ABI, or libpcap.so is gone since the build.
    const why = (e as Error).message.split('\n')[0];
    return { reason: `native addon ${file} cannot be loaded (${why}): ${BUILD_FIX}` };
  }
}
