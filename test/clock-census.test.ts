import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CENSUS_FIELDS, clockCensus } from '../src/diagnose/clock-census';
import { loadNativeAddon } from '../src/native/addon';

const T0 = 1_700_000_000;
const LAYOUT = { stride: 6, client: 1, flow: 3, at: 0, tsVal: 4 };

/**
 * Attempt records of clients behind which one to four hosts send SYNs (their own clock
 * each), IPv6 records (negative clients), records without a TSval, and flows to skip.
 */
const RECORDS = fc.array(
  fc.record({
    client: fc.oneof(fc.integer({ min: 0, max: 12 }).map((c) => 0x0a000001 + c), fc.constantFrom(0xffffffff, -1, -7)),
    host: fc.integer({ min: 0, max: 3 }),
    at: fc.oneof(fc.double({ min: 0, max: 600, noNaN: true }), fc.double({ min: 0, max: 3e6, noNaN: true })),
    jitter: fc.integer({ min: -3, max: 3 }),
    noTsVal: fc.boolean().map((b) => b && Math.random() < 0.1),
  }),
  { minLength: 0, maxLength: 400, size: 'max' },
);

type Records = typeof RECORDS extends fc.Arbitrary<infer T> ? T : never;

/** The hosts behind one client tick at one rate (one kernel), each from its own offset. */
const RATES = [1000, 250, 100];

function layOut(records: Records): Float64Array {
  const r = new Float64Array(records.length * LAYOUT.stride).fill(7);
  records.forEach((x, i) => {
    const o = i * LAYOUT.stride;
    r[o + LAYOUT.client] = x.client;
    r[o + LAYOUT.flow] = i + 1;
    r[o + LAYOUT.at] = T0 + x.at;
    const rate = RATES[Math.abs(x.client) % 3]!;
    r[o + LAYOUT.tsVal] = x.noTsVal ? -1 : ((x.client * 7919 + x.host * 0x3fffffff + Math.round(rate * x.at) + x.jitter) >>> 0);
  });
  return r;
}

test('the addon has clockCensus', () => {
  const load = loadNativeAddon();
  assert.ok('addon' in load && typeof load.addon.clockCensus === 'function', 'reason' in load ? load.reason : 'clockCensus missing');
});

test('clockCensus in C keeps the same clients, counts and records as in JavaScript', () => {
  let kept = 0;
  fc.assert(
    fc.property(RECORDS, fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 30 }), (records, skip) => {
      const r = layOut(records);
      const skipFlows = new Set(skip);
      const c = clockCensus(r, records.length, LAYOUT, skipFlows);
      const js = clockCensus(r, records.length, LAYOUT, skipFlows, false);
      assert.deepEqual([...c.clients], [...js.clients]);
      assert.deepEqual([...c.records], [...js.records]);
      kept += js.clients.length / CENSUS_FIELDS;
    }),
    { numRuns: 500 },
  );
  assert.ok(kept > 50, `${kept} clients kept over all runs`);
});

test('clockCensus refuses a layout outside its records', () => {
  const load = loadNativeAddon();
  assert.ok('addon' in load);
  assert.throws(() => load.addon.clockCensus!(new Float64Array(10), 3, Int32Array.of(4, 0, 1, 2, 3), new Float64Array()), RangeError);
  assert.throws(() => load.addon.clockCensus!(new Float64Array(12), 3, Int32Array.of(4, 0, 1, 2, 9), new Float64Array()), RangeError);
});
