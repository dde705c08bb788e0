import type { Flow } from './flow';

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
