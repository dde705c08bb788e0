import type { Flow } from '../flow/flow';
import { byImpact, type Finding } from './finding';
import { attemptCount, attemptHops, distinct } from './group';
import type { DiagnosisInput } from './input';
import { SampleCounts } from './sample-counts';

/** Clients named in a finding (`clients`, and `evidence.clients` where a rule gives them). */
export const MAX_FINDING_CLIENTS = 32;
/** Flow ids listed in a finding; `flowCount` says how many attempts it covers. */
export const MAX_FINDING_FLOWS = 100;

/**
 * Gives each finding its exact counts (`flowCount`, `clientCount`: every attempt (NAT hops of one attempt once), not only
 * the sampled ones the rules saw) and cuts its lists to their bounds; ordered by impact.
 */
export function countFindings(findings: readonly Finding[], input: Pick<DiagnosisInput, 'attempts' | 'counts'>, flows: readonly Flow[]): Finding[] {
  const counts = input.counts ?? new SampleCounts([]);
  const clientOf = new Map(flows.map((f) => [f.id, f.clientIp]));
  // The client of a NAT-stitched attempt is its outermost hop's: an inner hop's is a SNAT address.
  const hops = attemptHops(input);
  const clientFlow = (id: string) => {
    const outer = hops.attemptOf(id);
    return outer !== undefined && clientOf.has(outer) ? outer : id;
  };
  return findings
    .map((finding) => {
      const clientFlows = distinct(finding.flows.map(clientFlow));
      const given = finding.evidence['clients'];
      const named = Array.isArray(given) && given.every((c) => typeof c === 'string') ? (given as string[]) : distinct(clientFlows.flatMap((id) => clientOf.get(id) ?? []));
      const ids = finding.flows.map((id) => ({ id }));
      return {
        ...finding,
        evidence: Array.isArray(given) && given.length > MAX_FINDING_CLIENTS ? { ...finding.evidence, clients: given.slice(0, MAX_FINDING_CLIENTS) } : finding.evidence,
        flows: finding.flows.slice(0, MAX_FINDING_FLOWS),
        flowCount: attemptCount(ids, input),
        clients: named.slice(0, MAX_FINDING_CLIENTS),
        clientCount: counts.clients(clientFlows, (id) => clientOf.get(id), named),
        ...(counts.estimated(finding.flows) && { countsEstimated: true }),
      };
    })
    .sort(byImpact);
}
