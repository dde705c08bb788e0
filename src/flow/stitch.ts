import { formatEndpoint } from '../decode/address';
import { hugePageArrayBuffer } from '../native/huge-buffer';
import { flowOrdinal, type AttemptOutcome, type Flow } from './flow';
import type { FlowView } from './flow-view';

/**
 * NAT path stitching: one connection attempt seen at several hops (the interfaces of one
 * pcapng, or several files of one host) shows up as one flow per hop, because DNAT, SNAT
 * or masquerade rewrite its addresses and ports. What NAT leaves alone identifies it: the
 * client's ISN, the TSval and the other options of its first SYN, and (IPv4) its IP ID,
 * all within a short time of each other.
 */

/** First SYNs of one attempt at different hops are at most this far apart (seconds). */
export const STITCH_WINDOW_SECONDS = 2;

/**
 * A capture begun after an attempt's first SYN (a second tcpdump started a little later) first
 * sees one of its retransmissions: at most this long after the first SYN (Linux retries at 1,
 * 3, 7, 15, 31, 63 s, then gives up at 127 s).
 */
export const SYN_RETRY_SPAN_SECONDS = 130;
/** TCP timestamp clocks tick between 100 Hz (old kernels' jiffies) and 1000 Hz (Linux 4.13 on, macOS); a margin for both ends. */
const TS_HZ_MIN = 90;
const TS_HZ_MAX = 1050;

/** Records of one ISN's run a record is compared with (see groupRun). */
const RUN_LOOKBACK = 64;

/** Attempts recorded at most (64 bytes each); later ones are not stitched. */
export const MAX_STITCH_RECORDS = 262144;

/** Outcomes by their number in a record. */
const OUTCOMES: readonly AttemptOutcome[] = ['completed', 'rejected', 'synAckLost', 'unanswered'];

/**
 * Fields of one record: the ones that need a double in AttemptStitcher.wide, the small
 * integers in AttemptStitcher.small (the ISN, a uint32, has an array of its own): 64 bytes
 * instead of 96 as all doubles, so a quarter million attempts touch 8 MB less fresh memory.
 * A page's first touch is dear (about 13 to 25 µs on the 2-CPU bench VM: 50k page faults
 * made 0.65 s of system time in one run over the bench file).
 */
const enum W {
  FLOW = 0,
  FIRST_SYN_AT = 1,
  /** IPv4 client address * 65536 + port, or -1 (IPv6): tells SNAT apart. */
  CLIENT = 2,
  /** TSval (uint32) or -1. */
  TS_VAL = 3,
  SIZE = 4,
}

const enum N {
  IFACE = 0,
  MSS = 1,
  WSCALE = 2,
  SACK = 3,
  IP_ID = 4,
  OUTCOME = 5,
  /** Index of the server endpoint in AttemptStitcher's server texts, or -1. */
  SERVER = 6,
  SIZE = 7,
}

/** Distinct server endpoints remembered for stitched paths; attempts to others have none (-1). */
const MAX_SERVER_TEXTS = 65536;

/** One record of AttemptStitcher.lateHops(): a flow number and its outcome. */
export interface LateHop {
  flow: number;
  outcome: AttemptOutcome;
}

/** An attempt's record and a later one of it on another interface; each may be a group's (the first record of a group, for the later one). */
export interface LatePair {
  first: LateHop;
  late: LateHop;
  firstGrouped: boolean;
  lateGrouped: boolean;
}

/** One attempt seen at several hops: its flows ordered by first SYN time (hop 0 = outermost, the client's view). */
export interface StitchGroup {
  /** Flow numbers (n of flow id "f<n>"), outermost first. */
  flows: number[];
  /** Interface id of each hop (the flow's first interface). */
  interfaces: number[];
  /** Outcome of each hop's flow. */
  outcomes: AttemptOutcome[];
  /** The server ("ip:port") each hop saw, or null when not remembered. */
  servers: (string | null)[];
  /** The client of each hop as a number (IPv4 address * 65536 + port), or -1 when unknown (IPv6). */
  clients: number[];
}

/**
 * Collects every connection attempt as a few numbers (no object per attempt, bounded by
 * MAX_STITCH_RECORDS) and, at the end, groups the ones that are one attempt at several hops.
 */
