/**
 * How many TCP timestamp clocks the SYNs of one source address show: an estimate of
 * how many hosts sit behind that address (a NAT, swarm ingress, a load balancer's SNAT).
 *
 * A host's TSval is its own counter: offset + rate × time (RFC 7323 section 5.4). The rate
 * is fixed per host: 1000 Hz on Linux since 4.13 (tcp_time_stamp in ms), HZ on older
 * kernels (usually 250, 100 or 1000), 1000 Hz on macOS. The offset is the host's uptime
 * (Linux before 4.10) or a value hashed from the address pair (Linux 4.11 and later:
 * secure_tcp_ts_off), so different hosts show offsets far apart while one host's SYNs to
 * one server all share one. Subtracting rate × time from every TSval therefore leaves one
 * value per clock: for each usual rate we cluster those offsets and keep the rate that
 * needs the fewest clusters.
 *
 * Linux 4.10 clients randomized the offset per connection (commit 95a22caee396, "tcp:
 * randomize tcp timestamp offsets for each connection"); then every connection shows a
 * clock of its own and the count says nothing about hosts. {@link ClockEstimate.randomized}
 * flags that pattern.
 */

/** One SYN: when it was seen (epoch seconds) and its TSval (uint32). */
export interface TimestampSample {
  readonly at: number;
  readonly tsVal: number;
}

export interface ClockEstimate {
  /** Samples looked at (SYNs that carried a timestamp). */
  readonly samples: number;
  /** Distinct clocks at the chosen rate (0 without samples). */
  readonly clocks: number;
  /** The tick rate that explains the samples with the fewest clocks, or null without samples. */
  readonly rateHz: number | null;
  /** Per sample (same order as given): index of its clock, 0..clocks-1 in order of first appearance. */
  readonly clockOf: readonly number[];
  /**
   * Every connection shows its own clock (at least {@link MIN_SAMPLES_FOR_RANDOMIZED}
   * samples, more than half of them in clusters of one): per-connection random offsets
   * (Linux 4.10 clients), or as many hosts as connections. The count is then not meaningful.
   */
  readonly randomized: boolean;
}

/** The rates tried, most common first (ties go to the earlier one). */
export const CLOCK_RATES_HZ = [1000, 250, 100] as const;

/** Fewer samples than this never count as "randomized": a few hosts making one connection each look the same. */
export const MIN_SAMPLES_FOR_RANDOMIZED = 6;

const TWO_32 = 4294967296;
/** Samples per estimate at most (2^20: an offset times this plus an index stays below 2^53). */
const INDEX_SPAN = 1048576;

/**
 * Estimate the clocks behind one source address from its SYNs. Samples without order
 * are fine; the TSval wraps at 2^32 and offsets are compared on that circle.
 */
export function estimateClocks(samples: readonly TimestampSample[]): ClockEstimate {
  if (samples.length === 0) return { samples: 0, clocks: 0, rateHz: null, clockOf: [], randomized: false };
  let best: Clustering | null = null;
  for (const rate of CLOCK_RATES_HZ) {
    const c = cluster(samples, rate);
    if (best === null || c.clocks < best.clocks || (c.clocks === best.clocks && c.spreadSeconds < best.spreadSeconds)) best = c;
  }
  const b = best!;
  const sizes = new Array<number>(b.clocks).fill(0);
  for (const k of b.clockOf) sizes[k]!++;
  const alone = sizes.filter((n) => n === 1).length;
  const randomized = samples.length >= MIN_SAMPLES_FOR_RANDOMIZED && alone * 2 > samples.length;
  return { samples: samples.length, clocks: b.clocks, rateHz: b.rate, clockOf: b.clockOf, randomized };
}

interface Clustering {
  rate: number;
  clocks: number;
  clockOf: number[];
  /** Sum of the clusters' widths in seconds of that clock: the tie-breaker between rates. */
  spreadSeconds: number;
}

/**
 * Offsets TSval − rate × (t − t0) on the 2^32 circle, sorted, cut wherever two neighbours
 * are further apart than the tolerance.
 */
