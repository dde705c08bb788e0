import { diagnose } from '../diagnose/diagnose';
import type { Finding } from '../diagnose/finding';
import { countFindings } from '../diagnose/finding-counts';
import type { CaptureHealth, MacSighting } from '../diagnose/input';
import { SampleCounts } from '../diagnose/sample-counts';
import type { FailedGroup } from '../flow/failed-flow-groups';
import type { Flow } from '../flow/flow';
import type { AttemptLog } from './attempt-log';
import type { HostFacts } from './host-facts';
import type { PacketEvidence } from './packet-evidence';
import type { CaptureSpan } from './types';
import type { StitchedAttempts } from './stitch-attempts';
import type { TrackStage } from './track';
import type { AnalyzeOptions } from './types';

/**
 * Stage 6: the rules. They see the failed groups' sampled attempts with everything the
 * earlier stages gathered; each finding then gets its exact counts through the groups
 * (finding-counts.ts).
 */
export function runDiagnosis(parts: {
  track: TrackStage;
  failedFlows: Flow[];
  groups: readonly FailedGroup[];
  stitched: StitchedAttempts;
  evidence: PacketEvidence;
  log: AttemptLog;
  host: HostFacts;
  capture: CaptureHealth;
  addressMacs: ReadonlyMap<string, readonly MacSighting[]>;
  interfaceNames: string[];
  tcpCaptureSpans: readonly CaptureSpan[];
  options: AnalyzeOptions;
}): Finding[] {
  const { track, failedFlows, stitched, evidence, host } = parts;
  const counts = new SampleCounts(parts.groups);
  const findings = diagnose(
    {
      failedFlows,
      counts,
      interfaceNames: parts.interfaceNames,
      tcpCaptureSpans: parts.tcpCaptureSpans,
      bridges: host.bridges,
      arpRequests: evidence.arp.sightings(parts.interfaceNames),
      seenAddresses: evidence.seenAddresses(),
      capture: parts.capture,
      context: host.context,
      namespaceContexts: parts.options.namespaceContexts ?? [],
      macsByAddress: parts.addressMacs,
      lateAnsweredFlows: track.lateAnswered,
      peerSyns: parts.log.peerSyns(),
      attempts: stitched.attempts,
      servicePaths: stitched.servicePaths.list(),
      kernel: host.kernel,
    },
    track.completedByService,
  );
  return countFindings(findings, { counts, attempts: stitched.attempts }, [...failedFlows, ...track.lateAnswered]);
}
