import * as fs from 'node:fs';
import { anyDeviceWarning } from './capture/any-device-warning';
import { InterfaceRegistry } from './capture/interface-registry';
import { openCaptureFile } from './capture/open';
import type { CaptureReader, CaptureSource, PacketRecord } from './capture/record';
import type { BridgeSubnet } from './context/bridge';
import { captureFacts } from './context/capture-facts';
import { contextUse } from './context/context-use';
import type { HostContext } from './context/host-context';
import { matchContext, type ContextMatch, type ContextVerdict } from './context/match-capture';
import { formatAddress, formatMac, ipv4ToString } from './decode/address';
import { decodeFrame } from './decode/dispatch';
import { isSupportedLinkType, linkTypeName } from './decode/link-types';
import { DecodedPacket, TcpFlag, Transport } from './decode/packet';
import { problemCategory, problemName } from './decode/problems';
import { clientClocks, MIN_CLOCK_SYNS, type ClientClocks } from './diagnose/client-clocks';
import { diagnose } from './diagnose/diagnose';
import type { Finding } from './diagnose/finding';
import { LATE_ANSWER_SECONDS, type CaptureHealth, type MacSighting, type PeerSyns } from './diagnose/input';
import { flowId, flowOrdinal, type Flow } from './flow/flow';
import type { FlowView } from './flow/flow-view';
import { FlowTracker, MAX_LIVE_FLOWS } from './flow/tracker';
import { attemptPath, type AttemptPath } from './flow/attempt-path';
import { ServicePaths } from './flow/service-path';
import { AttemptStitcher } from './flow/stitch';
import type { KernelEvidence } from './evidence/kernel-evidence';
import { LinkMacs } from './evidence/link-macs';
import { MacSightings } from './evidence/mac-sightings';
import { ArpLog } from './evidence/arp-log';
import { FailedFlowGroups, type FailedGroup } from './flow/failed-flow-groups';
import { countFindings } from './diagnose/finding-counts';
import { SampleCounts } from './diagnose/sample-counts';

export interface AnalyzeOptions {
  /** Local bridge subnets given by hand (--bridge). */
  bridges?: readonly BridgeSubnet[];
  /** Host facts from `synscope context` (--context FILE); used only if it matches the capture (match-capture.ts). */
  context?: HostContext;
  /**
   * Snapshots of other network namespaces of the same host (`synscope context --netns NS`:
   * a container's, ingress_sbox): the reply to a DNATed SYN is simulated over the routes of
   * the one holding the DNAT target (--netns-context FILE).
   */
  namespaceContexts?: readonly HostContext[];
  /** How far the context's time may be from the capture's (default DEFAULT_CONTEXT_WINDOW_SECONDS). */
  contextWindowSeconds?: number;
  /** Keep every flow in `flows`, not only the attempts that failed. */
  allFlows?: boolean;
  /** Emulate Zeek's timers that split flows (for comparison with conn.log). */
  zeekTimers?: boolean;
  /** Kernel counters and trace events of a live capture's window (live, or a written context's kernelEvidence). */
  kernel?: KernelEvidence | null;
  /** Called every few hundred thousand packets while reading. */
  onProgress?: (progress: AnalyzeProgress) => void;
}

export interface AnalyzeProgress {
  packets: number;
  bytesRead: number;
  /** Sum of the input files' sizes, when known. */
  totalBytes: number | null;
}

export interface InputSummary {
  source: string;
  format: 'pcap' | 'pcapng' | 'live';
  linkTypes: string[];
  interfaces: string[];
  packets: number;
  droppedByCapture: number | null;
  /** Byte offset of an incomplete last record, or null when the file ended cleanly. */
  truncatedAt: number | null;
  /** Records whose caplen < wire length. */
  snapped: number;
  /** Live capture inside another namespace given by path or pid: the nsfs path in full. */
  namespacePath?: string;
}

export interface HandshakeSummary {
  attempted: number;
  completed: number;
  unanswered: number;
  rejected: number;
  synAckLost: number;
}

export interface AnalysisSummary {
  packets: number;
  tcpPackets: number;
  flows: number;
  handshakes: HandshakeSummary;
  /** Packets that could not be decoded fully, by reason (truncated-tcp, ipv4-fragment, ...). */
  decodeProblems: Record<string, number>;
}

