import type { Analysis } from '../analysis';
import { ErrorCode, SynscopeError } from '../errors';
import { writeConnLog } from '../report/conn-log';
import { renderHtml } from '../report/html';
import { writeReportJson } from '../report/json';
import { renderMarkdown } from '../report/markdown';
import { writeReportNdjson } from '../report/ndjson';
import { renderText, textOptionsFor } from '../report/text';

export const REPORT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'conn', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The format asked for: --format, or --json (its shorthand); text by default. */
export function reportFormat(flags: { json?: boolean; format?: ReportFormat }): ReportFormat {
  if (flags.json === true && flags.format !== undefined && flags.format !== 'json') {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `--json and --format ${flags.format} ask for two formats: give one`);
  }
  return flags.format ?? (flags.json === true ? 'json' : 'text');
}

/** Where a report goes: a writer, and the terminal behind it if any (the text report fits its width and colours severities). */
export interface ReportOutput {
  write: (chunk: string) => void;
  terminal?: { isTTY?: boolean; columns?: number };
}

/** Print the report in its format (`flowsStreamed`: ndjson flow events were written as the flows left the tracker). */
export function writeReport(analysis: Analysis, format: ReportFormat, out: ReportOutput, flowsStreamed = false): void {
  if (format === 'json') writeReportJson(analysis, out.write);
  else if (format === 'ndjson') writeReportNdjson(analysis, out.write, flowsStreamed);
  else if (format === 'markdown') out.write(renderMarkdown(analysis));
  else if (format === 'conn') writeConnLog(analysis, out.write);
  else if (format === 'html') out.write(renderHtml(analysis));
  else out.write(renderText(analysis, textOptionsFor(out.terminal ?? {})));
}

/**
 * Warnings for the report's reader beside the analysis's own: a conn.log has no place to say
 * that it lists a bounded sample of the failed flows, so it is said on standard error.
 */
export function formatWarnings(analysis: Analysis, format: ReportFormat): string[] {
  if (format !== 'conn' || analysis.flowsLeftOut === 0) return [];
  const written = analysis.flows.length;
  return [`the conn log lists ${written} of ${written + analysis.flowsLeftOut} failed flows (a bounded sample per client subnet, service and outcome; the counts in --json are exact); --all-flows lists every flow`];
}