export class AttemptStitcher {
  private readonly wide: Float64Array;
  private readonly small: Int32Array;
  private readonly isns: Uint32Array;
  private count = 0;
  /** Server endpoints by first sighting, and their index: a few services take most attempts. */
  private readonly serverIds = new Map<string, number>();
  private readonly serverTexts: string[] = [];
  /** Attempts not recorded because the bound was reached. */
  notRecorded = 0;
  /** Interface of the first record, and whether any record was on another one (only then can hops be stitched). */
  private firstIface = -2;
  private severalInterfaces = false;
  /** byIsnThenTime()'s order, once made. */
  private sorted: Uint32Array | null = null;

  constructor(private readonly capacity = MAX_STITCH_RECORDS) {
    this.wide = new Float64Array(hugePageArrayBuffer(8 * capacity * W.SIZE));
    this.small = new Int32Array(hugePageArrayBuffer(4 * capacity * N.SIZE));
    this.isns = new Uint32Array(hugePageArrayBuffer(4 * capacity));
  }

  /** The server endpoints records name, by their id. */
  get servers(): readonly string[] {
    return this.serverTexts;
  }

  /** The record arrays, for the native tracker to write (NativeFlowTracker.accountInC). */
  get records(): { wide: Float64Array; small: Int32Array; isns: Uint32Array } {
    return { wide: this.wide, small: this.small, isns: this.isns };
  }

  /** The native tracker wrote the records (flow-account.c): what addView would have kept beside them. */
  adoptNative(a: { count: number; notRecorded: number; firstIface: number; severalInterfaces: boolean; servers: readonly string[] }): void {
    this.count = a.count;
    this.notRecorded = a.notRecorded;
    this.firstIface = a.firstIface;
    this.severalInterfaces = a.severalInterfaces;
    for (const server of a.servers) this.serverId(server);
    this.sorted = null;
  }

  /** Records the attempt a tracker's view shows (ignored unless it is an attempt: outcome and ISN known). */
  addView(v: FlowView): void {
    const outcome = v.outcome;
    const isn = v.synIsn;
    const at = v.firstSynAt;
    if (outcome === null || isn === null || at === null) return;
    const client = v.ipVersion === 4 ? v.clientIpv4 * 65536 + v.clientPort : -1;
    this.write(v.ordinal, v.firstInterface, at, isn, v.synTsVal ?? -1, v.synMssRaw, v.synWindowScaleRaw, v.synSackRaw, v.synIpIdRaw, outcome, this.serverId(v.serverEndpoint), client);
  }

  /** Records an attempt from a full Flow (tests, library callers). */
  addFlow(f: Flow): void {
    if (f.outcome === null || f.isn === null || f.firstSynAt === null) return;
    const o = f.synOptions;
    const v4 = f.ipVersion === 4 ? f.clientIp.split('.').reduce((n, o) => n * 256 + Number(o), 0) : -1;
    const server = this.serverId(formatEndpoint(f.serverIp, f.serverPort, f.ipVersion));
    this.write(flowOrdinal(f.id), f.interfaces[0] ?? -1, f.firstSynAt, f.isn, o?.tsVal ?? -1, o?.mss ?? -1, o?.windowScale ?? -1, o?.sackPermitted === true ? 1 : 0, f.synIpId ?? -1, f.outcome, server, v4 < 0 ? -1 : v4 * 65536 + f.clientPort);
  }

  private serverId(endpoint: string): number {
    const known = this.serverIds.get(endpoint);
    if (known !== undefined) return known;
    if (this.serverTexts.length >= MAX_SERVER_TEXTS) return -1;
    this.serverIds.set(endpoint, this.serverTexts.length);
    this.serverTexts.push(endpoint);
    return this.serverTexts.length - 1;
  }

