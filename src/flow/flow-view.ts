import { formatAddress, formatEndpoint } from '../decode/address';
import { attemptOutcome, attemptRejection } from './attempt';
import { connState } from './conn-state';
import { flowId, type AttemptOutcome, type Flow, type SynOptions } from './flow';
import { E, Layout, S, W, endpointBase } from './flow-record';
import type { FlowStore } from './flow-store';
import { historyText, responderFinFirst } from './history';

/**
 * A flow leaving the tracker, read straight from its record: the counts and the outcome
 * cost nothing, address text is made when first asked for, and the full `Flow` object only
 * by toFlow(). The tracker reuses one view: it is valid only during the onFlowView call
 * (keep toFlow()'s result, never the view).
 */
export class FlowView {
  private slot = -1;
  private clientSide = 0;
  private client = 0;
  private server = 0;
  private outcomeCache: AttemptOutcome | null | undefined = undefined;
  private clientText: string | null = null;
  private serverText: string | null = null;
  private readonly words = new Uint32Array(4);
  /** Direct-mapped cache of server endpoint text: (a0, a1, a2, a3, port) keys and their strings. */
  private readonly serviceKeys = new Float64Array(SERVICE_CACHE * 5).fill(-1);
  private readonly serviceTexts: string[] = new Array<string>(SERVICE_CACHE).fill('');

  constructor(private readonly store: FlowStore) {}

  /** Points the view at the flow in `slot` (tracker only). */
  bind(slot: number): void {
    const origSide = this.store.int[slot * Layout.WORDS + S.ORIG_SIDE]!;
    this.slot = slot;
    this.clientSide = origSide;
    this.client = endpointBase(slot, origSide);
    this.server = endpointBase(slot, 1 - origSide);
    this.outcomeCache = undefined;
    this.clientText = null;
    this.serverText = null;
  }

  /** Flow id, as in Flow.id. */
  get id(): string {
    return flowId(this.ordinal);
  }

  /** The number n of the flow id "f<n>" (no text made). */
  get ordinal(): number {
    return this.store.wide[this.slot * Layout.WIDE_WORDS + W.SEQ_NO]!;
  }

  get ipVersion(): 4 | 6 {
    return this.store.int[this.slot * Layout.WORDS + S.IP_VERSION] === 6 ? 6 : 4;
  }

  /** As Flow.outcome. */
  get outcome(): AttemptOutcome | null {
    if (this.outcomeCache === undefined) this.outcomeCache = attemptOutcome(this.store, this.slot);
    return this.outcomeCache;
  }

  get syns(): number {
    return this.store.int[this.client + E.SYNS]!;
  }

  get synAcks(): number {
    return this.store.int[this.server + E.SYN_ACKS]!;
  }

  get origPackets(): number {
    return this.store.wide[this.slot * Layout.WIDE_WORDS + W.PACKETS_A + this.clientSide]!;
  }

  get respPackets(): number {
    return this.store.wide[this.slot * Layout.WIDE_WORDS + W.PACKETS_A + 1 - this.clientSide]!;
  }

  get clientIp(): string {
    if (this.clientText === null) this.clientText = this.address(this.client);
    return this.clientText;
  }

  /** The client's IPv4 address as uint32, or -1 for IPv6 (no text formatting). */
  get clientIpv4(): number {
    return this.ipVersion === 4 ? this.store.uint[this.client + E.A3]! : -1;
  }

  /** The server's IPv4 address as uint32, or -1 for IPv6. */
  get serverIpv4(): number {
    return this.ipVersion === 4 ? this.store.uint[this.server + E.A3]! : -1;
  }

  /** The client's address words (as the decoders hold them) copied into `out`: no text made. */
  clientWords(out: Uint32Array): Uint32Array {
    return this.store.endpointWords(this.client, out);
  }

  /** The server's address words copied into `out`. */
  serverWords(out: Uint32Array): Uint32Array {
    return this.store.endpointWords(this.server, out);
  }

