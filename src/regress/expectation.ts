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
  const missing: Expectation['findings'] = [];
  for (const want of expect.findings) {
    const i = unmatched.findIndex((f) => findingDifferences(f, want).length === 0);
    if (i < 0) missing.push(want);
    else unmatched.splice(i, 1);
  }
  // A finding that is there but differs in a field is reported field by field, paired
  // with the same-code finding that differs least.
  for (const want of missing) {
    const candidates = unmatched.filter((f) => f.code === want.code);
    const closest = candidates.sort((a, b) => findingDifferences(a, want).length - findingDifferences(b, want).length)[0];
    if (closest === undefined) {
      diffs.push(`missing finding: ${JSON.stringify(want)}`);
      continue;
    }
    unmatched.splice(unmatched.indexOf(closest), 1);
    for (const d of findingDifferences(closest, want)) diffs.push(`finding ${findingLabel(closest, want)}: ${d}`);
  }
  for (const f of unmatched) diffs.push(`unexpected finding: ${JSON.stringify(expectedFinding(f))}`);
  return diffs;
}

type ReportFinding = ReportJson['findings'][number];

/** "severity: expected error, got warning" lines for one finding against its expectation. */
function findingDifferences(got: ReportFinding, want: Expectation['findings'][number]): string[] {
  const out: string[] = [];
  if (got.code !== want.code) out.push(`code: expected ${want.code}, got ${got.code}`);
  if (got.severity !== want.severity) out.push(`severity: expected ${want.severity}, got ${got.severity}`);
  for (const [k, v] of Object.entries(want.evidence ?? {})) {
    if (!evidenceMatches(got.evidence, { [k]: v })) out.push(`evidence.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(got.evidence[k])}`);
  }
  return out;
}

/** "rejected (service 192.0.2.1:8081)": the code and the first evidence value both sides agree on. */
function findingLabel(got: ReportFinding, want: Expectation['findings'][number]): string {
  const shared = Object.entries(want.evidence ?? {}).find(([k, v]) => typeof v === 'string' && evidenceMatches(got.evidence, { [k]: v }));
  return shared === undefined ? got.code : `${got.code} (${shared[0]} ${String(shared[1])})`;
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
  'bridge-subnet-overlap': ['bridge', 'subnet', 'clients', 'repliesFrom', 'dnatTarget', 'doubleRoute'],
  rejected: ['service', 'how', 'refusedBy'],
  filtered: ['service', 'clients', 'interface'],
  'route-conflict': ['prefix', 'winner', 'synInterface', 'replyDevice', 'clients'],
  'address-collision': ['subnet', 'owner', 'arrivedOn', 'address', 'interface', 'clients'],
  'listen-overflow': ['service'],
  'paws-timestamp-reject': ['natAddress', 'server', 'hostsBehind'],
  'syn-ack-lost': ['service', 'clients'],
  'capture-incomplete': ['droppedByCapture', 'synAckWithoutSyn'],
  'nat-path-break': ['service', 'seenAt', 'missingAt', 'clients'],
};

/** Build an expectation from a report made with --all-flows (for review in a diff before it is stored). */
export function expectationFrom(report: ReportJson, args: string[] = []): Expectation {
  return {
    ...(args.length > 0 ? { args } : {}),
    handshakes: report.summary.handshakes,
    states: statesOf(report),
    findings: report.findings.map(expectedFinding),
  };
}

/** A finding as an expectation records it: code, severity and its key evidence. */
function expectedFinding(f: ReportFinding): Expectation['findings'][number] {
  return {
    code: f.code,
    severity: f.severity,
    evidence: Object.fromEntries((KEY_EVIDENCE[f.code] ?? []).filter((k) => k in f.evidence).map((k) => [k, f.evidence[k]])),
  };
}

/** Scenario arguments name files beside the capture (e.g. "--context context.json"): resolve them there. */
export function resolveScenarioArgs(args: readonly string[], dir: string, exists: (p: string) => boolean): string[] {
  const resolve = (name: string) => (exists(`${dir}/${name}`) ? `${dir}/${name}` : name);
  return args.map((a) => {
    if (a.startsWith('-')) return a;
    const eq = a.indexOf('=');
    // "node-a=node-a.pcapng,eth0.pcap" (--host, --context HOST=FILE): the files after "=".
    if (eq > 0) return `${a.slice(0, eq)}=${a.slice(eq + 1).split(',').map(resolve).join(',')}`;
    return resolve(a);
  });
}
