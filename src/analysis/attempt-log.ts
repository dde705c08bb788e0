import { formatAddress, ipv4ToString } from '../decode/address';
import { AddressIds } from '../evidence/address-ids';
import { clientClocks, type ClientClocks, type ClientSyns } from '../diagnose/client-clocks';
import { CENSUS_FIELDS, clockCensus } from '../diagnose/clock-census';
import type { PeerSyns } from '../diagnose/input';
import type { TimestampSample } from '../diagnose/timestamp-clocks';
import type { FlowView } from '../flow/flow-view';
import { hugePageArrayBuffer } from '../native/huge-buffer';

/**
 * Bounds of the attempt records kept for the tcp_tw_recycle replay: SynRecord.SIZE numbers
 * per attempt (about 19 MB at the total cap; attempts past it are not recorded), and per
 * address pair handed to the rule.
 */
export const MAX_SYNS_TOTAL = 262144;
const MAX_SYNS_PER_PEER = 4096;
const TWO_32 = 4294967296;
/** Above every IPv6 address id (at most 2 * MAX_SYNS_TOTAL = 2^19 of them), so that a pair key is exact. */
const V6_PAIR_SPAN = 1048576;

/** Fields of one attempt record in AttemptLog.synRecords (see PeerSyns for their meaning). */
const enum SynRecord {
  /** IPv4: the client address as uint32; IPv6: -1 - (id of the address pair in v6SynPairs). */
  CLIENT = 0,
  /** Index of the IPv4 server address in synServers (unused for IPv6). */
  SERVER = 1,
  FLOW = 2,
  FIRST_SYN_AT = 3,
  TS_VAL = 4,
  SYNS = 5,
  ANSWERED_AT = 6,
  LAST_SEEN = 7,
  SERVER_CLOSED = 8,
  SIZE = 9,
}

/** Where the clock census reads a record. */
const CENSUS_LAYOUT = { stride: SynRecord.SIZE, client: SynRecord.CLIENT, flow: SynRecord.FLOW, at: SynRecord.FIRST_SYN_AT, tsVal: SynRecord.TS_VAL };

/**
 * The shared attempt log: every attempt that reached a listener (answered or not, refusals
 * aside) as SynRecord.SIZE numbers in one typed array, for the rules that need attempts
 * beyond the failed ones: the tcp_tw_recycle replay (PAWS: per address pair, what the
 * server remembers from connections it closed) and the census of TCP timestamp clocks per
 * client (hosts behind one address). Per attempt nothing for the collector to trace and no
 * address text. Allocated at its bound once: the zero pages cost no memory until records
 * reach them, and nothing is copied to grow it.
 */
export class AttemptLog {
  private readonly synRecords = new Float64Array(hugePageArrayBuffer(8 * SynRecord.SIZE * MAX_SYNS_TOTAL));
  private synRecordCount = 0;
  /** IPv4 server addresses (uint32) → index, in first-seen order. */
  private readonly synServers = new Map<number, number>();
  /** IPv6 addresses of the pairs below (two per record at most). */
  private readonly v6Addresses = new AddressIds(2 * MAX_SYNS_TOTAL);
  /** IPv6 pairs: client address id * V6_PAIR_SPAN + server address id → pair id, in first-seen order. */
  private readonly v6SynPairs = new Map<number, number>();
  private readonly words = new Uint32Array(4);
  /** Pair keys (see synPairKey) with at least one unanswered attempt. */
  private readonly unansweredPairs = new Set<number>();
  /** Attempts past MAX_SYNS_TOTAL, not in the log. */
  notRecorded = 0;

  /** The record array, for the native tracker to write (NativeFlowTracker.accountInC). */
  get records(): Float64Array {
    return this.synRecords;
  }

  /**
   * The native tracker wrote the records (flow-account.c): its tables, in the order note()
   * would have made them, give their numbers meaning here.
   */
  adoptNative(a: { count: number; notRecorded: number; servers: Float64Array; v6Words: Uint32Array; v6Pairs: Float64Array; unansweredPairs: Float64Array }): void {
    this.synRecordCount = a.count;
    this.notRecorded = a.notRecorded;
    a.servers.forEach((server, i) => this.synServers.set(server, i));
    for (let at = 0; at < a.v6Words.length; at += 4) this.v6Addresses.id(a.v6Words.subarray(at, at + 4));
    a.v6Pairs.forEach((pair, i) => this.v6SynPairs.set(pair, i));
    for (const key of a.unansweredPairs) this.unansweredPairs.add(key);
  }

  /** Attempts that reached a listener, as numbers for the tcp_tw_recycle replay (no Flow object). */
  note(f: FlowView): void {
    const firstSynAt = f.firstSynAt;
    if (firstSynAt === null) return;
    if (this.synRecordCount >= MAX_SYNS_TOTAL) {
      this.notRecorded++;
      return;
    }
    let client = f.clientIpv4;
    let server = 0;
    if (f.ipVersion === 4) {
      const serverV4 = f.serverIpv4;
      const known = this.synServers.get(serverV4);
      server = known ?? this.synServers.size;
      if (known === undefined) this.synServers.set(serverV4, server);
    } else {
      const pair = this.v6Addresses.id(f.clientWords(this.words)) * V6_PAIR_SPAN + this.v6Addresses.id(f.serverWords(this.words));
      const id = this.v6SynPairs.get(pair) ?? this.v6SynPairs.size;
      if (id === this.v6SynPairs.size) this.v6SynPairs.set(pair, id);
      client = -1 - id;
    }
    const firstSynAckAt = f.firstSynAckAt;
    const r = this.synRecords;
    const at = this.synRecordCount++ * SynRecord.SIZE;
    r[at + SynRecord.CLIENT] = client;
    r[at + SynRecord.SERVER] = server;
    r[at + SynRecord.FLOW] = f.ordinal;
    r[at + SynRecord.FIRST_SYN_AT] = firstSynAt;
    r[at + SynRecord.TS_VAL] = f.synTsVal ?? -1;
    r[at + SynRecord.SYNS] = f.syns;
    r[at + SynRecord.ANSWERED_AT] = firstSynAckAt ?? -1;
    r[at + SynRecord.LAST_SEEN] = f.lastSeen;
    r[at + SynRecord.SERVER_CLOSED] = f.serverClosedFirst ? 1 : 0;
    if (firstSynAckAt === null) this.unansweredPairs.add(synPairKey(client, server));
  }