export interface Analysis {
  inputs: InputSummary[];
  summary: AnalysisSummary;
  /**
   * Reported flows: the failed attempts (a bounded sample of each group when there are many),
   * or every flow with allFlows. Ordered by first packet.
   */
  flows: Flow[];
  /** Failed attempts counted but not in `flows` (beyond each group's sample). */
  flowsLeftOut: number;
  /** The failed attempts by client subnet, service and outcome, exact counts (failed-flow-groups.ts). */
  failedGroups: FailedGroup[];
  /**
   * Failed connection attempts seen at several hops (NAT stitching), each counted once in
   * summary.handshakes; ordered by their outermost flow.
   */
  attempts: AttemptPath[];
  /** Interface id → name, for Flow.interfaces. */
  interfaceNames: string[];
  findings: Finding[];
  /** One-line notes for the operator (cut-off files, unsupported link types). */
  warnings: string[];
  /** Kernel counters and trace events of a live capture's window, or null for files without them. */
  kernel: KernelEvidence | null;
  /** Source MACs by IP address and interface (not in the JSON report; the cross-host rule compares them). */
  addressMacs?: ReadonlyMap<string, readonly MacSighting[]>;
  /** Several hosts analyzed together (--host): each host's name, clock offset and inputs. */
  hosts?: HostSummary[];
  /** Client addresses whose SYNs show several TCP timestamp clocks (hosts behind one address). */
  clientClocks?: ClientClocks[];
  /** Ids of the flows that are hops of a NAT-stitched attempt (not in the JSON report). */
  stitchedFlows?: ReadonlySet<string>;
  /** How the host context compared with the capture (match-capture.ts); null without one, or for a live run's own. */
  contextMatch?: ContextVerdict | null;
}

export interface HostSummary {
  name: string;
  /** Sources of this host's packets, as in inputs. */
  sources: string[];
  /** The host context's namespace and capture time (RFC 3339 UTC, null when the context has none), or null without a context. */
  context: { namespace: string; capturedAt: string | null } | null;
  /** This host's capture clock minus the first host's, from handshakes both saw; null when none matched (and for the first host). */
  clockOffsetSeconds: number | null;
  /** Handshakes the offset was estimated from. */
  clockMatches: number;
}

const PROGRESS_MASK = 0x3ffff;
const MAX_REMEMBERED_NETWORKS = 65536;
const MAX_MAC_KEYS = 65536;
const MAX_MACS_PER_KEY = 8;
const MAX_LATE_ANSWERED = 10000;
/**
 * Bounds of the attempt records kept for the tcp_tw_recycle replay: SynRecord.SIZE numbers
 * per attempt (about 19 MB at the total cap; attempts past it are not recorded), and per
 * address pair handed to the rule.
 */
const MAX_SYNS_TOTAL = 262144;
const MAX_SYNS_PER_PEER = 4096;
const TWO_32 = 4294967296;

/** Fields of one attempt record in AnalysisRun.synRecords (see PeerSyns for their meaning). */
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

/** Analyze capture files: read, decode, track handshakes, diagnose. Throws SynscopeError on a malformed file. */
export function analyzeFiles(paths: readonly string[], options: AnalyzeOptions = {}): Analysis {
  const readers: CaptureReader[] = [];
  try {
    let totalBytes: number | null = 0;
    for (const p of paths) {
      readers.push(openCaptureFile(p));
      try {
        if (totalBytes !== null) totalBytes += fs.statSync(p).size;
      } catch {
        totalBytes = null;
      }
    }
    return analyzeReaders(readers, options, totalBytes);
  } finally {
    for (const r of readers) r.close();
  }
}

/** Analyze already-open readers; packets of several readers are merged in time order. */
export function analyzeReaders(readers: readonly CaptureReader[], options: AnalyzeOptions = {}, totalBytes: number | null = null): Analysis {
  const run = new AnalysisRun(readers, options, totalBytes);
  run.readAll(readers);
  return run.result();
}

/**
 * An analysis fed one packet at a time (live capture): push each record with the index
 * of its source, then finish() once the capture has stopped.
 */
export class StreamingAnalysis {
  private readonly run: AnalysisRun;

  constructor(sources: readonly CaptureSource[], options: AnalyzeOptions = {}) {
    this.run = new AnalysisRun(sources, options, null);
  }

