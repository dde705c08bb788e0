import type { Analysis } from '../analysis';
import type { Flow } from '../flow/flow';
import { flowJson, groupJson, kernelJson } from './json';

/** The one schema of every NDJSON stream synscope writes (analyze, live; the cluster's watch adds its own types). */
export const EVENTS_SCHEMA = 'synscope.events/1';

/** One event: a JSON object on one line, `schema` and `type` first. */
export function eventLine(type: string, body: object): string {
  return `${JSON.stringify({ schema: EVENTS_SCHEMA, type, ...body })}\n`;
}

/** A flow event as it leaves the tracker (`--all-flows` streamed: interface names as known then). */
export function flowEvent(flow: Flow, interfaceNames: readonly string[]): string {
  return eventLine('flow', flowJson(flow, interfaceNames));
}

/**
 * The report as events, in the order a log pipeline wants them: each input, each flow
 * (unless they were streamed already), each stitched attempt, each finding, and last the
 * summary with the counts, the failed groups and the warnings.
 */
export function writeReportNdjson(a: Analysis, write: (chunk: string) => void, flowsStreamed = false): void {
  for (const input of a.inputs) write(eventLine('input', input));
  if (!flowsStreamed) {
    const attemptOf = new Map<string, string>();
    for (const p of a.attempts) for (const id of p.flows) attemptOf.set(id, p.id);
    let batch = '';
    for (const f of a.flows) {
      const json = flowJson(f, a.interfaceNames);
      const attempt = attemptOf.get(f.id);
      batch += eventLine('flow', attempt === undefined ? json : { ...json, attempt });
      if (batch.length > 1 << 16) {
        write(batch);
        batch = '';
      }
    }
    write(batch);
  }
  for (const p of a.attempts) write(eventLine('attempt', p));
  for (const f of a.findings) write(eventLine('finding', f));
  write(
    eventLine('summary', {
      ...a.summary,
      flowsLeftOut: a.flowsLeftOut,
      groups: a.failedGroups.map(groupJson),
      ...(a.kernel != null && { kernel: kernelJson(a.kernel, a.flows) }),
      ...(a.hosts !== undefined && { hosts: a.hosts }),
      ...(a.clientClocks !== undefined && a.clientClocks.length > 0 && { clientClocks: a.clientClocks }),
      warnings: a.warnings,
    }),
  );
}
