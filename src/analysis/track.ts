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
 * Flow object; the rest is counted from the tracker's view.
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

  constructor(
    private readonly options: { allFlows: boolean; zeekTimers: boolean; onFlow?: (flow: Flow) => void; nativeTracker?: boolean },
    private readonly evidence: PacketEvidence,
    private readonly log: AttemptLog,
  ) {
    const trackerOptions = { onFlowView: (v: FlowView) => this.onFlow(v), zeekTimers: options.zeekTimers };
    const native = options.nativeTracker === true ? loadNativeTracker() : null;
    if (native !== null && 'addon' in native) {
      this.native = new NativeFlowTracker(trackerOptions, native.addon);
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
    this.flowCount++;
    this.evidence.seeIpv4(flow.clientIpv4);
    this.evidence.seeIpv4(flow.serverIpv4);
    const outcome = flow.outcome;
    const full = this.options.allFlows ? flow.toFlow() : null;
    if (outcome !== null && outcome !== 'rejected') this.log.note(flow);
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
        this.failed.add(flow, full);
      }
    } else if (flow.syns === 0 && flow.synAcks > 0) {
      this.synAckWithoutSyn++;
      if (this.synAckWithoutSynExamples.length < 10) this.synAckWithoutSynExamples.push(flow.id);
    } else if (flow.origPackets === 0 || flow.respPackets === 0) {
      this.oneSidedFlows++;
    }
    if (!this.options.allFlows) return;
    if (this.options.onFlow !== undefined) this.options.onFlow(full!);
    else this.kept.push(full!);
  }
}
