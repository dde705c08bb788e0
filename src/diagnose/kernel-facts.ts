import type { CounterDeltas, DropEvent, KernelEvidence } from '../evidence/kernel-evidence';
import type { Flow } from '../flow/flow';
import { plural } from './group';

/**
 * How close to a SYN a drop must be to count as that SYN's drop. kfree_skb carries no
 * addresses or ports, so drops are matched to flows by time only; 50 ms covers the
 * delay between the kernel's trace clock and a capture's delivery time.
 */
export const DROP_MATCH_SECONDS = 0.05;
export const MATCHED_BY_TIME = `time only: within ±${DROP_MATCH_SECONDS * 1000} ms of a SYN of these flows (kfree_skb carries no addresses or ports)`;
const LOCATION_EXAMPLES = 3;
const FLOW_EXAMPLES = 20;

/** A counter that rose during the capture, in one namespace. */
export interface CounterRise {
  counter: string;
  namespace: string;
  delta: number;
  /** Seconds between the two readings. */
  seconds: number;
}

/** Kernel drops matched to flows by time. */
export interface DropsNearSyns {
  /** Matched drops by reason, most frequent first. */
  reasons: Record<string, number>;
  drops: number;
  /** SYN times with at least one matching drop, of all SYN times looked at. */
  synTimesMatched: number;
  synTimes: number;
  /** Kernel functions that freed them (a few). */
  locations: string[];
  matchedBy: string;
}

/** SYN-ACK retransmissions the kernel recorded for flows, matched by addresses and ports. */
export interface SynAckRetransmits {
  retransmits: number;
  /** Attempts with at least one, and the first FLOW_EXAMPLES of their flow ids. */
  attempts: number;
  flows: string[];
  matchedBy: 'addresses and ports';
}

/** True when the live counters were read: then a counter missing from the deltas did not change. */
export function countersRead(kernel: KernelEvidence | null | undefined): boolean {
  return kernel != null && kernel.counters.length > 0;
}

/** The given counters' rises during the capture (positive deltas), per namespace. */
export function counterRises(kernel: KernelEvidence | null | undefined, names: readonly string[]): CounterRise[] {
  const out: CounterRise[] = [];
  for (const c of kernel?.counters ?? []) {
    for (const counter of names) {
      const delta = c.deltas[counter];
      if (delta !== undefined && delta > 0) out.push({ counter, namespace: c.namespace, delta, seconds: c.seconds });
    }
  }
  return out;
}

/**
 * The namespace that owns `address` (a container's, or a captured one such as a swarm task's),
 * when the window read its counters; null when none or several do (a second Docker daemon's
 * 172.17.0.0/16): the wrong namespace's counters would confirm or refute for the wrong listener.
 */
export function namespaceOwning(kernel: KernelEvidence | null | undefined, address: string): CounterDeltas | null {
  const owners = [...(kernel?.counters ?? []), ...(kernel?.otherNamespaces ?? [])].filter((o) => o.addresses?.includes(address) === true);
  return owners.length === 1 ? owners[0]! : null;
}

/** "TcpExt.ListenOverflows +15 in kt-b, TcpExt.ListenDrops +15 in kt-b". */
export function describeRises(rises: readonly CounterRise[]): string {
  return rises.map((r) => `${r.counter} +${r.delta} in ${r.namespace}`).join(', ');
}

/** The namespaces whose counters were read, for "did not rise in ...". */
export function namespacesRead(kernel: KernelEvidence): string {
  return kernel.counters.map((c) => c.namespace).join(', ');
}

/** Every drop of one of the reasons during the capture. */
export function dropsOf(kernel: KernelEvidence | null | undefined, reasons: readonly string[]): DropEvent[] {
  return (kernel?.events ?? []).filter((e): e is DropEvent => e.kind === 'drop' && reasons.includes(e.reason));
}

/**
 * The times a flow's SYNs are known to have been seen: the first SYN, and for an
 * unanswered flow that retransmitted, its last packet (its last SYN). The retransmissions
 * in between have no recorded time.
 */
export function synTimes(flow: Flow): number[] {
  const first = flow.firstSynAt ?? flow.firstSeen;
  return flow.outcome === 'unanswered' && flow.syns > 1 && flow.lastSeen > first ? [first, flow.lastSeen] : [first];
}