  push(rec: PacketRecord, sourceIndex: number): void {
    this.run.packet(rec, sourceIndex);
  }

  /** Counts so far, for progress lines. */
  get counts(): LiveCounts {
    return this.run.liveCounts();
  }

  /**
   * End the analysis. Host facts known only once the capture has stopped (the context
   * snapshot, bridges from it, the kernel evidence of the window) are given here.
   */
  finish(late: Pick<AnalyzeOptions, 'bridges' | 'context' | 'kernel'> = {}): Analysis {
    this.run.finish();
    this.run.addHostFacts(late);
    return this.run.result();
  }
}

export interface LiveCounts {
  packets: number;
  /** Packets per source, in source order. */
  packetsPerSource: readonly number[];
  /** SYNs (without ACK) and SYN-ACKs seen so far. */
  syns: number;
  synAcks: number;
  /** Attempts already ended (answered, refused or timed out) and, of them, those that failed. */
  attemptsEnded: number;
  failed: number;
}

class AnalysisRun {
  private readonly pkt = new DecodedPacket();
  private readonly tracker: FlowTracker;
  private readonly problems = new Float64Array(256);
  private packets = 0;
  private tcpPackets = 0;
  private flowCount = 0;
  private readonly handshakes: HandshakeSummary = { attempted: 0, completed: 0, unanswered: 0, rejected: 0, synAckLost: 0 };
  private readonly kept: Flow[] = [];
  private readonly failed = new FailedFlowGroups();
  private readonly completedByService = new Map<string, number>();
  /** IPv4 /24 networks (address >>> 8) seen as TCP endpoints: what a proposed subnet must avoid. */
  private readonly seenIpv4Networks = new Set<number>();
  private readonly arp = new ArpLog();
  /** Source MACs per (IPv4 address * 2^16 + interface id), fed by SYNs, SYN-ACKs and ARP only. */
  private readonly macsV4 = new MacSightings();
  /** The same for IPv6 ("address|interface id"); IPv6 handshakes are few enough for text keys. */
  private readonly macsV6 = new Map<string, Map<number, number>>();
  /** Unicast MACs per interface (handshakes and ARP), for the context check. */
  private readonly linkMacs = new LinkMacs();
  private readonly lateAnswered: Flow[] = [];
  /** Every attempt as numbers, to recognise one attempt at several hops (NAT stitching). */
  private readonly stitcher = new AttemptStitcher();
  /** The hops stitched attempts took per service: where an attempt seen at one hop only should have gone. */
  private readonly servicePaths = new ServicePaths();
  /**
   * Attempt records for the PAWS replay, SynRecord.SIZE numbers each, in one typed array:
   * per flow nothing for the collector to trace and no address text. Allocated at its bound
   * once: the zero pages cost no memory until records reach them, and nothing is copied to
   * grow it. Only the pairs with an unanswered attempt (a small set) are grouped, at the end.
   */
  private readonly synRecords = new Float64Array(SynRecord.SIZE * MAX_SYNS_TOTAL);
  private synRecordCount = 0;
  /** IPv4 server addresses (uint32) → index, in first-seen order. */
  private readonly synServers = new Map<number, number>();
  /** IPv6 pairs: "client server" text → id. */
  private readonly v6SynPairs = new Map<string, number>();
  /** Pair keys (see synPairKey) with at least one unanswered attempt. */
  private readonly unansweredPairs = new Set<number>();
  private readonly interfaces: InterfaceRegistry;
  private readonly interfaceNames: string[];
  /** Capture time of the first and last packet, for the context check. */
  private firstAt = Infinity;
  private lastAt = -Infinity;
  /** The context came with a live run (its own snapshot): no check needed. */
  private contextIsOwn = false;
  private readonly linkTypesSeen: Set<number>[];
  private readonly lastLinkType: number[];
  private readonly packetsPerReader: number[];
  private synAckWithoutSyn = 0;
  private readonly synAckWithoutSynExamples: string[] = [];
  private oneSidedFlows = 0;
  private synsSeen = 0;
  /** Flow numbers of the inner hops of stitched attempts: the same attempt again, after NAT. */
  private readonly innerHops = new Set<number>();
  /** Ids of every flow that is one hop of a stitched (NAT-translated) attempt, answered or not. */
  private readonly stitchedFlows = new Set<string>();
  private synAcksSeen = 0;

