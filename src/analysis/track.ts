import { formatAddress, formatEndpoint } from '../decode/address';
import { LATE_ANSWER_SECONDS } from '../diagnose/input';
import { FailedFlowGroups } from '../flow/failed-flow-groups';
import type { Flow } from '../flow/flow';
import type { FlowView } from '../flow/flow-view';
import { AttemptStitcher } from '../flow/stitch';
import { loadNativeTracker, NativeFlowTracker } from '../flow/native-tracker';
import { FlowTracker } from '../flow/tracker';
import type { AttemptLog } from './attempt-log';
import type { PacketEvidence } from './packet-evidence';
import type { HandshakeSummary } from './types';

const MAX_LATE_ANSWERED = 10000;

/**
 * Stage 3: the flow tracker, and what is kept of each flow as it leaves it. Every attempt is
 * counted by outcome and goes to the stitcher (NAT hops) and, if it reached a listener, to
 * the attempt log; failed ones go to the bounded failed groups, late answers (a SYN
 * retransmitted before the SYN-ACK) to their own bounded list. Only what is kept becomes a
 * Flow object; the rest is counted from the tracker's view. With the native tracker the
 * counting and recording is done in C as flows leave it (flow-account.c), and only the flows
 * kept here come out of it.
 */
export class TrackStage {
  /** The tracker when it is the native one (DecodeStage then hands it raw frames), else null. */
  readonly native: NativeFlowTracker | null = null;
  /** The JS tracker when it is the one in use, else null. */
  readonly js: FlowTracker | null = null;
  /** Why the native tracker was asked for and not used (one line), else null. */
  readonly nativeUnavailable: string | null = null;
  flowCount = 0;
  readonly handshakes: HandshakeSummary = { attempted: 0, completed: 0, unanswered: 0, rejected: 0, synAckLost: 0 };
  /** Every flow, with allFlows only. */
  readonly kept: Flow[] = [];
  readonly failed = new FailedFlowGroups();
  readonly completedByService = new Map<string, number>();
  readonly lateAnswered: Flow[] = [];
  /** Every attempt as numbers, to recognise one attempt at several hops (NAT stitching). */
  readonly stitcher = new AttemptStitcher();
  synAckWithoutSyn = 0;
  readonly synAckWithoutSynExamples: string[] = [];
  oneSidedFlows = 0;
  /** The native tracker keeps every flow's numbers (takeNativeAccounts). */
  private accountedInC = false;

  constructor(
    private readonly options: { allFlows: boolean; zeekTimers: boolean; onFlow?: (flow: Flow) => void; nativeTracker?: boolean },
    private readonly evidence: PacketEvidence,
    private readonly log: AttemptLog,
  ) {
    const trackerOptions = { onFlowView: (v: FlowView) => this.onFlow(v), zeekTimers: options.zeekTimers };
    const native = options.nativeTracker === true ? loadNativeTracker() : null;
    if (native !== null && 'addon' in native) {
      this.native = new NativeFlowTracker(trackerOptions, native.addon);
      // Every flow's numbers in C; here only the flows that need more (not when every flow is kept here anyway).
      if (!options.allFlows) {
        const { wide, small, isns } = this.stitcher.records;
        this.native.accountInC({ synRecords: log.records, stitchWide: wide, stitchSmall: small, stitchIsns: isns }, (v) => this.keep(v, null));
        this.accountedInC = true;
      }
    } else {
      if (native !== null) this.nativeUnavailable = native.reason;
      this.js = new FlowTracker(trackerOptions);
    }
  }

  /** The tracker in use. */
  get tracker(): FlowTracker | NativeFlowTracker {
    return this.native ?? this.js!;
  }

  private onFlow(flow: FlowView): void {
    const full = this.options.allFlows ? flow.toFlow() : null;
    this.account(flow);
    this.keep(flow, full);
    if (!this.options.allFlows) return;
    if (this.options.onFlow !== undefined) this.options.onFlow(full!);
    else this.kept.push(full!);
  }

  /** What is counted and recorded of every flow (in C with the native tracker: native/src/engine/flow-account.c). */
  private account(flow: FlowView): void {
    this.flowCount++;
    this.evidence.seeIpv4(flow.clientIpv4);
    this.evidence.seeIpv4(flow.serverIpv4);
    const outcome = flow.outcome;
    if (outcome !== null && outcome !== 'rejected') this.log.note(flow);
    if (outcome !== null) {
      this.stitcher.addView(flow);
      this.handshakes.attempted++;
      this.handshakes[outcome]++;
      if (outcome === 'completed') {
        const service = flow.serverEndpoint;
        this.completedByService.set(service, (this.completedByService.get(service) ?? 0) + 1);
      }
    } else if (flow.syns === 0 && flow.synAcks > 0) {
      this.synAckWithoutSyn++;
    } else if (flow.origPackets === 0 || flow.respPackets === 0) {
      this.oneSidedFlows++;
    }
  }

  /** What is kept of the flows that need more than numbers: failed attempts, late answers, examples of SYN-ACKs without a SYN. */
  private keep(flow: FlowView, full: Flow | null): void {
    const outcome = flow.outcome;
    if (outcome === 'completed') {
      if (flow.syns > 1 && this.lateAnswered.length < MAX_LATE_ANSWERED) {
        const synAt = flow.firstSynAt;
        const synAckAt = flow.firstSynAckAt;
        if (synAt !== null && synAckAt !== null && synAckAt - synAt >= LATE_ANSWER_SECONDS) this.lateAnswered.push(full ?? flow.toFlow());
      }
    } else if (outcome !== null) {
      this.failed.add(flow, full);
    } else if (flow.syns === 0 && flow.synAcks > 0 && this.synAckWithoutSynExamples.length < 10) {
      this.synAckWithoutSynExamples.push(flow.id);
    }
  }

  /** With the native tracker keeping what is kept of each flow (accountInC): its counts and tables, taken over after its finish(). */
  takeNativeAccounts(): void {
    if (!this.accountedInC) return;
    const a = this.native!.accounts();
    const c = a.counts;
    this.flowCount = c[0]!;
    Object.assign(this.handshakes, { attempted: c[1]!, completed: c[2]!, unanswered: c[3]!, rejected: c[4]!, synAckLost: c[5]! });
    this.synAckWithoutSyn = c[6]!;
    this.oneSidedFlows = c[7]!;
    for (let at = 0; at < a.completedServices.length; at += 7) this.completedByService.set(endpointText(a.completedServices, at), a.completedServices[at + 6]!);
    this.evidence.adoptNetworks(a.networks);
    this.log.adoptNative({ count: c[8]!, notRecorded: c[9]!, servers: a.synServers, v6Words: a.v6Words, v6Pairs: a.v6Pairs, unansweredPairs: a.unansweredPairs });
    const servers: string[] = [];
    for (let at = 0; at < a.stitchServers.length; at += 6) servers.push(endpointText(a.stitchServers, at));
    this.stitcher.adoptNative({ count: c[10]!, notRecorded: c[11]!, firstIface: c[12]!, severalInterfaces: c[13] === 1, servers });
  }
}

/** An endpoint as [IP version, 4 address words, port] at `at`, as FlowView.serverEndpoint gives it. */
function endpointText(list: Float64Array, at: number): string {
  const version = list[at] === 6 ? 6 : 4;
  return formatEndpoint(formatAddress(Uint32Array.from(list.subarray(at + 1, at + 5)), version), list[at + 5]!, version);
}
