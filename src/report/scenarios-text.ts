import Table from 'cli-table3';
import type { ScenarioResult, ScenarioRun } from '../regress/run-scenarios';

const RESULT_WORD = { passed: 'pass', failed: 'FAIL', updated: 'updated' } as const;

/**
 * `synscope test` as text: per scenario that failed or was updated, a header and one
 * line per difference ("expected X, got Y"); then a table of every scenario and a tally.
 */
export function renderScenarioRun(run: ScenarioRun): string {
  const out: string[] = [];
  for (const r of run.results) {
    if (r.status === 'passed') continue;
    out.push(r.status === 'updated' ? `updated ${r.name}: rewrote its expect.json (expected = before, got = now)` : `FAIL ${r.name} (${r.dir})`);
    for (const d of r.differences) out.push(`  ${d}`);
    out.push('');
  }
  const t = new Table({ head: ['scenario', 'result', 'attempts', 'findings', 'time'], style: { head: [], border: [] } });
  for (const r of run.results) t.push([r.name, RESULT_WORD[r.status], count(r.attempts), count(r.findings), `${r.seconds.toFixed(2)} s`]);
  out.push(t.toString());
  out.push(tally(run.results));
  return `${out.join('\n')}\n`;
}

function tally(results: readonly ScenarioResult[]): string {
  const n = (s: ScenarioResult['status']) => results.filter((r) => r.status === s).length;
  const parts = [`${n('passed')} passed`, `${n('failed')} failed`];
  if (n('updated') > 0) parts.push(`${n('updated')} updated`);
  return `${parts.join(', ')} (${results.length} scenario${results.length === 1 ? '' : 's'})`;
}

function count(v: number | null): string {
  return v === null ? '-' : String(v);
}