  constructor(
    private readonly readers: readonly CaptureSource[],
    private options: AnalyzeOptions,
    private readonly totalBytes: number | null,
  ) {
    this.tracker = new FlowTracker({ onFlowView: (v) => this.onFlow(v), zeekTimers: options.zeekTimers ?? false });
    this.interfaces = new InterfaceRegistry(readers);
    this.interfaceNames = this.interfaces.names;
    this.linkTypesSeen = readers.map(() => new Set<number>());
    this.lastLinkType = readers.map(() => -1);
    this.packetsPerReader = readers.map(() => 0);
  }

  readAll(readers: readonly CaptureReader[]): void {
    if (readers.length === 1) {
      const reader = readers[0]!;
      for (let rec = reader.next(); rec !== null; rec = reader.next()) this.packet(rec, 0);
    } else {
      this.readMerged(readers);
    }
    this.finish();
  }

  finish(): void {
    this.tracker.finish();
  }

  addHostFacts(late: Pick<AnalyzeOptions, 'bridges' | 'context' | 'kernel'>): void {
    this.options = { ...this.options, ...late };
    this.contextIsOwn = late.context !== undefined;
  }

  liveCounts(): LiveCounts {
    return {
      packets: this.packets,
      packetsPerSource: this.packetsPerReader,
      syns: this.synsSeen,
      synAcks: this.synAcksSeen,
      attemptsEnded: this.handshakes.attempted,
      failed: this.failed.count,
    };
  }

