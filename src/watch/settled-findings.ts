import type { Finding } from '../diagnose/finding';
import type { Flow } from '../flow/flow';

/**
 * How long an unanswered attempt must have waited before a window's end to count as failed
 * in that window. A SYN sent just before the end is usually answered just after it, in the
 * next window's analysis: counted here it would open a finding for one healthy connection.
 * Linux resends an unanswered SYN after 1 s and 3 s; an attempt still silent 3 s after its
 * first SYN has failed at least twice. One that has not waited that long is counted in the
 * next window, where its retransmitted SYNs start it again, so a real failure opens a
 * window later instead of never.
 */
export const PENDING_SECONDS = 3;

/** The findings with at least one attempt that has settled by `windowEnd` (epoch seconds). */
export function settledFindings(findings: readonly Finding[], flows: readonly Flow[], windowEnd: number): Finding[] {
  const pending = new Set<string>();
  for (const f of flows) if (f.outcome === 'unanswered' && f.firstSeen > windowEnd - PENDING_SECONDS) pending.add(f.id);
  if (pending.size === 0) return [...findings];
  return findings.filter((finding) => finding.flows.length === 0 || finding.flows.some((id) => !pending.has(id)));
}
