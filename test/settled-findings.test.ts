import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding } from '../src/diagnose/finding';
import { PENDING_SECONDS, settledFindings } from '../src/watch/settled-findings';
import { handMadeFlow } from './flow-fixtures';

function finding(code: Finding['code'], flows: string[]): Finding {
  return { code, severity: 'error', confidence: 'medium', title: code, explanation: '', evidence: {}, flows, remedy: [] };
}

const END = 2000;

test('a window does not count an attempt whose first SYN came less than PENDING_SECONDS before its end', () => {
  const justSent = handMadeFlow({ id: 'f1', firstSeen: END - 0.2, lastSeen: END - 0.2 });
  const longSilent = handMadeFlow({ id: 'f2', firstSeen: END - PENDING_SECONDS - 1, lastSeen: END - 1 });
  const refusedJustNow = handMadeFlow({ id: 'f3', outcome: 'rejected', firstSeen: END - 0.1, lastSeen: END - 0.1 });
  const onlyPending = finding('filtered', ['f1']);
  const mixed = finding('filtered', ['f1', 'f2']);
  const refused = finding('rejected', ['f3']);
  assert.deepEqual(settledFindings([onlyPending, mixed, refused], [justSent, longSilent, refusedJustNow], END), [mixed, refused]);
});

test('with no pending attempt every finding stands, also one that names no flow', () => {
  const old = handMadeFlow({ id: 'f1', firstSeen: END - 10, lastSeen: END - 3 });
  const findings = [finding('filtered', ['f1']), finding('capture-incomplete', [])];
  assert.deepEqual(settledFindings(findings, [old], END), findings);
});
