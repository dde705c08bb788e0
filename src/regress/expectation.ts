import type { ReportJson } from '../report/json';

/**
 * What a stored scenario (captures/NAME/expect.json) says must come out of its capture.
 * Findings match by code and severity plus the evidence keys given (a subset of the
 * finding's evidence); order does not matter, and the number of findings must match.
 */
export interface Expectation {
  /** Extra analyze arguments, e.g. ["--bridge", "docker0=172.17.0.0/16"]. */
  args?: string[];
  handshakes: ReportJson['summary']['handshakes'];
  /** Number of flows per Zeek conn_state, over every flow. */
  states: Record<string, number>;
  findings: { code: string; severity: string; evidence?: Record<string, unknown> }[];
}

/** Flow counts per conn_state of a report made with --all-flows. */
export function statesOf(report: ReportJson): Record<string, number> {
  const states: Record<string, number> = {};
  for (const f of report.flows) states[f.state] = (states[f.state] ?? 0) + 1;
  return Object.fromEntries(Object.entries(states).sort(([a], [b]) => a.localeCompare(b)));
}

/** Differences between a report and an expectation, one readable line each; empty when they agree. */
export function compareWithExpectation(report: ReportJson, expect: Expectation): string[] {
  const diffs: string[] = [];
  for (const [k, want] of Object.entries(expect.handshakes)) {
    const got = report.summary.handshakes[k as keyof typeof expect.handshakes];
    if (got !== want) diffs.push(`handshakes.${k}: expected ${want}, got ${got}`);
  }
  const states = statesOf(report);
  for (const s of new Set([...Object.keys(states), ...Object.keys(expect.states)])) {
    if ((states[s] ?? 0) !== (expect.states[s] ?? 0)) diffs.push(`flows in state ${s}: expected ${expect.states[s] ?? 0}, got ${states[s] ?? 0}`);
  }
  const unmatched = [...report.findings];
  for (const want of expect.findings) {
    const i = unmatched.findIndex((f) => f.code === want.code && f.severity === want.severity && evidenceMatches(f.evidence, want.evidence ?? {}));
    if (i < 0) diffs.push(`missing finding: ${JSON.stringify(want)}`);
    else unmatched.splice(i, 1);
  }
  for (const f of unmatched) diffs.push(`unexpected finding: ${f.code} (${f.severity}): ${f.title}`);
  return diffs;
}

function evidenceMatches(got: Record<string, unknown>, want: Record<string, unknown>): boolean {
  return Object.entries(want).every(([k, v]) => JSON.stringify(normalize(got[k])) === JSON.stringify(normalize(v)));
}

/** Lists compare as sets (evidence lists are order-insensitive). */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => JSON.stringify(normalize(x))).sort();
  return v;
}

/** The evidence keys an expectation records per finding code: what the verdict is about. */
const KEY_EVIDENCE: Record<string, string[]> = {
  'bridge-subnet-overlap': ['bridge', 'subnet', 'clients'],
  rejected: ['service', 'how', 'refusedBy'],
  filtered: ['service', 'clients', 'interface'],
  'route-conflict': ['prefix', 'winner', 'synInterface', 'replyDevice', 'clients'],
  'address-collision': ['subnet', 'owner', 'arrivedOn', 'address', 'interface', 'clients'],
  'listen-overflow': ['service'],
  'syn-ack-lost': ['service', 'clients'],
  'capture-incomplete': ['droppedByCapture', 'synAckWithoutSyn'],
};

/** Build an expectation from a report made with --all-flows (for review in a diff before it is stored). */
export function expectationFrom(report: ReportJson, args: string[] = []): Expectation {
  return {
    ...(args.length > 0 ? { args } : {}),
    handshakes: report.summary.handshakes,
    states: statesOf(report),
    findings: report.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      evidence: Object.fromEntries((KEY_EVIDENCE[f.code] ?? []).filter((k) => k in f.evidence).map((k) => [k, f.evidence[k]])),
    })),
  };
}

/** Scenario arguments name files beside the capture (e.g. "--context context.json"): resolve them there. */
export function resolveScenarioArgs(args: readonly string[], dir: string, exists: (p: string) => boolean): string[] {
  return args.map((a) => (!a.startsWith('-') && !a.includes('=') && exists(`${dir}/${a}`) ? `${dir}/${a}` : a));
}
