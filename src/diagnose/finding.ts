/** Closed set of finding codes (DESIGN.md "Finding codes"); add new ones in the design first. */
export const FINDING_CODES = [
  'bridge-subnet-overlap',
  'route-conflict',
  'paws-timestamp-reject',
  'nat-path-break',
  'address-collision',
  'filtered',
  'rejected',
  'syn-ack-lost',
  'listen-overflow',
  'capture-incomplete',
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How much the evidence supports the verdict; lowered when the capture itself is incomplete. */
export type Confidence = 'high' | 'medium' | 'low';

export interface Finding {
  code: FindingCode;
  severity: Severity;
  confidence: Confidence;
  title: string;
  explanation: string;
  evidence: Record<string, unknown>;
  /** Ids of the flows the finding is about (at most MAX_FINDING_FLOWS in a report). */
  flows: string[];
  /** Failed attempts the finding covers, every one counted (set after diagnosis: finding-counts.ts). */
  flowCount?: number;
  /** The clients, at most MAX_FINDING_CLIENTS (set after diagnosis). */
  clients?: string[];
  /** Distinct clients the finding covers (set after diagnosis). */
  clientCount?: number;
  /** True when a group was covered in part and its share was estimated from its sample. */
  countsEstimated?: boolean;
  /** What a person can do, one step per entry. */
  remedy: string[];
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** True when `s` is at least as severe as `threshold`. */
export function atLeast(s: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[s] <= SEVERITY_RANK[threshold];
}

/** Order by impact: severity first, then how many flows the finding covers. */
export function byImpact(a: Finding, b: Finding): number {
  return SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || (b.flowCount ?? b.flows.length) - (a.flowCount ?? a.flows.length);
}
