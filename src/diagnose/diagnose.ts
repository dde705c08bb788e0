import { byImpact, type Confidence, type Finding } from './finding';
import { LATE_ANSWER_SECONDS, type DiagnosisInput } from './input';
import type { Flow } from '../flow/flow';
import { serviceOf } from './group';
import { conntrackFullFlows } from './conntrack-full';
import { blackholedFlows } from './route-refusal';
import { macvlanChildFlows } from './unresolved-neighbour';
import { bridgeSubnetOverlapRule } from './rules/bridge-subnet-overlap';
import { captureIncompleteRule, missesPackets } from './rules/capture-incomplete';
import { addressCollisionRule } from './rules/address-collision';
import { filteredRule } from './rules/filtered';
import { masqueradeMissingRule } from './rules/masquerade-missing';
import { ipv6UnroutedRule } from './rules/ipv6-unrouted';
import { natPathBreakRule } from './rules/nat-path-break';
import { listenOverflowRule } from './rules/listen-overflow';
import { pawsRuledOut, pawsTimestampRejectRule } from './rules/paws-timestamp-reject';
import { rejectedRule } from './rules/rejected';
import { routeConflictRule } from './rules/route-conflict';
import { rpFilterRule } from './rules/rp-filter';
import { synAckLostRule } from './rules/syn-ack-lost';

const LOWER: Record<Confidence, Confidence> = { high: 'medium', medium: 'low', low: 'low' };

/** A finding from an incomplete capture: one step less sure, and it says why. */
export function lowerForIncompleteCapture(f: Finding): void {
  f.confidence = LOWER[f.confidence];
  f.explanation += ' (Confidence lowered: the capture is incomplete, see capture-incomplete.)';
}

/**
 * Run every rule and order the findings by impact. Rules are independent, except
 * that `nat-path-break` only takes the stitched attempts no specific rule explained (the
 * cause it names is where, not why), `filtered` only the silence no rule explained, and
 * a `capture-incomplete` finding lowers everyone else's confidence (when only handshake
 * options were cut, only a full queue's, which a timestamp drop imitates).
 */
