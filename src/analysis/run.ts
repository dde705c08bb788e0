import type { CaptureInterface, CaptureReader, CaptureSource, PacketRecord } from '../capture/record';
import { keepsEveryTcpPacket } from '../capture/filter-scope';
import { PcapReader } from '../capture/pcap-reader';
import type { CaptureHealth } from '../diagnose/input';
import { flowOrdinal, type Flow } from '../flow/flow';
import { AttemptLog } from './attempt-log';
import { DecodeStage } from './decode';
import { runDiagnosis } from './diagnosis';
import { unseenConntrackDrops } from '../diagnose/conntrack-full';
import { missesPackets } from '../diagnose/rules/capture-incomplete';
import { hostFacts } from './host-facts';
import { PacketEvidence } from './packet-evidence';
import { PacketFilter } from './packet-filter';
import { openFiles, readRecords } from './read';
import { decodeProblems, inputSummaries, inputWarnings, sumOrNull } from './report-input';
import { stitchAttempts } from './stitch-attempts';
import { setAsideWaiting, waitingWarning } from './waiting-at-end';
import { TrackStage } from './track';
import { fileInterfaceName } from '../capture/interface-registry';
import type { Analysis, AnalyzeOptions, CaptureSpan, LiveCounts } from './types';

const PROGRESS_MASK = 0x3ffff;

/** Analyze capture files: read, decode, track handshakes, diagnose. Throws SynscopeError on a malformed file. */
export function analyzeFiles(paths: readonly string[], options: AnalyzeOptions = {}): Analysis {
  const { readers, totalBytes } = openFiles(paths);
  try {
    return analyzeReaders(readers, options, totalBytes);
  } finally {
    for (const r of readers) r.close();
  }
}

/** Analyze already-open readers; packets of several readers are merged in time order. */
export function analyzeReaders(readers: readonly CaptureReader[], options: AnalyzeOptions = {}, totalBytes: number | null = null): Analysis {
  const run = new AnalysisRun(readers, options, totalBytes, true);
  try {
    if (!run.scanNatively()) readRecords(readers, (rec, i) => run.packet(rec, i), (i) => run.readerEnded(i));
    run.finish();
  } catch (e) {
    run.abandon();
    throw e;
  }
  return run.result();
}

/**
 * An analysis fed one packet at a time (live capture): push each record with the index
 * of its source, then finish() once the capture has stopped.
 */
export class StreamingAnalysis {
  private readonly run: AnalysisRun;