  get clientPort(): number {
    return this.store.int[this.client + E.PORT]!;
  }

  get serverIp(): string {
    if (this.serverText === null) this.serverText = this.address(this.server);
    return this.serverText;
  }

  get serverPort(): number {
    return this.store.int[this.server + E.PORT]!;
  }

  /**
   * The server as "ip:port" ("[ip]:port" for IPv6), as formatEndpoint(serverIp, serverPort,
   * ipVersion) gives it. A few services take most connections, so the text is cached and the
   * same string comes back for them (cheap as a Map key: its hash is computed once).
   */
  get serverEndpoint(): string {
    const u = this.store.uint;
    const e = this.server;
    const a0 = u[e + E.A0]!;
    const a1 = u[e + E.A1]!;
    const a2 = u[e + E.A2]!;
    const a3 = u[e + E.A3]!;
    const port = this.store.int[e + E.PORT]!;
    const i = Math.imul(a3 ^ Math.imul(a2, 0x85ebca6b) ^ Math.imul(port, 0x9e3779b1), 0x9e3779b1) >>> 24;
    const k = this.serviceKeys;
    const at = i * 5;
    if (k[at] === a0 && k[at + 1] === a1 && k[at + 2] === a2 && k[at + 3] === a3 && k[at + 4] === port) {
      return this.serviceTexts[i]!;
    }
    const text = formatEndpoint(this.serverIp, port, this.ipVersion);
    k[at] = a0;
    k[at + 1] = a1;
    k[at + 2] = a2;
    k[at + 3] = a3;
    k[at + 4] = port;
    this.serviceTexts[i] = text;
    return text;
  }

  /** As Flow.firstSynAt: the client's first SYN, or null when the flow did not start with one. */
  get firstSynAt(): number | null {
    const r = this.store.int;
    const s = this.slot * Layout.WORDS;
    return r[s + S.SYN_FROM] === r[s + S.ORIG_SIDE]! + 1 ? this.store.wide[this.slot * Layout.WIDE_WORDS + W.SYN_AT]! : null;
  }

  /** As Flow.firstSynAckAt. */
  get firstSynAckAt(): number | null {
    const r = this.store.int;
    const s = this.slot * Layout.WORDS;
    return r[s + S.SYN_ACK_FROM] === 2 - r[s + S.ORIG_SIDE]! ? this.store.wide[this.slot * Layout.WIDE_WORDS + W.SYN_ACK_AT]! : null;
  }

  get lastSeen(): number {
    return this.store.wide[this.slot * Layout.WIDE_WORDS + W.LAST_SEEN]!;
  }

  /** TSval of the client's first SYN (Flow.synOptions.tsVal), or null. */
  get synTsVal(): number | null {
    return this.firstSynAt === null ? null : nullIfAbsent(this.store.wide[this.slot * Layout.WIDE_WORDS + W.SYN_TSVAL]!);
  }

  /** Initial sequence number of the client's first SYN (Flow.isn), or null. */
  get synIsn(): number | null {
    return this.firstSynAt === null ? null : this.store.uint[this.slot * Layout.WORDS + S.SYN_ISN]!;
  }

  /** A 32-bit field of the client's first SYN by its offset (S.SYN_MSS, ...): -1 when absent or when there was no SYN. */
  private synField(field: number): number {
    return this.firstSynAt === null ? -1 : this.store.int[this.slot * Layout.WORDS + field]!;
  }

  /** MSS option of the client's first SYN, or -1 when absent. */
  get synMssRaw(): number {
    return this.synField(S.SYN_MSS);
  }

  /** Window scale option of the client's first SYN, or -1 when absent. */
  get synWindowScaleRaw(): number {
    return this.synField(S.SYN_WSCALE);
  }

  /** 1 when the client's first SYN offered SACK, else 0. */
  get synSackRaw(): number {
    return this.synField(S.SYN_SACK) === 1 ? 1 : 0;
  }

