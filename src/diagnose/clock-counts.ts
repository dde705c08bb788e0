import { loadNativeAddon } from '../native/addon';
import { clockCountOf } from './timestamp-clocks';

/**
 * clockCountOf for many clients at once: client c's samples are at[i], tsVal[i] for i from
 * runEnds[c - 1] (0 for the first) up to runEnds[c]. In C when the addon has it (the same
 * counts, to the bit: test/clock-counts.test.ts), which is what makes the census of every
 * client address cheap on a busy host; else here.
 */
export function clockCounts(at: Float64Array, tsVal: Float64Array, runEnds: Int32Array, native = true): Int32Array {
  const counts = new Int32Array(runEnds.length);
  const load = native ? loadNativeAddon() : null;
  if (load !== null && 'addon' in load && typeof load.addon.clockCounts === 'function') {
    load.addon.clockCounts(at, tsVal, runEnds, counts);
    return counts;
  }
  let start = 0;
  for (let c = 0; c < runEnds.length; c++) {
    const end = runEnds[c]!;
    counts[c] = clockCountOf(at.subarray(start, end), tsVal.subarray(start, end), end - start);
    start = end;
  }
  return counts;
}
