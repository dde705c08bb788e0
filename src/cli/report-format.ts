import type { Analysis } from '../analysis';
import { ErrorCode, SynscopeError } from '../errors';
import { writeReportJson } from '../report/json';
import { writeReportNdjson } from '../report/ndjson';
import { renderText } from '../report/text';

export const REPORT_FORMATS = ['text', 'json', 'ndjson'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The format asked for: --format, or --json (its shorthand); text by default. */
export function reportFormat(flags: { json?: boolean; format?: ReportFormat }): ReportFormat {
  if (flags.json === true && flags.format !== undefined && flags.format !== 'json') {
    throw new SynscopeError(ErrorCode.BAD_USAGE, `--json and --format ${flags.format} ask for two formats: give one`);
  }
  return flags.format ?? (flags.json === true ? 'json' : 'text');
}

/** Print the report in its format (`flowsStreamed`: ndjson flow events were written as the flows left the tracker). */
export function writeReport(analysis: Analysis, format: ReportFormat, write: (chunk: string) => void, flowsStreamed = false): void {
  if (format === 'json') writeReportJson(analysis, write);
  else if (format === 'ndjson') writeReportNdjson(analysis, write, flowsStreamed);
  else write(renderText(analysis));
}