export function diagnose(input: DiagnosisInput, completed: ReadonlyMap<string, number>): Finding[] {
  // A capture of handshakes only never shows the client's ACK: an attempt answered with a
  // SYN-ACK is as answered as the capture can tell, never a lost SYN-ACK.
  const handshakeOnly = input.capture.handshakeOnly !== undefined;
  // There, a SYN-ACK shows itself lost only by the client's SYNs after a prompt one; the others were answered.
  const synAcked = handshakeOnly ? input.failedFlows.filter((f) => f.outcome === 'synAckLost') : [];
  const lostThere = new Set(synAcked.filter(retransmittedAfterAnswer));
  const answeredThere = synAcked.filter((f) => !lostThere.has(f));
  const completedByService = handshakeOnly ? withAnswered(completed, answeredThere) : completed;
  const reversePath = rpFilterRule(input);
  const paws = pawsTimestampRejectRule(input);
  // A PAWS drop also counts as TcpExt.ListenDrops (tcp_conn_request's drop path calls
  // tcp_listendrop), so listen-overflow must not read those drops as a full queue. A PAWS
  // finding whose mechanism the snapshot rules out (kernel >= 4.12) claims nothing.
  const pawsExplained = new Set(paws.filter((f) => f.evidence['ruleApplies'] !== false).flatMap((f) => f.flows));
  // One failure, one ERROR: a client a bridge overlap explains gets no route-conflict of its own.
  const overlaps = bridgeSubnetOverlapRule(input);
  const misrouted = [
    ...overlaps,
    ...routeConflictRule(input, withAttempts(input, [...reversePath, ...overlaps].flatMap((f) => f.flows))),
    ...reversePath,
    ...addressCollisionRule(input),
    ...masqueradeMissingRule(input),
    ...ipv6UnroutedRule(input),
  ];
  // A SYN whose reply has nowhere to go is not one a full queue dropped.
  const notQueued = new Set([...pawsExplained, ...misrouted.flatMap((f) => f.flows)]);
  const specific = [
    ...misrouted,
    ...paws,
    ...listenOverflowRule(
      {
        ...input,
        failedFlows: input.failedFlows.filter((f) => !notQueued.has(f.id)),
        // Handshakes only: a late SYN-ACK is a late answer, though no ACK of it was captured.
        ...(handshakeOnly && { lateAnsweredFlows: [...(input.lateAnsweredFlows ?? []), ...answeredThere] }),
      },
      completedByService,
    ),
  ];
  const explained = new Set(specific.filter((f) => f.code !== 'paws-timestamp-reject').flatMap((f) => f.flows));
  for (const id of pawsExplained) explained.add(id);
  // A SYN a full connection-tracking table, a blackhole route or an unreachable macvlan child dropped: `filtered` names it, not a hop.
  const dropped = [...conntrackFullFlows(input, explained), ...blackholedFlows(input, explained), ...macvlanChildFlows(input, explained)];
  const natBreaks = natPathBreakRule(input, new Set([...explained, ...dropped]), input.servicePaths);
  // An inner hop's SYN-ACK that never left the host is the path break, not a lost reply on the client's link.
  const natExplained = new Set(natBreaks.flatMap((f) => f.flows));
  for (const id of natExplained) explained.add(id);
  // One attempt seen at several hops: what explains one hop explains them all.
  for (const id of withAttempts(input, [...explained])) explained.add(id);
  const findings = [
    ...specific,
    ...natBreaks,
    ...rejectedRule(input),
    // An inner hop of an explained attempt (ingress_sbox's SNATed leg got the SYN-ACKs the client never did) is no lost reply of its own.
    ...synAckLostRule({ ...input, failedFlows: input.failedFlows.filter((f) => !explained.has(f.id) && (!handshakeOnly || lostThere.has(f))) }),
    ...filteredRule(input, explained, completedByService),
  ];
  const incomplete = captureIncompleteRule(input);
  const lowerAll = incomplete.length > 0 && missesPackets(input.capture);
  if (lowerAll) for (const f of findings) lowerForIncompleteCapture(f);
  // Without the SYNs' timestamps (cut by the snap length), or the connections' ends the rule
  // needs (a capture of handshakes only), a PAWS drop, which also counts ListenDrops, looks like a full queue.
  const optionsCut = (input.capture.handshakeOptionsCut ?? 0) > 0;
  if ((optionsCut || handshakeOnly) && !pawsRuledOut(input)) {
    for (const f of findings.filter((x) => x.code === 'listen-overflow')) {
      if (!lowerAll) f.confidence = LOWER[f.confidence];
      f.explanation += ` (${optionsCut ? "The capture's snap length cut the SYNs' options" : 'The capture holds handshakes only, not the connections\' ends'}, so a drop by TCP timestamp, the tcp_tw_recycle / PAWS rule, cannot be ruled out; see capture-incomplete.)`;
    }
  }
  return [...findings, ...incomplete].sort(byImpact);
}

/** The first SYN was answered promptly, and the client still sent SYNs: it never got the SYN-ACK (in a capture of handshakes only, the one sign of it). */
export function retransmittedAfterAnswer(f: Pick<Flow, 'syns' | 'firstSynAt' | 'firstSynAckAt'>): boolean {
  return f.syns > 1 && f.firstSynAt !== null && f.firstSynAckAt !== null && f.firstSynAckAt - f.firstSynAt < LATE_ANSWER_SECONDS;
}

/** Answered attempts per service with `answered` added: in a capture of handshakes only, a SYN-ACK is what answered means. */
function withAnswered(completed: ReadonlyMap<string, number>, answered: readonly Flow[]): Map<string, number> {
  const out = new Map(completed);
  for (const f of answered) out.set(serviceOf(f), (out.get(serviceOf(f)) ?? 0) + 1);
  return out;
}

/** The flow ids given plus every hop of the stitched attempts they belong to: what explains one hop explains them all. */
function withAttempts(input: DiagnosisInput, ids: readonly string[]): Set<string> {
  const out = new Set(ids);
  for (const attempt of input.attempts ?? []) {
    if (attempt.flows.some((id) => out.has(id))) for (const id of attempt.flows) out.add(id);
  }
  return out;
}