  constructor(sources: readonly CaptureSource[], options: AnalyzeOptions = {}) {
    this.run = new AnalysisRun(sources, options, null, false);
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

/**
 * One analysis, its stages in the order the data takes them: records (read.ts) are decoded
 * (decode.ts) into the tracker (track.ts) and the packet evidence (packet-evidence.ts);
 * flows leaving the tracker feed the failed groups and the attempt log (attempt-log.ts);
 * at the end attempts are stitched across NAT hops (stitch-attempts.ts), the host facts
 * checked against the capture (host-facts.ts), the rules run (diagnosis.ts), and the report's
 * input assembled (report-input.ts).
 */
class AnalysisRun {
  private readonly evidence = new PacketEvidence();
  private readonly log = new AttemptLog();
  private readonly track: TrackStage;
  private readonly decode: DecodeStage;
  private readonly filter: PacketFilter | null;
  /** The context came with a live run (its own snapshot): no check needed. */
  private contextIsOwn = false;

  constructor(
    private readonly readers: readonly CaptureSource[],
    private options: AnalyzeOptions,
    private readonly totalBytes: number | null,
    fromFiles: boolean,
  ) {
    const onFlow = options.onFlow;
    this.track = new TrackStage(
      {
        allFlows: options.allFlows === true,
        zeekTimers: options.zeekTimers ?? false,
        nativeTracker: fromFiles && onFlow === undefined && readers.every(saysWhenItReusesMemory) && (options.nativeTracker ?? process.env.SYNSCOPE_NATIVE_TRACKER !== '0'),
        ...(onFlow !== undefined && { onFlow: (f: Flow) => onFlow(f, this.decode.interfaces.names) }),
      },
      this.evidence,
      this.log,
    );
    // Asked for by name only: by default a missing addon just means the JS tracker.
    const asked = options.nativeTracker === true || process.env.SYNSCOPE_NATIVE_TRACKER === '1';
    if (asked && this.track.nativeUnavailable !== null) process.stderr.write(`synscope: ${this.track.nativeUnavailable}; using the JS flow tracker\n`);
    this.decode = new DecodeStage(readers, this.track, this.evidence);
    this.filter = options.filter === undefined ? null : new PacketFilter(options.filter);
  }

  /** The reader has handed out its last record (its file's interface may go on in the next file of a ring). */
  readerEnded(readerIndex: number): void {
    this.decode.interfaces.readerEnded(readerIndex);
  }

  packet(rec: PacketRecord, readerIndex: number): void {
    if (this.filter !== null && !this.filter.keeps(rec)) return;
    this.decode.packet(rec, readerIndex);
    if ((this.decode.packets & PROGRESS_MASK) === 0 && this.options.onProgress !== undefined) this.progress();
  }

  /**
   * Stages 1 and 2 in C (DecodeStage.scanFile) when the input is one classic pcap file, read
   * whole, with the native tracker and no filter; false when not, and nothing was read.
   */
  scanNatively(): boolean {
    const native = this.track.native;
    const reader = this.readers[0];
    if (native === null || this.filter !== null || this.readers.length !== 1 || !(reader instanceof PcapReader) || process.env.SYNSCOPE_NATIVE_SCAN === '0') return false;
    const format = reader.scanFormat();
    if (format === null || !native.canScan(format)) return false;
    let reported = 0;
    this.decode.scanFile(reader, format, (packets, bytesRead) => {
      if (this.options.onProgress === undefined || packets < reported + PROGRESS_MASK + 1) return;
      reported = packets - (packets % (PROGRESS_MASK + 1));
      this.options.onProgress({ packets, bytesRead, totalBytes: this.totalBytes });
    });
    this.readerEnded(0);
    return true;
  }

  finish(): void {
    this.track.tracker.finish();
    this.track.takeNativeAccounts();
    this.decode.takeNativeEvidence();
  }

  /** After an error: the native tracker's thread lets go of the readers' buffers. */
  abandon(): void {
    this.track.native?.abandon();
  }

  addHostFacts(late: Pick<AnalyzeOptions, 'bridges' | 'context' | 'kernel'>): void {
    this.options = { ...this.options, ...late };
    this.contextIsOwn = late.context !== undefined;
  }

  liveCounts(): LiveCounts {
    return {
      packets: this.decode.packets,
      packetsPerSource: this.decode.packetsPerReader,
      syns: this.decode.synsSeen,
      synAcks: this.decode.synAcksSeen,
      attemptsEnded: this.track.handshakes.attempted,
      failed: this.track.failed.count,
    };
  }

  private progress(): void {
    let bytesRead = 0;
    for (const r of this.readers) bytesRead += r.stats.bytesRead;
    this.options.onProgress!({ packets: this.decode.packets, bytesRead, totalBytes: this.totalBytes });
  }

  result(): Analysis {
    const { track, decode, evidence } = this;
    const interfaceNames = decode.interfaces.names;
    // Built once (again only when the context named an interface: an any-device capture's, a file's): with a flood of sources it holds tens of thousands of addresses.
    let addressMacs = evidence.addressMacs(interfaceNames);
    const host = hostFacts(this.readers, decode, evidence, addressMacs, this.options, this.contextIsOwn);
    if (host.namesChanged) addressMacs = evidence.addressMacs(interfaceNames);
    // The failed groups and their samples, taken once: each call sorts them.
    const groups = track.failed.list();
    const failedFlows = track.failed.sampled();
    const stitched = stitchAttempts(track, failedFlows, interfaceNames, host.context);
    const inputs = inputSummaries(this.readers, decode);
    const problems = decodeProblems(decode.problems);
    const capture: CaptureHealth = {
      droppedByCapture: sumOrNull(inputs.map((i) => i.droppedByCapture)),
      synAckWithoutSyn: track.synAckWithoutSyn,
      synAckWithoutSynExamples: track.synAckWithoutSynExamples,
      oneSidedFlows: track.oneSidedFlows,
      truncatedFiles: inputs.filter((i) => i.truncatedAt !== null).map((i) => `${i.source} (byte ${i.truncatedAt})`),
      undecodablePackets: problems.undecodable,
      completed: track.handshakes.completed,
      handshakeOptionsCut: decode.handshakeOptionsCut,
      ...(decode.synAcksSeen > 0 && decode.tcpWithoutSynOrRst === 0 && { handshakeOnly: { rsts: decode.rstsSeen > 0 } }),
      ...(mergedHops(decode) && { mergedHops: decode.duplicates.count }),
    };
    const perInterface = interfaceSpans(this.readers, decode.firstAt, decode.lastAt);
    const tcpSpans = tcpCaptureSpans(perInterface, this.options.filter);
    const diagnosed = runDiagnosis({ track, failedFlows: failedFlows.filter((f) => !stitched.lateHops.has(f.id)), groups, stitched, evidence, log: this.log, host, capture, addressMacs, interfaceNames, tcpCaptureSpans: tcpSpans, options: this.options });
    // A finding about attempts the capture's end cut short, and no others, is not given: their answers may not have come yet.
    const end = perInterface.reduce((t, s) => Math.max(t, s.to), decode.lastAt);
    const { findings, undiagnosed } = setAsideWaiting(diagnosed, failedFlows, end);
    const allFlows = this.options.allFlows === true;
    const flows = (allFlows ? track.kept : failedFlows).sort((a, b) => a.firstSeen - b.firstSeen || flowOrdinal(a.id) - flowOrdinal(b.id));
    return {
      inputs,
      summary: {
        packets: decode.packets,
        tcpPackets: decode.tcpPackets,
        flows: track.flowCount,
        handshakes: { ...track.handshakes },
        decodeProblems: problems.byName,
        ...(this.filter !== null && { filter: { expression: this.filter.expression, read: this.filter.read, kept: this.filter.kept } }),
      },
      flows,
      flowsLeftOut: allFlows ? 0 : track.failed.count - failedFlows.length,
      failedGroups: groups,
      attempts: stitched.attempts,
      interfaceNames,
      findings,
      warnings: [
        ...inputWarnings(this.readers, inputs, track.tracker.pressure, { stitching: track.stitcher.notRecorded, attemptLog: this.log.notRecorded, interfaces: interfaceNames.length }),
        ...host.warnings,
        ...[this.filter?.warning() ?? null, unseenConntrackDrops(host.kernel, findings), waitingWarning(undiagnosed)].filter((w): w is string => w !== null),
      ],
      kernel: host.kernel,
      addressMacs,
      stitchedFlows: stitched.stitchedFlows,
      vxlanLegs: { legs: decode.vxlanLegs.list(), notRecorded: decode.vxlanLegs.notRecorded },
      clientClocks: this.log.clientClocks(stitched.innerHops),
      captureSpans: captureSpans(perInterface),
      contextMatch: host.match?.verdict ?? null,
      captureGaps: { handshakeOnly: capture.handshakeOnly !== undefined, missesPackets: missesPackets(capture) },
    };
  }
}

/**
 * The native tracker holds records by reference across packets, so it needs readers that say
 * when they reuse their memory (the file readers do; a reader of one's own may not). It is not
 * used either when flows stream out (onFlow): it hands them out a batch or two late, and an
 * interface renamed in between (a ring's files found to overlap) would show its new name.
 */
function saysWhenItReusesMemory(reader: CaptureSource): boolean {
  return typeof (reader as CaptureReader).onBeforeBufferReuse === 'function';
}

/** Enough handshake packets were seen twice on one interface to say the capture merged several hops. */
function mergedHops(decode: DecodeStage): boolean {
  const n = decode.duplicates.count;
  return n >= 2 && n * 10 >= decode.synsSeen + decode.synAcksSeen;
}

/**
 * A capture's start or stop this far from its packets is not believed: some writers put
 * statistics times in other units than the interface's (dumpcap writes microseconds), and a
 * trimmed file keeps the original's.
 */
const SPAN_MARGIN_SECONDS = 3600;

/** One interface of one input whose capture times are believable, with what its input says of it. */
interface InterfaceSpan extends CaptureSpan {
  info: CaptureInterface;
}

function interfaceSpans(readers: readonly CaptureSource[], firstAt: number, lastAt: number): InterfaceSpan[] {
  const plausible = (t: number | undefined) => t !== undefined && Number.isFinite(t) && (firstAt > lastAt || (t >= firstAt - SPAN_MARGIN_SECONDS && t <= lastAt + SPAN_MARGIN_SECONDS));
  return readers.flatMap((reader) =>
    [...reader.interfaces.entries()]
      .filter(([, i]) => plausible(i.capturedFrom) && plausible(i.capturedTo))
      .map(([local, i]) => ({ interface: i.name ?? fileInterfaceName(reader, local), from: i.capturedFrom!, to: i.capturedTo!, info: i })),
  );
}

/**
 * The interfaces whose input says when their capture ran (pcapng statistics, a live window),
 * one span per interface name over all inputs; times far outside the packets' are dropped.
 */
function captureSpans(spans: readonly InterfaceSpan[]): CaptureSpan[] {
  const merged = new Map<string, CaptureSpan>();
  for (const { interface: name, from, to } of spans) {
    const known = merged.get(name);
    merged.set(name, known === undefined ? { interface: name, from, to } : { interface: name, from: Math.min(known.from, from), to: Math.max(known.to, to) });
  }
  return [...merged.values()];
}

/**
 * The spans in which an interface that saw no packet still shows that none came: each input's
 * own (a gap between two files is no capture), where its capture filter, and `analyze -f`,
 * surely kept every TCP packet and it reported no packet dropped.
 */
function tcpCaptureSpans(spans: readonly InterfaceSpan[], analyzeFilter: string | undefined): CaptureSpan[] {
  if (analyzeFilter !== undefined && !keepsEveryTcpPacket(analyzeFilter)) return [];
  return spans.filter((s) => s.info.filter !== undefined && keepsEveryTcpPacket(s.info.filter) && (s.info.dropped ?? 0) === 0).map(({ interface: name, from, to }) => ({ interface: name, from, to }));
}
