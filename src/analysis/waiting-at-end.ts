import type { Finding } from '../diagnose/finding';
import type { Flow } from '../flow/flow';

/**
 * How long a client waits for a SYN-ACK before it sends its SYN again: Linux's initial
 * retransmission timeout (TCP_TIMEOUT_INIT, 1 s). An answer that has not come by then is late
 * or lost; before then it may still be on its way.
 */
export const ANSWER_WAIT_SECONDS = 1;

/**
 * An unanswered attempt whose first SYN came less than ANSWER_WAIT_SECONDS before the capture
 * ended (`end`: its last packet, or later when the capture says it ran longer): the capture
 * stopped before the attempt could be called unanswered. A busy host's capture ends with a
 * few of them whenever it is stopped.
 */
export function waitingAtEnd(flow: Pick<Flow, 'outcome' | 'firstSynAt'>, end: number): boolean {
  return flow.outcome === 'unanswered' && flow.firstSynAt !== null && end - flow.firstSynAt < ANSWER_WAIT_SECONDS;
}

/**
 * The findings that rest on more than attempts the capture's end cut short, and the number
 * of attempts the others rested on. A finding that lists fewer attempts than it counts (a
 * flood's) stands: the times of the ones it does not list are not kept.
 */
export function setAsideWaiting(findings: Finding[], failedFlows: readonly Flow[], end: number): { findings: Finding[]; undiagnosed: number } {
  const waiting = new Set(failedFlows.filter((f) => waitingAtEnd(f, end)).map((f) => f.id));
  if (waiting.size === 0) return { findings, undiagnosed: 0 };
  const onlyWaiting = (f: Finding) => f.flows.length > 0 && (f.flowCount ?? f.flows.length) === f.flows.length && f.flows.every((id) => waiting.has(id));
  return { findings: findings.filter((f) => !onlyWaiting(f)), undiagnosed: findings.filter(onlyWaiting).reduce((n, f) => n + f.flows.length, 0) };
}

/** The warning for attempts set aside, or null when none was. */
export function waitingWarning(n: number): string | null {
  if (n === 0) return null;
  const [them, are] = n === 1 ? ['it', 'it is'] : ['them', 'they are'];
  return `${n === 1 ? '1 unanswered attempt' : `${n} unanswered attempts`} began less than ${ANSWER_WAIT_SECONDS} s before the capture ended, too late to tell a lost SYN from an answer still on its way: ${are} counted as unanswered but not diagnosed (capture longer to judge ${them})`;
}
