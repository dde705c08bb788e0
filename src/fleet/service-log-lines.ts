import type { LogFrame } from './docker-log-frames';

/** One whole line a task wrote, with the task and node it came from (the log's details). */
export interface TaskLine {
  nodeId: string;
  taskId: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * The lines of GET /services/{id}/logs?details=1&timestamps=1: every message begins with
 * its time and its details ("com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,
 * com.docker.swarm.task.id=…"), then the text. A message that the log driver split (over
 * 16 KB) comes as several messages, only the last ending in a newline: they are joined
 * again per task and stream. A message without details is kept under an empty node id.
 */
export class ServiceLogLines {
  private readonly pending = new Map<string, { line: TaskLine; parts: string[] }>();
  readonly lines: TaskLine[] = [];

  push(frame: LogFrame): void {
    const text = frame.data.toString('utf8');
    const { details, message } = splitPrefix(text);
    const nodeId = details.get('com.docker.swarm.node.id') ?? '';
    const taskId = details.get('com.docker.swarm.task.id') ?? '';
    const key = `${taskId}\0${frame.stream}`;
    const open = this.pending.get(key) ?? { line: { nodeId, taskId, stream: frame.stream, text: '' }, parts: [] };
    const pieces = message.split('\n');
    open.parts.push(pieces[0]!);
    for (const piece of pieces.slice(1)) {
      this.lines.push({ ...open.line, text: open.parts.join('') });
      open.parts = [piece];
    }
    if (open.parts.length === 1 && open.parts[0] === '') this.pending.delete(key);
    else this.pending.set(key, open);
  }

  /** The lines of every task, those cut off at the end of the stream included. */
  finish(): TaskLine[] {
    for (const open of this.pending.values()) this.lines.push({ ...open.line, text: open.parts.join('') });
    this.pending.clear();
    return this.lines;
  }
}

const TIMESTAMP = /^\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d) /;
const DETAILS = /^((?:[A-Za-z0-9_.-]+=[^, ]*,)*[A-Za-z0-9_.-]+=[^, ]*) /;

function splitPrefix(text: string): { details: Map<string, string>; message: string } {
  let rest = text.replace(TIMESTAMP, '');
  const details = new Map<string, string>();
  const m = DETAILS.exec(rest);
  if (m !== null && m[1]!.includes('com.docker.swarm.')) {
    for (const pair of m[1]!.split(',')) {
      const eq = pair.indexOf('=');
      details.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    rest = rest.slice(m[0].length);
  }
  return { details, message: rest };
}
