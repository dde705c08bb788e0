import type { BridgeSubnet } from '../context/bridge';
import type { HostContext } from '../context/host-context';
import type { ContextVerdict } from '../context/match-capture';
import type { ClientClocks } from '../diagnose/client-clocks';
import type { Finding } from '../diagnose/finding';
import type { MacSighting } from '../diagnose/input';
import type { KernelEvidence } from '../evidence/kernel-evidence';
import type { AttemptPath } from '../flow/attempt-path';
import type { FailedGroup } from '../flow/failed-flow-groups';
import type { Flow } from '../flow/flow';
import type { VxlanLeg } from '../flow/vxlan-legs';

/** What an analysis is given, what it reports, and the counts it shows while it runs. */

export interface AnalyzeOptions {
  /**
   * Files only: decode and track with the addon's C tracker (NativeFlowTracker) instead of
   * FlowTracker, the same flows in the same order. Default on, unless the environment variable
   * SYNSCOPE_NATIVE_TRACKER is 0; without the addon it is FlowTracker (with a one-line notice
   * when asked for by name). A live capture, a reader that does not say when it reuses its
   * memory (CaptureReader.onBeforeBufferReuse) and a run that streams flows (onFlow) use FlowTracker.
   * With it, a single classic pcap file read whole without `filter` is read in C too
   * (AnalysisRun.scanNatively), unless SYNSCOPE_NATIVE_SCAN is 0.
   */
  nativeTracker?: boolean;
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
  /**
   * With allFlows: hand each flow on as it leaves the tracker (with the interface names
   * known then) instead of keeping it, so `flows` stays empty and memory bounded.
   */
  onFlow?: (flow: Flow, interfaceNames: readonly string[]) => void;
  /** tcpdump's filter expression (`analyze -f`): only the records it keeps are analyzed. */
  filter?: string;
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

/** An interface (by its name in interfaceNames) and when its capture ran, in seconds. */
export interface CaptureSpan {
  interface: string;
  from: number;
  to: number;
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
  /** With -f: the expression, the records read and those it kept (`packets` counts the kept ones). */
  filter?: { expression: string; read: number; kept: number };
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
  /**
   * When each interface's capture ran, where the input says (not in the JSON report):
   * cross-host stitching asks whether a node was capturing when a packet should have arrived.
   */
  captureSpans?: CaptureSpan[];
  /** Handshakes seen decapsulated from VXLAN, per interface (not in the JSON report; cross-host stitching follows them from node to node). */
  vxlanLegs?: { legs: readonly VxlanLeg[]; notRecorded: number };
  /** Ids of the flows that are hops of a NAT-stitched attempt (not in the JSON report). */
  stitchedFlows?: ReadonlySet<string>;
  /** How the host context compared with the capture (match-capture.ts); null without one, or for a live run's own. */
  contextMatch?: ContextVerdict | null;
  /**
   * What the capture lacks (not in the JSON report; cross-host stitching judges the attempts
   * it joins by it): only handshake packets, and packets missing at all (its findings lowered).
   */
  captureGaps?: { handshakeOnly: boolean; missesPackets: boolean };
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
  /** synscope fleet: why this node sent nothing (its task rejected or failed, no evidence in its logs, timed out); absent when it answered. */
  noAnswer?: string;
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
