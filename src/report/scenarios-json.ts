import type { ScenarioRun, ScenarioStatus } from '../regress/run-scenarios';

export const TEST_SCHEMA = 'synscope.test/1';

/** The `synscope test --json` document (schema synscope.test/1). */
export interface ScenarioRunJson {
  schema: typeof TEST_SCHEMA;
  directory: string;
  scenarios: {
    name: string;
    /** The output matches expect.json (after --update, an updated scenario matches too). */
    passed: boolean;
    status: ScenarioStatus;
    /** One line each: expected against got, what --update changed, or why the scenario could not run. */
    differences: string[];
    attempts: number | null;
    findings: number | null;
    seconds: number;
  }[];
  passed: number;
  failed: number;
  updated: number;
}

export function toScenarioRunJson(run: ScenarioRun): ScenarioRunJson {
  const scenarios = run.results.map((r) => ({
    name: r.name,
    passed: r.status !== 'failed',
    status: r.status,
    differences: r.differences,
    attempts: r.attempts,
    findings: r.findings,
    seconds: Math.round(r.seconds * 1000) / 1000,
  }));
  const n = (s: ScenarioStatus) => run.results.filter((r) => r.status === s).length;
  return { schema: TEST_SCHEMA, directory: run.root, scenarios, passed: n('passed'), failed: n('failed'), updated: n('updated') };
}
