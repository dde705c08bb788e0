import type { Flow } from '../flow/flow';
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

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