  /**
   * The attempt records of the pairs the replay can say something about: an unanswered
   * attempt to explain and a connection the server closed (the only thing it remembers);
   * at most MAX_SYNS_PER_PEER attempts each, the rest counted in notRecorded.
   */
  peerSyns(): PeerSyns[] {
    const byPair = new Map<number, PeerSyns>();
    const servers = [...this.synServers.keys()];
    const v6Text = (id: number) => formatAddress(this.v6Addresses.wordsOf(id, this.words), 6);
    // Pair keys by pair id, their text made only for the pairs built below.
    const v6Pairs = [...this.v6SynPairs.keys()];
    const v6 = (id: number) => [v6Text(Math.floor(v6Pairs[id]! / V6_PAIR_SPAN)), v6Text(v6Pairs[id]! % V6_PAIR_SPAN)];
    const r = this.synRecords;
    const end = this.synRecordCount * SynRecord.SIZE;
    // Only pairs with both an unanswered attempt and a connection the server closed are
    // built (in a flood, next to none: nothing is allocated per pair before this test).
    const closedPairs = new Set<number>();
    for (let at = 0; at < end; at += SynRecord.SIZE) {
      if (r[at + SynRecord.SERVER_CLOSED] !== 1) continue;
      const key = synPairKey(r[at + SynRecord.CLIENT]!, r[at + SynRecord.SERVER]!);
      if (this.unansweredPairs.has(key)) closedPairs.add(key);
    }
    for (let at = 0; at < end && closedPairs.size > 0; at += SynRecord.SIZE) {
      const client = r[at + SynRecord.CLIENT]!;
      const key = synPairKey(client, r[at + SynRecord.SERVER]!);
      if (!closedPairs.has(key)) continue;
      let p = byPair.get(key);
      if (p === undefined) {
        const [clientIp, serverIp] = client >= 0 ? [ipv4ToString(client), ipv4ToString(servers[r[at + SynRecord.SERVER]!]!)] : v6(-1 - client);
        p = { ipVersion: client >= 0 ? 4 : 6, client: clientIp!, server: serverIp!, flow: [], firstSynAt: [], tsVal: [], syns: [], answeredAt: [], lastSeen: [], serverClosed: [], notRecorded: 0 };
        byPair.set(key, p);
      }
      if (p.flow.length >= MAX_SYNS_PER_PEER) {
        p.notRecorded++;
        continue;
      }
      p.flow.push(r[at + SynRecord.FLOW]!);
      p.firstSynAt.push(r[at + SynRecord.FIRST_SYN_AT]!);
      p.tsVal.push(r[at + SynRecord.TS_VAL]!);
      p.syns.push(r[at + SynRecord.SYNS]!);
      p.answeredAt.push(r[at + SynRecord.ANSWERED_AT]!);
      p.lastSeen.push(r[at + SynRecord.LAST_SEEN]!);
      p.serverClosed.push(r[at + SynRecord.SERVER_CLOSED]!);
    }
    return [...byPair.values()];
  }

  /**
   * Timestamp clocks per IPv4 client address, from every recorded attempt that carried a
   * TSval (each NAT-stitched attempt once). Per client only record numbers are kept; its
   * samples are built when it has enough of them.
   */
  clientClocks(innerHops: ReadonlySet<number>): ClientClocks[] {
    const r = this.synRecords;
    const census = clockCensus(r, this.synRecordCount, CENSUS_LAYOUT, innerHops);
    const read = (start: number, end: number) => {
      const samples: TimestampSample[] = [];
      const servers = new Set<number>();
      for (let k = start; k < end; k++) {
        const rec = census.records[k]! * SynRecord.SIZE;
        samples.push({ at: r[rec + SynRecord.FIRST_SYN_AT]!, tsVal: r[rec + SynRecord.TS_VAL]! });
        servers.add(r[rec + SynRecord.SERVER]!);
      }
      return { samples, servers: servers.size };
    };
    // Only the clients the census could not leave out on their counts, in the order of their first attempt (the report lists ties so).
    const clients: ClientSyns[] = [];
    const c = census.clients;
    for (let at = 0; at < c.length; at += CENSUS_FIELDS) {
      const [client, , start, end, clocks] = c.subarray(at, at + CENSUS_FIELDS) as unknown as [number, number, number, number, number];
      clients.push({
        get address() {
          return ipv4ToString(client);
        },
        count: end - start,
        clocks,
        read: () => read(start, end),
      });
    }
    return clientClocks(clients);
  }
}

/** One number per address pair: IPv4 server index * 2^32 + client address; IPv6 the negative pair id. */
function synPairKey(client: number, server: number): number {
  return client < 0 ? client : server * TWO_32 + client;
}
