import type { Flow } from '../flow/flow';

/** How far one host's capture clock is from the first host's, from handshakes both saw. */
export interface ClockOffset {
  host: string;
  /** Seconds to add to the first host's times to get this host's (median over the matches). */
  offsetSeconds: number;
  /** Handshakes seen at both hosts (same addresses, ports and ISN). */
  matched: number;
}

/**
 * The same SYN captured at two hosts (no NAT between them: same addresses, ports and
 * ISN) gives the difference of their capture clocks, plus the one-way delay between the
 * capture points; the median over the matches is the estimate.
 */
export function clockOffset(host: string, reference: readonly Flow[], other: readonly Flow[]): ClockOffset | null {
  const firstSyn = new Map<string, number>();
  for (const f of reference) if (f.isn !== null && f.firstSynAt !== null) firstSyn.set(handshakeKey(f), f.firstSynAt);
  const deltas: number[] = [];
  for (const f of other) {
    if (f.isn === null || f.firstSynAt === null) continue;
    const t = firstSyn.get(handshakeKey(f));
    if (t !== undefined) deltas.push(f.firstSynAt - t);
  }
  if (deltas.length === 0) return null;
  deltas.sort((a, b) => a - b);
  const mid = deltas.length >> 1;
  const median = deltas.length % 2 === 1 ? deltas[mid]! : (deltas[mid - 1]! + deltas[mid]!) / 2;
  return { host, offsetSeconds: median, matched: deltas.length };
}

/** One handshake, wherever it was captured without NAT: its addresses, ports and ISN. */
export function handshakeKey(f: Flow): string {
  return `${f.clientIp}|${f.clientPort}|${f.serverIp}|${f.serverPort}|${f.isn}`;
}
