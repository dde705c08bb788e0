import type { HandshakeSummary } from '../analysis';

/** Why a report has no findings, as one sentence after "None" (lower case, no final stop). */
export function noFindingsReason(h: HandshakeSummary): string {
  if (h.attempted === 0) return 'no TCP connection attempts in the capture';
  if (h.unanswered + h.rejected + h.synAckLost === 0) return 'every connection attempt was answered';
  return 'no failed attempt could be judged (see the warnings)';
}
