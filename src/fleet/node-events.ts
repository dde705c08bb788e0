import type { Analysis } from '../analysis';
import type { HostAnalysis } from '../hosts/analyze-hosts';
import { eventLine, writeReportNdjson } from '../report/ndjson';
import { chunkedEvent } from './event-chunks';
import { encodeNodeEvidence, NODE_EVIDENCE_EVENT } from './node-evidence';

/**
 * What a fleet node prints: its report as events (inputs, attempts, findings, summary; the
 * flows travel in the evidence), then its node-evidence event; every line under Docker's
 * 16 KiB log line, a longer one as chunk events.
 */
export function nodeEventLines(node: string, analysis: Analysis, host: Omit<HostAnalysis, 'name' | 'analysis'>, flowsSeen = analysis.flows.length): string[] {
  const lines: string[] = [];
  writeReportNdjson({ ...analysis, flows: [] }, (chunk) => {
    for (const line of chunk.split('\n')) if (line !== '') lines.push(`${line}\n`);
  }, true);
  lines.push(eventLine(NODE_EVIDENCE_EVENT, encodeNodeEvidence(node, analysis, host, flowsSeen)));
  return lines.flatMap((line, i) => chunkedEvent(line, `${node}.${i}`));
}
