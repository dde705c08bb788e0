import { formatEndpoint } from '../decode/address';
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

/** Attempts recorded at most (STITCH_FIELDS numbers each); later ones are not stitched. */
export const MAX_STITCH_RECORDS = 262144;

/** Outcomes by their number in a record. */
const OUTCOMES: readonly AttemptOutcome[] = ['completed', 'rejected', 'synAckLost', 'unanswered'];

/** Fields of one record in AttemptStitcher's array. */
const enum F {
  FLOW = 0,
  IFACE = 1,
  FIRST_SYN_AT = 2,
  ISN = 3,
  TS_VAL = 4,
  MSS = 5,
  WSCALE = 6,
  SACK = 7,
  IP_ID = 8,
  OUTCOME = 9,
  /** Index of the server endpoint in AttemptStitcher's server texts, or -1. */
  SERVER = 10,
  /** IPv4 client address * 65536 + port, or -1 (IPv6): tells SNAT apart. */
  CLIENT = 11,
  SIZE = 12,
}

/** Distinct server endpoints remembered for stitched paths; attempts to others have none (-1). */
const MAX_SERVER_TEXTS = 65536;

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
  private readonly records: Float64Array;
  private count = 0;
  /** Server endpoints by first sighting, and their index: a few services take most attempts. */
  private readonly serverIds = new Map<string, number>();
  private readonly serverTexts: string[] = [];
  /** Attempts not recorded because the bound was reached. */
  notRecorded = 0;
  /** Interface of the first record, and whether any record was on another one (only then can hops be stitched). */
  private firstIface = -2;
  private severalInterfaces = false;

  constructor(private readonly capacity = MAX_STITCH_RECORDS) {
    this.records = new Float64Array(capacity * F.SIZE);
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
    const r = this.records;
    const b = this.count++ * F.SIZE;
    r[b + F.FLOW] = flow;
    r[b + F.IFACE] = iface;
    r[b + F.FIRST_SYN_AT] = at;
    r[b + F.ISN] = isn;
    r[b + F.TS_VAL] = tsVal;
    r[b + F.MSS] = mss;
    r[b + F.WSCALE] = wscale;
    r[b + F.SACK] = sack;
    r[b + F.IP_ID] = ipId;
    r[b + F.OUTCOME] = OUTCOMES.indexOf(outcome);
    r[b + F.SERVER] = server;
    r[b + F.CLIENT] = client;
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
    const r = this.records;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => r[a * F.SIZE + F.ISN]! - r[b * F.SIZE + F.ISN]! || r[a * F.SIZE + F.FIRST_SYN_AT]! - r[b * F.SIZE + F.FIRST_SYN_AT]! || r[a * F.SIZE + F.FLOW]! - r[b * F.SIZE + F.FLOW]!);
    const out: StitchGroup[] = [];
    let runStart = 0;
    while (runStart < order.length) {
      const isn = r[order[runStart]! * F.SIZE + F.ISN]!;
      let runEnd = runStart + 1;
      while (runEnd < order.length && r[order[runEnd]! * F.SIZE + F.ISN] === isn) runEnd++;
      if (runEnd - runStart > 1) this.groupRun(order.subarray(runStart, runEnd), out);
      runStart = runEnd;
    }
    return out;
  }

  /** Groups one run of records sharing an ISN (already in time order); keeps groups of two hops or more. */
  private groupRun(run: Uint32Array, out: StitchGroup[]): void {
    const groups: number[][] = [];
    for (const rec of run) {
      const home = groups.find((g) => this.joins(g, rec));
      if (home !== undefined) home.push(rec);
      else groups.push([rec]);
    }
    const r = this.records;
    for (const g of groups) {
      if (g.length < 2) continue;
      out.push({
        flows: g.map((i) => r[i * F.SIZE + F.FLOW]!),
        interfaces: g.map((i) => r[i * F.SIZE + F.IFACE]!),
        outcomes: g.map((i) => OUTCOMES[r[i * F.SIZE + F.OUTCOME]!]!),
        servers: g.map((i) => this.serverTexts[r[i * F.SIZE + F.SERVER]!] ?? null),
        clients: g.map((i) => r[i * F.SIZE + F.CLIENT]!),
      });
    }
  }

  private joins(group: readonly number[], rec: number): boolean {
    const r = this.records;
    const a = group[0]! * F.SIZE;
    const b = rec * F.SIZE;
    if (r[b + F.FIRST_SYN_AT]! - r[a + F.FIRST_SYN_AT]! > STITCH_WINDOW_SECONDS) return false;
    if (r[a + F.TS_VAL] !== r[b + F.TS_VAL] || r[a + F.MSS] !== r[b + F.MSS] || r[a + F.WSCALE] !== r[b + F.WSCALE] || r[a + F.SACK] !== r[b + F.SACK]) return false;
    const idA = r[a + F.IP_ID]!;
    const idB = r[b + F.IP_ID]!;
    if (idA !== -1 && idB !== -1 && idA !== idB) return false;
    const iface = r[b + F.IFACE]!;
    return group.every((i) => r[i * F.SIZE + F.IFACE] !== iface);
  }
}
