import { loadNativeAddon, type ClockCensus } from '../native/addon';
import { mayShowHosts, MIN_CLOCK_SYNS } from './client-clocks';
import { clockCounts } from './clock-counts';

export type { ClockCensus };

/** Where the census reads an attempt record: its size and the offsets of its fields (in numbers). */
export interface CensusLayout {
  stride: number;
  client: number;
  flow: number;
  at: number;
  tsVal: number;
}

/** Numbers per client in ClockCensus.clients: client, first record, start, end (in records), clocks. */
export const CENSUS_FIELDS = 5;

/** Above every record number a census takes, so that client * RECORD_SPAN + record is exact. */
const RECORD_SPAN = 2 ** 21;

/**
 * The census of TCP timestamp clocks per IPv4 client over attempt records (client >= 0 is an
 * IPv4 address; only records with a TSval, and not of a flow in skipFlows): each client with
 * MIN_CLOCK_SYNS records or more gets its clockCount, and the clients that count cannot rule
 * out (mayShowHosts) come back in the order of their first record, with their records in
 * record order (client c: records[start, end)). In C when the addon has it
 * (native/src/clock-census.c: the same clients, to the bit); else here.
 */
export function clockCensus(records: Float64Array, count: number, layout: CensusLayout, skipFlows: ReadonlySet<number>, native = true): ClockCensus {
  const load = native ? loadNativeAddon() : null;
  if (load !== null && 'addon' in load && typeof load.addon.clockCensus === 'function') {
    const { stride, client, flow, at, tsVal } = layout;
    return load.addon.clockCensus(records, count, Int32Array.of(stride, client, flow, at, tsVal), Float64Array.from(skipFlows));
  }
  return censusInJs(records, count, layout, skipFlows);
}

function censusInJs(r: Float64Array, count: number, layout: CensusLayout, skipFlows: ReadonlySet<number>): ClockCensus {
  if (count > RECORD_SPAN) throw new RangeError(`clockCensus: at most ${RECORD_SPAN} records`);
  const { stride } = layout;
  // Records sorted by client, then record: each client's records are one run, without a map entry per client.
  const keys = new Float64Array(count);
  let n = 0;
  for (let i = 0; i < count; i++) {
    const at = i * stride;
    const client = r[at + layout.client]!;
    if (client >= 0 && r[at + layout.tsVal]! >= 0 && !skipFlows.has(r[at + layout.flow]!)) keys[n++] = client * RECORD_SPAN + i;
  }
  const sorted = keys.subarray(0, n).sort();
  const runStarts: number[] = [];
  const sampleEnds: number[] = [];
  const at = new Float64Array(n);
  const tsVal = new Float64Array(n);
  let samples = 0;
  for (let start = 0; start < n; ) {
    const client = Math.floor(sorted[start]! / RECORD_SPAN);
    let end = start + 1;
    while (end < n && Math.floor(sorted[end]! / RECORD_SPAN) === client) end++;
    if (end - start >= MIN_CLOCK_SYNS) {
      for (let k = start; k < end; k++, samples++) {
        const rec = (sorted[k]! % RECORD_SPAN) * stride;
        at[samples] = r[rec + layout.at]!;
        tsVal[samples] = r[rec + layout.tsVal]!;
      }
      runStarts.push(start);
      sampleEnds.push(samples);
    }
    start = end;
  }
  const counts = clockCounts(at.subarray(0, samples), tsVal.subarray(0, samples), Int32Array.from(sampleEnds), false);
  const kept: { client: number; first: number; start: number; end: number; clocks: number }[] = [];
  runStarts.forEach((start, c) => {
    const end = start + sampleEnds[c]! - (c === 0 ? 0 : sampleEnds[c - 1]!);
    if (!mayShowHosts(end - start, counts[c]!)) return;
    kept.push({ client: Math.floor(sorted[start]! / RECORD_SPAN), first: sorted[start]! % RECORD_SPAN, start, end, clocks: counts[c]! });
  });
  kept.sort((a, b) => a.first - b.first);
  const clients = new Float64Array(kept.length * CENSUS_FIELDS);
  const records: number[] = [];
  kept.forEach((k, c) => {
    clients.set([k.client, k.first, records.length, records.length + k.end - k.start, k.clocks], c * CENSUS_FIELDS);
    for (let i = k.start; i < k.end; i++) records.push(sorted[i]! % RECORD_SPAN);
  });
  return { clients, records: Int32Array.from(records) };
}