  private write(flow: number, iface: number, at: number, isn: number, tsVal: number, mss: number, wscale: number, sack: number, ipId: number, outcome: AttemptOutcome, server: number, client: number): void {
    if (this.count >= this.capacity) {
      this.notRecorded++;
      return;
    }
    if (this.firstIface === -2) this.firstIface = iface;
    else if (iface !== this.firstIface) this.severalInterfaces = true;
    const i = this.count++;
    const w = this.wide;
    const b = i * W.SIZE;
    w[b + W.FLOW] = flow;
    w[b + W.FIRST_SYN_AT] = at;
    w[b + W.CLIENT] = client;
    w[b + W.TS_VAL] = tsVal;
    const n = this.small;
    const c = i * N.SIZE;
    n[c + N.IFACE] = iface;
    n[c + N.MSS] = mss;
    n[c + N.WSCALE] = wscale;
    n[c + N.SACK] = sack;
    n[c + N.IP_ID] = ipId;
    n[c + N.OUTCOME] = OUTCOMES.indexOf(outcome);
    n[c + N.SERVER] = server;
    this.isns[i] = isn;
  }

  /**
   * The attempts seen at more than one hop. Records with the same ISN are taken in time
   * order; each joins the first open group whose outermost hop is at most
   * STITCH_WINDOW_SECONDS earlier, whose SYN options match it, and that has no hop on the
   * same interface yet (one interface never shows one attempt twice); else it opens a group.
   */
  groups(): StitchGroup[] {
    // One interface never shows one attempt twice: a capture of one interface has nothing
    // to stitch, and sorting its quarter million records to find that out took 0.16 s.
    if (!this.severalInterfaces) return [];
    const order = this.byIsnThenTime();
    const isns = this.isns;
    const out: StitchGroup[] = [];
    let runStart = 0;
    while (runStart < order.length) {
      const isn = isns[order[runStart]!]!;
      let runEnd = runStart + 1;
      while (runEnd < order.length && isns[order[runEnd]!] === isn) runEnd++;
      if (runEnd - runStart > 1) this.groupRun(order.subarray(runStart, runEnd), out);
      runStart = runEnd;
    }
    return out;
  }

