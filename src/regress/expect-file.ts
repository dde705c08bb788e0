import * as fs from 'node:fs';
import type { Expectation } from './expectation';

/** The file name of a scenario's expectation, beside its capture. */
export const EXPECT_FILE = 'expect.json';

/** An expect.json as read: the expectation, or why it cannot be used (one line). */
export type ReadExpectation = { ok: true; expectation: Expectation } | { ok: false; problem: string };

/** Read and check an expect.json; a problem is returned, not thrown, so one bad scenario does not stop the run. */
export function readExpectation(file: string): ReadExpectation {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, problem: `cannot read ${file}: ${(e as Error).message}` };
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return { ok: false, problem: `${file} is not JSON (${(e as Error).message})` };
  }
  const problem = shapeProblem(doc);
  return problem === null ? { ok: true, expectation: doc as Expectation } : { ok: false, problem: `${file}: ${problem}` };
}

/** Write an expectation as expect.json is stored: two-space JSON and a final newline. */
export function writeExpectation(file: string, expectation: Expectation): void {
  fs.writeFileSync(file, `${JSON.stringify(expectation, null, 2)}\n`);
}

function shapeProblem(doc: unknown): string | null {
  if (!isObject(doc)) return 'expected a JSON object with handshakes, states and findings';
  const args = doc['args'];
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) return '"args" must be a list of strings';
  if (!isNumberRecord(doc['handshakes'])) return '"handshakes" must be an object of numbers';
  if (!isNumberRecord(doc['states'])) return '"states" must be an object of numbers';
  const findings = doc['findings'];
  if (!Array.isArray(findings)) return '"findings" must be a list';
  for (const [i, f] of findings.entries()) {
    const ok = isObject(f) && typeof f['code'] === 'string' && typeof f['severity'] === 'string' && (f['evidence'] === undefined || isObject(f['evidence']));
    if (!ok) return `findings[${i}] must be { code, severity, evidence? }`;
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNumberRecord(v: unknown): boolean {
  return isObject(v) && Object.values(v).every((x) => typeof x === 'number');
}