  /** IPv4 ID of the client's first SYN, or -1 when absent (IPv6, no SYN). */
  get synIpIdRaw(): number {
    return this.synField(S.SYN_IP_ID);
  }

  /** Id of the first interface that saw the flow, or -1. */
  get firstInterface(): number {
    return this.store.int[this.slot * Layout.WORDS + S.IFACE0]!;
  }

  /** As Flow.history (built as text on each call). */
  get history(): string {
    return historyText(this.store, this.slot);
  }

  /** The server (responder, lower case in Zeek's history) sent a FIN before the client did. */
  get serverClosedFirst(): boolean {
    return responderFinFirst(this.store, this.slot);
  }

  /** The full output record (the only place a flow's history becomes text). */
  toFlow(): Flow {
    const store = this.store;
    const r = store.int;
    const u = store.uint;
    const w = store.wide;
    const slot = this.slot;
    const s = slot * Layout.WORDS;
    const sw = slot * Layout.WIDE_WORDS;
    const client = this.client;
    const server = this.server;
    const origSide = r[s + S.ORIG_SIDE]!;
    const history = historyText(store, slot);
    const outcome = this.outcome;
    const hasSyn = r[s + S.SYN_FROM] === origSide + 1;
    const iface0 = r[s + S.IFACE0]!;
    const more = store.interfaces.size > 0 ? store.interfaces.get(slot) : undefined;
    return {
      id: this.id,
      ipVersion: this.ipVersion,
      clientIp: this.clientIp,
      clientPort: r[client + E.PORT]!,
      serverIp: this.serverIp,
      serverPort: r[server + E.PORT]!,
      state: connState(r, u, client, server, history),
      history,
      syns: r[client + E.SYNS]!,
      synAcks: r[server + E.SYN_ACKS]!,
      origPackets: w[sw + W.PACKETS_A + origSide]!,
      respPackets: w[sw + W.PACKETS_A + 1 - origSide]!,
      firstSeen: w[sw + W.FIRST_SEEN]!,
      lastSeen: w[sw + W.LAST_SEEN]!,
      firstSynAt: hasSyn ? w[sw + W.SYN_AT]! : null,
      firstSynAckAt: r[s + S.SYN_ACK_FROM] === 2 - origSide ? w[sw + W.SYN_ACK_AT]! : null,
      isn: hasSyn ? u[s + S.SYN_ISN]! : null,
      synOptions: hasSyn ? synOptions(store, slot) : null,
      synIpId: hasSyn ? nullIfAbsent(r[s + S.SYN_IP_ID]!) : null,
      synTtl: hasSyn ? r[s + S.SYN_TTL]! : null,
      interfaces: more !== undefined ? more.slice() : iface0 === -1 ? [] : [iface0],
      outcome,
      rejection: attemptRejection(store, slot, outcome),
    };
  }

  /** Copies the flow into `target` (its record and side-map entries) and returns its slot there: a view of it can make the Flow later. */
  copyInto(target: FlowStore): number {
    return target.copyFrom(this.store, this.slot);
  }

  private address(e: number): string {
    return formatAddress(this.store.endpointWords(e, this.words), this.ipVersion);
  }
}

/** Entries in FlowView's server endpoint cache (indexed by the top 8 bits of a hash). */
const SERVICE_CACHE = 256;

function synOptions(store: FlowStore, slot: number): SynOptions {
  const r = store.int;
  const s = slot * Layout.WORDS;
  const sw = slot * Layout.WIDE_WORDS;
  return {
    mss: nullIfAbsent(r[s + S.SYN_MSS]!),
    windowScale: nullIfAbsent(r[s + S.SYN_WSCALE]!),
    sackPermitted: r[s + S.SYN_SACK] === 1,
    tsVal: nullIfAbsent(store.wide[sw + W.SYN_TSVAL]!),
    tsEcr: nullIfAbsent(store.wide[sw + W.SYN_TSECR]!),
  };
}

function nullIfAbsent(v: number): number | null {
  return v === -1 ? null : v;
}