  /** Record numbers by ISN, then first SYN time, then flow: sorted once for groups() and lateHops(). */
  private byIsnThenTime(): Uint32Array {
    if (this.sorted !== null && this.sorted.length === this.count) return this.sorted;
    const w = this.wide;
    const isns = this.isns;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => isns[a]! - isns[b]! || w[a * W.SIZE + W.FIRST_SYN_AT]! - w[b * W.SIZE + W.FIRST_SYN_AT]! || w[a * W.SIZE + W.FLOW]! - w[b * W.SIZE + W.FLOW]!);
    return (this.sorted = order);
  }

  /**
   * Attempts another interface saw only from a retransmission on (its capture began after the
   * first SYN): a record with the same ISN and SYN options as an earlier record on another
   * interface, and a TSval ahead of it by what the time between them makes a timestamp clock
   * tick (NAT leaves TSval alone; another connection's has its own offset). Each pair is one
   * attempt, though which hop comes first cannot be told here. Records in groups() are taken
   * only as a group's first record (`heads`, with every grouped flow in `grouped`), paired
   * with an earlier record in no group: several late captures saw the same retransmission.
   */
  lateHops(grouped: ReadonlySet<number>, heads: ReadonlySet<number>): LatePair[] {
    if (!this.severalInterfaces) return [];
    const w = this.wide;
    const n = this.small;
    const isns = this.isns;
    const order = this.byIsnThenTime();
    const out: LatePair[] = [];
    const hop = (i: number): LateHop => ({ flow: w[i * W.SIZE + W.FLOW]!, outcome: OUTCOMES[n[i * N.SIZE + N.OUTCOME]!]! });
    for (let k = 1; k < order.length; k++) {
      const rec = order[k]!;
      const flow = w[rec * W.SIZE + W.FLOW]!;
      const lateGrouped = grouped.has(flow);
      if ((lateGrouped && !heads.has(flow)) || w[rec * W.SIZE + W.TS_VAL]! < 0) continue;
      const at = w[rec * W.SIZE + W.FIRST_SYN_AT]!;
      // One attempt's hops are a few records of the ISN's run, within its retries; a flood reusing one ISN makes a long run.
      for (let j = k - 1; j >= 0 && j >= k - RUN_LOOKBACK && isns[order[j]!] === isns[rec]; j--) {
        const first = order[j]!;
        if (at - w[first * W.SIZE + W.FIRST_SYN_AT]! > SYN_RETRY_SPAN_SECONDS) break;
        const firstGrouped = grouped.has(w[first * W.SIZE + W.FLOW]!);
        if (lateGrouped && firstGrouped) continue;
        if (this.retransmissionOf(first, rec)) {
          out.push({ first: hop(first), late: hop(rec), firstGrouped, lateGrouped });
          break;
        }
      }
    }
    return out;
  }

  /** Record `late` is a retransmission of record `first`'s SYN, seen on another interface. */
  private retransmissionOf(first: number, late: number): boolean {
    const w = this.wide;
    const n = this.small;
    const na = first * N.SIZE;
    const nb = late * N.SIZE;
    if (n[na + N.IFACE] === n[nb + N.IFACE]) return false;
    if (n[na + N.MSS] !== n[nb + N.MSS] || n[na + N.WSCALE] !== n[nb + N.WSCALE] || n[na + N.SACK] !== n[nb + N.SACK]) return false;
    const tsA = w[first * W.SIZE + W.TS_VAL]!;
    const tsB = w[late * W.SIZE + W.TS_VAL]!;
    if (tsA < 0 || tsB === tsA) return false;
    const dt = w[late * W.SIZE + W.FIRST_SYN_AT]! - w[first * W.SIZE + W.FIRST_SYN_AT]!;
    if (dt <= 0 || dt > SYN_RETRY_SPAN_SECONDS) return false;
    const ticks = (tsB - tsA + 4294967296) % 4294967296;
    return ticks >= dt * TS_HZ_MIN && ticks <= dt * TS_HZ_MAX + 20;
  }

  /**
   * Groups one run of records sharing an ISN (already in time order); keeps groups of two hops
   * or more. A record is offered to the RUN_LOOKBACK groups opened last: one attempt's hops
   * come within milliseconds, and a flood reusing one ISN must not make this quadratic.
   */
  private groupRun(run: Uint32Array, out: StitchGroup[]): void {
    const groups: number[][] = [];
    for (const rec of run) {
      let home: number[] | undefined;
      for (let g = groups.length - 1; g >= 0 && g >= groups.length - RUN_LOOKBACK; g--) {
        if (this.joins(groups[g]!, rec)) {
          home = groups[g];
          break;
        }
      }
      if (home !== undefined) home.push(rec);
      else groups.push([rec]);
    }
    const w = this.wide;
    const n = this.small;
    for (const g of groups) {
      if (g.length < 2) continue;
      out.push({
        flows: g.map((i) => w[i * W.SIZE + W.FLOW]!),
        interfaces: g.map((i) => n[i * N.SIZE + N.IFACE]!),
        outcomes: g.map((i) => OUTCOMES[n[i * N.SIZE + N.OUTCOME]!]!),
        servers: g.map((i) => this.serverTexts[n[i * N.SIZE + N.SERVER]!] ?? null),
        clients: g.map((i) => w[i * W.SIZE + W.CLIENT]!),
      });
    }
  }

  private joins(group: readonly number[], rec: number): boolean {
    const w = this.wide;
    const n = this.small;
    const a = group[0]!;
    if (w[rec * W.SIZE + W.FIRST_SYN_AT]! - w[a * W.SIZE + W.FIRST_SYN_AT]! > STITCH_WINDOW_SECONDS) return false;
    if (w[a * W.SIZE + W.TS_VAL] !== w[rec * W.SIZE + W.TS_VAL]) return false;
    const na = a * N.SIZE;
    const nb = rec * N.SIZE;
    if (n[na + N.MSS] !== n[nb + N.MSS] || n[na + N.WSCALE] !== n[nb + N.WSCALE] || n[na + N.SACK] !== n[nb + N.SACK]) return false;
    const idA = n[na + N.IP_ID]!;
    const idB = n[nb + N.IP_ID]!;
    if (idA !== -1 && idB !== -1 && idA !== idB) return false;
    const iface = n[nb + N.IFACE]!;
    return group.every((i) => n[i * N.SIZE + N.IFACE] !== iface);
  }
}