  /** Several inputs of one incident: hand packets to the tracker in capture-time order. */
  private readMerged(readers: readonly CaptureReader[]): void {
    const heads = readers.map((r) => r.next());
    for (;;) {
      let best = -1;
      let bestTime = Infinity;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h === null || h === undefined) continue;
        const t = h.tsSec + h.tsNsec * 1e-9;
        if (t < bestTime) {
          bestTime = t;
          best = i;
        }
      }
      if (best < 0) return;
      this.packet(heads[best]!, best);
      heads[best] = readers[best]!.next();
    }
  }

  packet(rec: PacketRecord, readerIndex: number): void {
    const pkt = this.pkt;
    this.packets++;
    this.packetsPerReader[readerIndex]!++;
    decodeFrame(rec.linkType, rec.data, rec.offset, rec.offset + rec.caplen, pkt);
    const iface = this.interfaceId(readerIndex, rec.interfaceIndex, rec.linkType, pkt.sllIfIndex);
    const time = rec.tsSec + rec.tsNsec * 1e-9;
    if (time < this.firstAt) this.firstAt = time;
    if (time > this.lastAt) this.lastAt = time;
    // Linux cooked headers carry the sender's MAC where Ethernet would.
    const macOffset = pkt.ethOffset >= 0 ? pkt.ethOffset + 6 : pkt.sllMacOffset;
    if (pkt.sllPacketType === SLL_OUTGOING && pkt.sllIfIndex >= 0 && macOffset >= 0) this.interfaces.noteOutgoing(pkt.sllIfIndex, rec.data.readUIntBE(macOffset, 6));
    if (pkt.problem !== 0) this.problems[pkt.problem]!++;
    const transport = pkt.transport;
    if (transport === Transport.TCP) {
      this.tcpPackets++;
      this.tracker.add(pkt, rec.data, time, iface);
      if ((pkt.tcpFlags & TcpFlag.SYN) !== 0) {
        if ((pkt.tcpFlags & TcpFlag.ACK) === 0) this.synsSeen++;
        else this.synAcksSeen++;
      }
      // Handshake packets are enough to see one address behind several MACs, and cheap.
      if ((pkt.tcpFlags & TcpFlag.SYN) !== 0 && pkt.ethOffset >= 0) this.noteLink(iface, rec.data, pkt.ethOffset);
      if ((pkt.tcpFlags & TcpFlag.SYN) !== 0 && macOffset >= 0) {
        if (pkt.ipVersion === 4) this.macsV4.note(pkt.src[3]! * 65536 + iface, rec.data.readUIntBE(macOffset, 6));
        else this.noteMacV6(`${formatAddress(pkt.src, 6)}|${iface}`, rec.data.readUIntBE(macOffset, 6));
      }
    } else if (transport === Transport.ICMP) {
      if (pkt.icmpQuotesTcp) this.tracker.add(pkt, rec.data, time, iface);
    } else if (transport === Transport.ARP) {
      this.arp.note(pkt.arpOp, pkt.arpSenderIp, pkt.arpTargetIp, rec.tsSec + rec.tsNsec * 1e-9, iface);
      if (pkt.ethOffset >= 0) this.noteLink(iface, rec.data, pkt.ethOffset);
      if (pkt.arpSenderMacOffset >= 0 && pkt.arpSenderIp !== 0) this.macsV4.note(pkt.arpSenderIp * 65536 + iface, rec.data.readUIntBE(pkt.arpSenderMacOffset, 6));
    }
    if ((this.packets & PROGRESS_MASK) === 0 && this.options.onProgress !== undefined) this.progress();
  }

  private interfaceId(readerIndex: number, local: number, linkType: number, ifindex: number): number {
    if (linkType !== this.lastLinkType[readerIndex]) {
      this.linkTypesSeen[readerIndex]!.add(linkType);
      this.lastLinkType[readerIndex] = linkType;
    }
    return this.interfaces.id(readerIndex, local, ifindex);
  }

  private noteLink(iface: number, data: Buffer, ethOffset: number): void {
    this.linkMacs.note(iface, data.readUIntBE(ethOffset + 6, 6), data.readUIntBE(ethOffset, 6));
  }

  private noteMacV6(key: string, mac: number): void {
    let byMac = this.macsV6.get(key);
    if (byMac === undefined) {
      if (this.macsV6.size >= MAX_MAC_KEYS) return;
      byMac = new Map();
      this.macsV6.set(key, byMac);
    }
    const n = byMac.get(mac);
    if (n !== undefined) byMac.set(mac, n + 1);
    else if (byMac.size < MAX_MACS_PER_KEY) byMac.set(mac, 1);
  }

  private onFlow(flow: FlowView): void {
    this.flowCount++;
    this.seeIpv4(flow.clientIpv4);
    this.seeIpv4(flow.serverIpv4);
    const outcome = flow.outcome;
    // With allFlows every flow becomes a Flow object; otherwise only the failed attempts a
    // group keeps as its sample do (and late answers); the rest are counted from the view.
    let full = this.options.allFlows === true ? flow.toFlow() : null;
    if (outcome !== null && outcome !== 'rejected') this.notePeerSyns(flow);
    if (outcome !== null) {
      this.stitcher.addView(flow);
      this.handshakes.attempted++;
      this.handshakes[outcome]++;
      if (outcome === 'completed') {
        const service = flow.serverEndpoint;
        this.completedByService.set(service, (this.completedByService.get(service) ?? 0) + 1);
        if (flow.syns > 1 && this.lateAnswered.length < MAX_LATE_ANSWERED) {
          const synAt = flow.firstSynAt;
          const synAckAt = flow.firstSynAckAt;
          if (synAt !== null && synAckAt !== null && synAckAt - synAt >= LATE_ANSWER_SECONDS) this.lateAnswered.push(full ?? flow.toFlow());
        }
      } else {
        this.failed.add(flow, () => (full ??= flow.toFlow()));
      }
    } else {
      if (flow.syns === 0 && flow.synAcks > 0) {
        this.synAckWithoutSyn++;
        if (this.synAckWithoutSynExamples.length < 10) this.synAckWithoutSynExamples.push(flow.id);
      } else if (flow.origPackets === 0 || flow.respPackets === 0) {
        this.oneSidedFlows++;
      }
    }
    if (this.options.allFlows === true) this.kept.push(full!);
  }

  /**
   * Records an attempt's SYN timing and TSval, whether the server answered, and whether
   * the server closed first (at most MAX_SYNS_TOTAL attempts).
   */
  /** Attempts that reached a listener, as numbers for the tcp_tw_recycle replay (no Flow object). */
  private notePeerSyns(f: FlowView): void {
    const firstSynAt = f.firstSynAt;
    if (firstSynAt === null || this.synRecordCount >= MAX_SYNS_TOTAL) return;
    let client = f.clientIpv4;
    let server = 0;
    if (f.ipVersion === 4) {
      const serverV4 = f.serverIpv4;
      const known = this.synServers.get(serverV4);
      server = known ?? this.synServers.size;
      if (known === undefined) this.synServers.set(serverV4, server);
    } else {
      const text = `${f.clientIp} ${f.serverIp}`;
      const id = this.v6SynPairs.get(text) ?? this.v6SynPairs.size;
      if (id === this.v6SynPairs.size) this.v6SynPairs.set(text, id);
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
    r[at + SynRecord.SERVER_CLOSED] = serverFinFirst(f.history) ? 1 : 0;
    if (firstSynAckAt === null) this.unansweredPairs.add(synPairKey(client, server));
  }

  /**
   * The attempt records of the pairs the replay can say something about: an unanswered
   * attempt to explain and a connection the server closed (the only thing it remembers);
   * at most MAX_SYNS_PER_PEER attempts each, the rest counted in notRecorded.
   */
  private peerSyns(): PeerSyns[] {
    const byPair = new Map<number, PeerSyns>();
    const servers = [...this.synServers.keys()];
    const v6 = [...this.v6SynPairs.keys()].map((k) => k.split(' '));
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
        const [clientIp, serverIp] = client >= 0 ? [ipv4ToString(client), ipv4ToString(servers[r[at + SynRecord.SERVER]!]!)] : v6[-1 - client]!;
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

  private seeIpv4(address: number): void {
    if (address >= 0 && this.seenIpv4Networks.size < MAX_REMEMBERED_NETWORKS) this.seenIpv4Networks.add(address >>> 8);
  }

  private progress(): void {
    let bytesRead = 0;
    for (const r of this.readers) bytesRead += r.stats.bytesRead;
    this.options.onProgress!({ packets: this.packets, bytesRead, totalBytes: this.totalBytes });
  }

  /**
   * Stitches the attempts seen at several hops: each counts once in the handshake summary,
   * with the outermost hop's (the client's) outcome; returns the paths of the failed ones.
   */
  private stitchAttempts(): AttemptPath[] {
    const byNumber = new Map<number, Flow>();
    for (const f of this.failed.sampled()) byNumber.set(flowOrdinal(f.id), f);
    for (const f of this.kept) byNumber.set(flowOrdinal(f.id), f);
    const paths: AttemptPath[] = [];
    for (const g of this.stitcher.groups()) {
      for (const o of g.outcomes) {
        this.handshakes.attempted--;
        this.handshakes[o]--;
      }
      this.handshakes.attempted++;
      this.handshakes[g.outcomes[0]!]++;
      for (const inner of g.flows.slice(1)) this.innerHops.add(inner);
      for (const n of g.flows) this.stitchedFlows.add(flowId(n));
      this.servicePaths.addStitched(g.interfaces.map((i) => this.interfaceNames[i] ?? `#${i}`), g.servers, g.clients);
      if (g.outcomes.every((o) => o === 'completed')) continue;
      // A hop that completed has no Flow object unless --all-flows kept it; such a rare
      // path (the client failed, an inner hop completed) is counted but not drawn.
      const flows = g.flows.map((n) => byNumber.get(n));
      if (flows.some((f) => f === undefined)) continue;
      paths.push(attemptPath(flows as Flow[], g.interfaces.map((i) => this.interfaceNames[i] ?? `#${i}`)));
    }
    return paths.sort((a, b) => flowOrdinal(a.id) - flowOrdinal(b.id));
  }

  /**
   * Checks the host context against the capture (unless it is a live run's own), names
   * the any-device interfaces from it, and says what could not be used.
   */
  private hostFacts(addressMacs: Map<string, MacSighting[]>): ReturnType<typeof contextUse> & { match: ContextMatch | null } {
    const context = this.options.context ?? null;
    const facts = captureFacts(this.readers, this.interfaces, addressMacs, this.linkMacs.named(this.interfaceNames), this.firstAt, this.lastAt);
    const match = context === null || this.contextIsOwn ? null : matchContext(context, facts, this.options.contextWindowSeconds);
    const use = contextUse({ context, bridges: this.options.bridges ?? [], kernel: this.options.kernel ?? null }, match);
    const unnamed = this.interfaces.resolveIfindexNames(use.ifindexNames);
    const warning = anyDeviceWarning(this.readers, this.interfaces, unnamed, context === null ? 'none' : use.ifindexNames === null ? 'unusable' : 'matched');
    return { ...use, match, warnings: warning === null ? use.warnings : [...use.warnings, warning] };
  }

  result(): Analysis {
    // Built once: with a flood of sources it holds tens of thousands of addresses.
    const addressMacs = this.macSightings();
    const host = this.hostFacts(addressMacs);
    const attempts = this.stitchAttempts();
    const inputs = this.readers.map((r, i) => this.inputSummary(r, i));
    const decodeProblems: Record<string, number> = {};
    let undecodable = 0;
    for (let code = 1; code < this.problems.length; code++) {
      const n = this.problems[code]!;
      if (n === 0) continue;
      decodeProblems[problemName(code)] = n;
      const cat = problemCategory(code);
      if (cat === 'truncated' || cat === 'invalid') undecodable += n;
    }
    const capture: CaptureHealth = {
      droppedByCapture: sumOrNull(inputs.map((i) => i.droppedByCapture)),
      synAckWithoutSyn: this.synAckWithoutSyn,
      synAckWithoutSynExamples: this.synAckWithoutSynExamples,
      oneSidedFlows: this.oneSidedFlows,
      truncatedFiles: inputs.filter((i) => i.truncatedAt !== null).map((i) => `${i.source} (byte ${i.truncatedAt})`),
      undecodablePackets: undecodable,
      completed: this.handshakes.completed,
    };
    const failedFlows = this.failed.sampled();
    const groups = this.failed.list();
    const counts = new SampleCounts(groups);
    const findings = diagnose(
      {
        failedFlows,
        counts,
        interfaceNames: this.interfaceNames,
        bridges: host.bridges,
        arpRequests: this.arp.sightings(this.interfaceNames),
        seenAddresses: new Set([...this.seenIpv4Networks].map((n) => ipv4ToString((n << 8) >>> 0))),
        capture,
        context: host.context,
        namespaceContexts: this.options.namespaceContexts ?? [],
        macsByAddress: addressMacs,
        lateAnsweredFlows: this.lateAnswered,
        peerSyns: this.peerSyns(),
        attempts,
        servicePaths: this.servicePaths.list(),
        kernel: host.kernel,
      },
      this.completedByService,
    );
    const reported = this.options.allFlows === true ? this.kept : failedFlows;
    const flows = reported.sort((a, b) => a.firstSeen - b.firstSeen || flowOrdinal(a.id) - flowOrdinal(b.id));
    return {
      inputs,
      summary: {
        packets: this.packets,
        tcpPackets: this.tcpPackets,
        flows: this.flowCount,
        handshakes: { ...this.handshakes },
        decodeProblems,
      },
      flows,
      flowsLeftOut: this.options.allFlows === true ? 0 : this.failed.count - failedFlows.length,
      failedGroups: groups,
      attempts,
      interfaceNames: this.interfaceNames,
      findings: countFindings(findings, { counts, attempts }, [...failedFlows, ...this.lateAnswered]),
      warnings: [...this.warnings(inputs), ...host.warnings],
      kernel: host.kernel,
      addressMacs,
      stitchedFlows: this.stitchedFlows,
      clientClocks: this.clientClocks(),
      contextMatch: host.match?.verdict ?? null,
    };
  }

  /**
   * Timestamp clocks per IPv4 client address, from every recorded attempt that carried a
   * TSval (each NAT-stitched attempt once). Per client only record numbers are kept; its
   * samples are built when it has enough of them.
   */
  private clientClocks(): ClientClocks[] {
    const recordsOf = new Map<number, number[]>();
    const r = this.synRecords;
    const counted = (i: number) => {
      const at = i * SynRecord.SIZE;
      const client = r[at + SynRecord.CLIENT]!;
      return client >= 0 && r[at + SynRecord.TS_VAL]! >= 0 && !this.innerHops.has(r[at + SynRecord.FLOW]!) ? client : -1;
    };
    // Counted first, so a flood of one SYN per client lists no records at all.
    const counts = new Map<number, number>();
    for (let i = 0; i < this.synRecordCount; i++) {
      const client = counted(i);
      if (client >= 0) counts.set(client, (counts.get(client) ?? 0) + 1);
    }
    for (let i = 0; i < this.synRecordCount; i++) {
      const client = counted(i);
      if (client < 0 || counts.get(client)! < MIN_CLOCK_SYNS) continue;
      const list = recordsOf.get(client);
      if (list === undefined) recordsOf.set(client, [i]);
      else list.push(i);
    }
    const read = (records: number[]) => ({
      samples: records.map((i) => ({ at: r[i * SynRecord.SIZE + SynRecord.FIRST_SYN_AT]!, tsVal: r[i * SynRecord.SIZE + SynRecord.TS_VAL]! })),
      servers: new Set(records.map((i) => r[i * SynRecord.SIZE + SynRecord.SERVER]!)).size,
    });
    return clientClocks([...recordsOf].map(([client, records]) => ({ address: ipv4ToString(client), count: records.length, read: () => read(records) })));
  }


  private inputSummary(reader: CaptureSource, index: number): InputSummary {
    const linkTypes = new Set(this.linkTypesSeen[index]);
    for (const i of reader.interfaces) linkTypes.add(i.linkType);
    return {
      source: reader.source,
      format: reader.format,
      linkTypes: [...linkTypes].map(linkTypeName),
      interfaces: this.interfaces.inputInterfaces(index),
      packets: this.packetsPerReader[index]!,
      droppedByCapture: reader.droppedByCapture(),
      truncatedAt: reader.stats.truncatedAt,
      snapped: reader.stats.snapped,
      ...(reader.namespacePath !== undefined && { namespacePath: reader.namespacePath }),
    };
  }

  private macSightings(): Map<string, MacSighting[]> {
    const out = new Map<string, MacSighting[]>();
    const add = (address: string, iface: number, byMac: Map<number, number>) => {
      const list = out.get(address) ?? [];
      for (const [mac, packets] of byMac) list.push({ mac: formatMac(mac), interface: this.interfaceNames[iface]!, packets });
      out.set(address, list);
    };
    for (const [key, macs] of this.macsV4.entries()) add(ipv4ToString(Math.floor(key / 65536)), key % 65536, new Map(macs.slice(0, MAX_MACS_PER_KEY)));
    for (const [key, byMac] of this.macsV6) {
      const bar = key.lastIndexOf('|');
      add(key.slice(0, bar), Number(key.slice(bar + 1)), byMac);
    }
    return out;
  }

  private warnings(inputs: InputSummary[]): string[] {
    const out: string[] = [];
    const p = this.tracker.pressure;
    if (p.endedEarly > 0) {
      out.push(
        `more than ${MAX_LIVE_FLOWS} flows were open at once (a SYN flood?): ${p.endedEarly} were ended before their timer to bound memory` +
          (p.synRetransmissionsAfter > 0 ? `; ${p.synRetransmissionsAfter} later SYN retransmissions of them were not counted as new attempts` : '') +
          (p.answersAfter > 0 ? `; ${p.answersAfter} answers (SYN-ACK or RST) came after their attempt was already counted as failed` : ''),
      );
    }
    for (const [i, input] of inputs.entries()) {
      if (input.truncatedAt !== null) {
        out.push(`${input.source}: the file ends in the middle of a record at byte ${input.truncatedAt} (capture cut off?); analyzed the ${input.packets} packets before it`);
      }
      for (const lt of this.readers[i]!.interfaces.map((x) => x.linkType)) {
        if (!isSupportedLinkType(lt)) {
          out.push(`${input.source}: link type ${linkTypeName(lt)} is not supported; its packets were counted but not decoded`);
          break;
        }
      }
    }
    return out;
  }
}

/** SLL packet type of a packet the capturing host sent. */
const SLL_OUTGOING = 4;

/** One number per address pair: IPv4 server index * 2^32 + client address; IPv6 the negative pair id. */
function synPairKey(client: number, server: number): number {
  return client < 0 ? client : server * TWO_32 + client;
}

/** The server (responder, lower case in Zeek's history) sent a FIN before the client did. */
function serverFinFirst(history: string): boolean {
  const server = history.indexOf('f');
  const client = history.indexOf('F');
  return server >= 0 && (client < 0 || server < client);
}


function sumOrNull(values: (number | null)[]): number | null {
  let sum: number | null = null;
  for (const v of values) if (v !== null) sum = (sum ?? 0) + v;
  return sum;
}
