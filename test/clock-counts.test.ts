import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clockCounts } from '../src/diagnose/clock-counts';
import { clockCount } from '../src/diagnose/timestamp-clocks';
import { loadNativeAddon } from '../src/native/addon';

const T0 = 1_700_000_000;

/** Clients, each a few hosts' SYNs: offsets anywhere (near the wrap too), rates of 1000/250/100 Hz, spans up to weeks. */
const CLIENTS = fc.array(
  fc.array(
    fc.record({
      offset: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffff00, max: 0xffffffff })),
      rate: fc.constantFrom(1000, 250, 100),
      syns: fc.array(fc.record({ at: fc.oneof(fc.double({ min: 0, max: 600, noNaN: true }), fc.double({ min: 0, max: 3e6, noNaN: true })), jitter: fc.integer({ min: -80, max: 80 }) }), { minLength: 1, maxLength: 12 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  { minLength: 1, maxLength: 20 },
);

test('the addon has clockCounts', () => {
  const load = loadNativeAddon();
  assert.ok('addon' in load && typeof load.addon.clockCounts === 'function', 'reason' in load ? load.reason : 'clockCounts missing');
});

test('clockCounts in C gives clockCount of each client, to the bit, for any hosts, rates, wraps and spans', () => {
  fc.assert(
    fc.property(CLIENTS, (clients) => {
      const samples = clients.map((hosts) => hosts.flatMap((h) => h.syns.map((s) => ({ at: T0 + s.at, tsVal: (h.offset + Math.round(h.rate * s.at) + s.jitter) >>> 0 }))));
      const all = samples.flat();
      const runEnds = Int32Array.from(samples.map((_, c) => samples.slice(0, c + 1).reduce((n, s) => n + s.length, 0)));
      const at = Float64Array.from(all.map((s) => s.at));
      const tsVal = Float64Array.from(all.map((s) => s.tsVal));
      const expected = samples.map((s) => clockCount(s));
      assert.deepEqual([...clockCounts(at, tsVal, runEnds)], expected);
      assert.deepEqual([...clockCounts(at, tsVal, runEnds, false)], expected);
    }),
    { numRuns: 1000 },
  );
});

test('clockCounts in C refuses runs outside the samples', () => {
  const load = loadNativeAddon();
  assert.ok('addon' in load);
  const two = new Float64Array(2);
  assert.throws(() => load.addon.clockCounts!(two, two, Int32Array.of(3), new Int32Array(1)), RangeError);
  assert.throws(() => load.addon.clockCounts!(two, two, Int32Array.of(2, 1), new Int32Array(2)), RangeError);
  assert.throws(() => load.addon.clockCounts!(two, two, Int32Array.of(1, 2), new Int32Array(1)), TypeError);
});
