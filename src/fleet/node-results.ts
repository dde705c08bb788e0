import type { HostAnalysis } from '../hosts/analyze-hosts';
import { EVENTS_SCHEMA } from '../report/ndjson';
import { asChunk, ChunkAssembler } from './event-chunks';
import { decodeNodeEvidence, NODE_EVIDENCE_EVENT } from './node-evidence';
import type { TaskLine } from './service-log-lines';

/** One node's evidence from its task's log lines, or why there is none. */
export type NodeLogResult = { ok: true; host: HostAnalysis; events: number; chunks: number; bytes: number; largestEvent: number } | { ok: false; reason: string };

const STDERR_LINES_KEPT = 3;

/**
 * Read one node's lines: chunk events put back together, the node-evidence event decoded.
 * Lines that are not events (a shell's message, a crash) are counted; the last stderr lines
 * say why a node sent nothing.
 */
export function nodeLogResult(lines: readonly TaskLine[]): NodeLogResult {
  const chunks = new ChunkAssembler();
  let evidence: HostAnalysis | null = null;
  let events = 0;
  let chunkEvents = 0;
  let bytes = 0;
  let largestEvent = 0;
  let problem: string | null = null;
  const stderr: string[] = [];
  const take = (text: string) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof event !== 'object' || event === null || event['schema'] !== EVENTS_SCHEMA || typeof event['type'] !== 'string') return;
    events++;
    if (event['type'] === 'chunk') {
      chunkEvents++;
      const chunk = asChunk(event);
      if (chunk === null) return;
      try {
        const whole = chunks.add(chunk);
        if (whole !== null) take(whole);
      } catch (e) {
        problem = (e as Error).message;
      }
      return;
    }
    largestEvent = Math.max(largestEvent, Buffer.byteLength(text));
    if (event['type'] !== NODE_EVIDENCE_EVENT) return;
    try {
      evidence = decodeNodeEvidence(event);
    } catch (e) {
      problem = (e as Error).message;
    }
  };
  for (const line of lines) {
    if (line.stream === 'stderr') {
      if (line.text.trim() !== '') stderr.push(line.text.trim());
      continue;
    }
    bytes += Buffer.byteLength(line.text) + 1;
    take(line.text);
  }
  if (evidence !== null) return { ok: true, host: evidence, events, chunks: chunkEvents, bytes, largestEvent };
  const lost = chunks.incomplete();
  const why = [
    problem ?? (lost.length > 0 ? `evidence incomplete: ${lost.map((l) => `${l.have} of ${l.count} chunks of ${l.id}`).join(', ')}` : lines.length === 0 ? 'no log lines' : `no ${NODE_EVIDENCE_EVENT} event in ${lines.length} log lines`),
    ...stderr.slice(-STDERR_LINES_KEPT),
  ];
  return { ok: false, reason: why.join('; ') };
}
