import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareWithExpectation, type Expectation } from '../src/regress/expectation';
import type { ReportJson } from '../src/report/json';

const report = {
  schema: 'synscope.report/2',
  inputs: [],
  summary: { packets: 9, tcpPackets: 9, flows: 2, handshakes: { attempted: 2, completed: 1, unanswered: 1, rejected: 0, synAckLost: 0 }, decodeProblems: {} },
  flows: [{ state: 'SF' }, { state: 'S0' }],
  findings: [{ code: 'filtered', severity: 'error', confidence: 'medium', title: 't', explanation: '', evidence: { service: '10.0.0.1:80', clients: ['10.0.0.9', '10.0.0.8'] }, flows: ['f2'], remedy: [] }],
  warnings: [],
} as unknown as ReportJson;

const good: Expectation = {
  handshakes: { attempted: 2, completed: 1, unanswered: 1, rejected: 0, synAckLost: 0 },
  states: { S0: 1, SF: 1 },
  findings: [{ code: 'filtered', severity: 'error', evidence: { clients: ['10.0.0.8', '10.0.0.9'] } }],
};

test('a matching expectation gives no differences (evidence lists compare as sets)', () => {
  assert.deepEqual(compareWithExpectation(report, good), []);
});

test('every kind of change to an expectation is reported', () => {
  const cases: [string, Expectation][] = [
    ['count', { ...good, handshakes: { ...good.handshakes, unanswered: 2 } }],
    ['state', { ...good, states: { S0: 2, SF: 1 } }],
    ['new state', { ...good, states: { ...good.states, REJ: 1 } }],
    ['severity', { ...good, findings: [{ ...good.findings[0]!, severity: 'warning' }] }],
    ['evidence', { ...good, findings: [{ ...good.findings[0]!, evidence: { clients: ['10.0.0.8'] } }] }],
    ['missing finding', { ...good, findings: [] }],
    ['extra finding', { ...good, findings: [...good.findings, { code: 'rejected', severity: 'warning' }] }],
  ];
  for (const [what, expect] of cases) {
    assert.ok(compareWithExpectation(report, expect).length > 0, what);
  }
});
