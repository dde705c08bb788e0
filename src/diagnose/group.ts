import type { Flow } from '../flow/flow';
import type { DiagnosisInput } from './input';
import { formatEndpoint } from '../decode/address';

/** Group flows by a key, keeping first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [item]);
    else g.push(item);
  }
  return groups;
}

export function serviceOf(flow: Flow): string {
  return formatEndpoint(flow.serverIp, flow.serverPort, flow.ipVersion);
}

export function clientOf(flow: Flow): string {
  return formatEndpoint(flow.clientIp, flow.clientPort, flow.ipVersion);
}

/** Distinct values, in first-seen order, at most `limit` (the evidence stays readable). */
export function distinct(values: Iterable<string>, limit = Infinity): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (out.size >= limit) break;
    out.add(v);
  }
  return [...out];
}

/** SYNs of the flows, retransmissions included; with a sample, what each flow stands for. */
export function synCount(flows: readonly Flow[], input: Pick<DiagnosisInput, 'counts'>): number {
  let n = 0;
  for (const f of flows) n += f.syns * (input.counts?.weight(f.id) ?? 1);
  return Math.round(n);
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** The NAT hops of the stitched attempts (input.attempts), looked up by flow id. */
export interface AttemptHops {
  /** The attempt a flow is a hop of (the id of its outermost flow), or undefined when it was not stitched. */
  attemptOf(id: string): string | undefined;
  /** A hop after the first: the same attempt again, after NAT. */
  isInner(id: string): boolean;
  /** The flows of the attempt whose outermost flow is `id`, outermost first; just `id` when it was not stitched. */
  hopsOf(id: string): readonly string[];
}

export function attemptHops(input: Pick<DiagnosisInput, 'attempts'>): AttemptHops {
  const attemptOf = new Map<string, string>();
  const hops = new Map<string, readonly string[]>();
  for (const a of input.attempts ?? []) {
    hops.set(a.id, a.flows);
    for (const id of a.flows) attemptOf.set(id, a.id);
  }
  return {
    attemptOf: (id) => attemptOf.get(id),
    isInner: (id) => (attemptOf.get(id) ?? id) !== id,
    hopsOf: (id) => hops.get(id) ?? [id],
  };
}

/**
 * How many connection attempts the flows are: the hops of one stitched attempt (NAT) count
 * once, and when the rules saw a sample (input.counts) each flow counts for the attempts of
 * its group it stands for.
 */
export function attemptCount(flows: readonly { id: string }[], input: Pick<DiagnosisInput, 'attempts' | 'counts'>): number {
  const hops = attemptHops(input);
  const weight = (id: string) => input.counts?.weight(id) ?? 1;
  let count = 0;
  const stitched = new Set<string>();
  for (const f of flows) {
    const attempt = hops.attemptOf(f.id);
    if (attempt === undefined) count += weight(f.id);
    else stitched.add(attempt);
  }
  for (const attempt of stitched) count += weight(attempt);
  return Math.round(count);
}