/**
 * Drops of the given reasons (every reason when null) within DROP_MATCH_SECONDS of a SYN
 * time of the flows, or null when none matched. Each drop counts once.
 */
export function dropsNearSyns(kernel: KernelEvidence | null | undefined, flows: readonly Flow[], reasons: readonly string[] | null): DropsNearSyns | null {
  return dropsNearTimes(kernel, flows.flatMap(synTimes), reasons);
}

/** As dropsNearSyns, for SYN times given directly (epoch seconds). */
export function dropsNearTimes(kernel: KernelEvidence | null | undefined, times: readonly number[], reasons: readonly string[] | null): DropsNearSyns | null {
  const drops = (kernel?.events ?? [])
    .filter((e): e is DropEvent => e.kind === 'drop' && (reasons === null || reasons.includes(e.reason)))
    .sort((x, y) => x.at - y.at);
  if (drops.length === 0) return null;
  const at = drops.map((d) => d.at);
  const matched = new Set<number>();
  let synTimesMatched = 0;
  for (const t of times) {
    let hit = false;
    for (let i = firstAtOrAfter(at, t - DROP_MATCH_SECONDS); i < at.length && at[i]! <= t + DROP_MATCH_SECONDS; i++) {
      matched.add(i);
      hit = true;
    }
    if (hit) synTimesMatched++;
  }
  if (matched.size === 0) return null;
  const counts = new Map<string, number>();
  const locations = new Set<string>();
  for (const i of [...matched].sort((a, b) => a - b)) {
    const d = drops[i]!;
    counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
    if (d.location !== null && locations.size < LOCATION_EXAMPLES) locations.add(d.location);
  }
  return {
    reasons: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])),
    drops: matched.size,
    synTimesMatched,
    synTimes: times.length,
    locations: [...locations],
    matchedBy: MATCHED_BY_TIME,
  };
}

/** At least half of the SYN times have a matching drop: the drops follow these SYNs, not the host's background. */
export function dropsFollowSyns(m: DropsNearSyns | null): boolean {
  return m !== null && m.synTimesMatched * 2 >= m.synTimes;
}

/** "6 packets [as NETFILTER_DROP] within 50 ms of 5 of the 6 SYN times of these attempts". */
export function describeDrops(m: DropsNearSyns, how = ''): string {
  return `${plural(m.drops, 'packet')}${how === '' ? '' : ` ${how}`} within ${DROP_MATCH_SECONDS * 1000} ms of ${m.synTimesMatched} of the ${plural(m.synTimes, 'SYN time')} of these attempts`;
}

/** "NETFILTER_DROP 4, NO_SOCKET 1". */
export function describeReasons(m: DropsNearSyns): string {
  return Object.entries(m.reasons).map(([r, n]) => `${r} ${n}`).join(', ');
}

/** The caveat every time-matched drop sentence carries. */
export const BY_TIME_ONLY = 'matched by time only, as kfree_skb carries no addresses or ports';

/**
 * tcp_retransmit_synack events of the flows: same server and client address and port,
 * from the first SYN on (a listener retransmits for about a minute after the client
 * gives up, so there is no upper bound beyond the capture itself). Null when none.
 */
export function synAckRetransmitsOf(kernel: KernelEvidence | null | undefined, flows: readonly Flow[]): SynAckRetransmits | null {
  const byTuple = new Map<string, Flow>();
  for (const f of flows) byTuple.set(`${f.serverIp}|${f.serverPort}|${f.clientIp}|${f.clientPort}`, f);
  const matched = new Set<string>();
  let retransmits = 0;
  for (const e of kernel?.events ?? []) {
    if (e.kind !== 'synack-retransmit') continue;
    const f = byTuple.get(`${e.serverAddress}|${e.serverPort}|${e.clientAddress}|${e.clientPort}`);
    if (f === undefined || e.at < (f.firstSynAt ?? f.firstSeen) - DROP_MATCH_SECONDS) continue;
    retransmits++;
    matched.add(f.id);
  }
  return retransmits === 0 ? null : { retransmits, attempts: matched.size, flows: [...matched].slice(0, FLOW_EXAMPLES), matchedBy: 'addresses and ports' };
}

function firstAtOrAfter(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
