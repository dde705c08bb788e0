import { byImpact, type Confidence, type Finding } from './finding';
import type { DiagnosisInput } from './input';
import { bridgeSubnetOverlapRule } from './rules/bridge-subnet-overlap';
import { captureIncompleteRule } from './rules/capture-incomplete';
import { addressCollisionRule } from './rules/address-collision';
import { filteredRule } from './rules/filtered';
import { listenOverflowRule } from './rules/listen-overflow';
import { rejectedRule } from './rules/rejected';
import { routeConflictRule } from './rules/route-conflict';
import { rpFilterRule } from './rules/rp-filter';
import { synAckLostRule } from './rules/syn-ack-lost';

const LOWER: Record<Confidence, Confidence> = { high: 'medium', medium: 'low', low: 'low' };

/**
 * Run every rule and order the findings by impact. Rules are independent, except
 * that `filtered` only takes the silence no specific rule explained, and a
 * `capture-incomplete` finding lowers everyone else's confidence.
 */
export function diagnose(input: DiagnosisInput, completedByService: ReadonlyMap<string, number>): Finding[] {
  const reversePath = rpFilterRule(input);
  const specific = [
    ...bridgeSubnetOverlapRule(input),
    ...routeConflictRule(input, new Set(reversePath.flatMap((f) => f.flows))),
    ...reversePath,
    ...addressCollisionRule(input),
    ...listenOverflowRule(input, completedByService),
  ];
  const explained = new Set(specific.flatMap((f) => f.flows));
  const findings = [
    ...specific,
    ...rejectedRule(input),
    ...synAckLostRule(input),
    ...filteredRule(input, explained, completedByService),
  ];
  const incomplete = captureIncompleteRule(input);
  if (incomplete.length > 0) {
    for (const f of findings) {
      f.confidence = LOWER[f.confidence];
      f.explanation += ' (Confidence lowered: the capture is incomplete, see capture-incomplete.)';
    }
  }
  return [...findings, ...incomplete].sort(byImpact);
}