function cluster(samples: readonly TimestampSample[], rate: number): Clustering {
  const keys = sortedOffsetKeys(samples, rate);
  const tolerance = toleranceFor(samples, rate);
  const n = keys.length;
  // Start the walk after the widest gap, so a clock near the wrap point stays whole.
  let start = 0;
  let widest = -1;
  for (let k = 0; k < n; k++) {
    const gap = mod32(offsetOf(keys[k]!) - offsetOf(keys[(k + n - 1) % n]!));
    if (gap > widest) {
      widest = gap;
      start = k;
    }
  }
  const clusterIdOf = new Array<number>(n).fill(0);
  let clusters = 0;
  let spread = 0;
  let first = offsetOf(keys[start]!);
  let last = first;
  for (let m = 0; m < n; m++) {
    const key = keys[(start + m) % n]!;
    const offset = offsetOf(key);
    if (m === 0 || mod32(offset - last) > tolerance) {
      if (m > 0) spread += mod32(last - first);
      clusters++;
      first = offset;
    }
    last = offset;
    clusterIdOf[key % INDEX_SPAN] = clusters - 1;
  }
  spread += mod32(last - first);
  return { rate, clocks: clusters, clockOf: renumberByFirstAppearance(clusterIdOf), spreadSeconds: spread / rate };
}

/**
 * The clock count estimateClocks() would give (the fewest clusters at any rate), without
 * assigning samples to clocks: on a busy host most client addresses show one clock per
 * SYN, and this tells them apart at a fraction of the cost. Walked from the widest gap, the
 * circle of offsets falls into as many clusters as it has gaps wider than the tolerance
 * (and one when it has none).
 */
export function clockCount(samples: readonly TimestampSample[]): number {
  return clockCountOf(
    samples.map((s) => s.at),
    samples.map((s) => s.tsVal),
    samples.length,
  );
}

/**
 * clockCount of the samples (at[i], tsVal[i]), i < n, read from columns: the attempt log
 * calls it for every client with a few SYNs, without an object per SYN.
 */
export function clockCountOf(at: ArrayLike<number>, tsVal: ArrayLike<number>, n: number): number {
  if (n === 0) return 0;
  let t0 = Infinity;
  let t1 = -Infinity;
  for (let i = 0; i < n; i++) {
    if (at[i]! < t0) t0 = at[i]!;
    if (at[i]! > t1) t1 = at[i]!;
  }
  // Called for every client with a few SYNs: one scratch array for all of them.
  if (countKeys.length < n) countKeys = new Float64Array(Math.max(n, 2 * countKeys.length));
  const keys = countKeys;
  let fewest = Infinity;
  for (const rate of CLOCK_RATES_HZ) {
    for (let i = 0; i < n; i++) keys[i] = mod32(tsVal[i]! - Math.round(rate * (at[i]! - t0))) * INDEX_SPAN + i;
    sortPrefix(keys, n);
    const tolerance = toleranceTicks(rate, t1 - t0);
    let wide = 0;
    for (let k = 0; k < n; k++) if (mod32(offsetOf(keys[k]!) - offsetOf(keys[(k + n - 1) % n]!)) > tolerance) wide++;
    if (Math.max(1, wide) < fewest) fewest = Math.max(1, wide);
    // No rate can do better than one clock.
    if (fewest === 1) break;
  }
  return fewest;
}

/** Sorts keys[0, n): most clients have a few SYNs, where an insertion sort beats a typed-array view and its sort. */
function sortPrefix(keys: Float64Array, n: number): void {
  if (n > 32) {
    keys.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const v = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > v) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = v;
  }
}

let countKeys = new Float64Array(64);

/** Each sample's offset at `rate` (< 2^32) and its index (< 2^20) in one number, sorted natively: no object per sample. */
function sortedOffsetKeys(samples: readonly TimestampSample[], rate: number): Float64Array {
  let t0 = Infinity;
  for (const s of samples) if (s.at < t0) t0 = s.at;
  const keys = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) keys[i] = mod32(samples[i]!.tsVal - Math.round(rate * (samples[i]!.at - t0))) * INDEX_SPAN + i;
  return keys.sort();
}

function offsetOf(key: number): number {
  return Math.floor(key / INDEX_SPAN);
}

function toleranceFor(samples: readonly TimestampSample[], rate: number): number {
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const s of samples) {
    if (s.at < t0) t0 = s.at;
    if (s.at > t1) t1 = s.at;
  }
  return toleranceTicks(rate, t1 - t0);
}

/**
 * How far one clock's offsets may scatter: 50 ms of jitter between the host stamping the
 * SYN and the capture stamping it (a NAT or a busy host in between), two ticks of rounding,
 * and a skew of 1000 ppm over the samples' time span (real clocks stay well under 100 ppm).
 */
function toleranceTicks(rate: number, spanSeconds: number): number {
  return 2 + rate * 0.05 + rate * spanSeconds * 1e-3;
}

function renumberByFirstAppearance(ids: number[]): number[] {
  const seen = new Map<number, number>();
  return ids.map((id) => {
    let k = seen.get(id);
    if (k === undefined) seen.set(id, (k = seen.size));
    return k;
  });
}

function mod32(v: number): number {
  return ((v % TWO_32) + TWO_32) % TWO_32;
}
