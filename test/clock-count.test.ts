import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { clockCount, estimateClocks, type TimestampSample } from '../src/diagnose/timestamp-clocks';

const T0 = 1_700_000_000;

/** SYNs of a few hosts: each its clock (offset, 1000/250/100 Hz), SYNs at given seconds with a little jitter in ticks. */
const HOSTS = fc.array(
  fc.record({
    offset: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0xffffff00, max: 0xffffffff })),
    rate: fc.constantFrom(1000, 250, 100),
    syns: fc.array(fc.record({ at: fc.double({ min: 0, max: 600, noNaN: true }), jitter: fc.integer({ min: -80, max: 80 }) }), { minLength: 1, maxLength: 6 }),
  }),
  { minLength: 1, maxLength: 5 },
);

function samplesOf(hosts: { offset: number; rate: number; syns: { at: number; jitter: number }[] }[]): TimestampSample[] {
  return hosts.flatMap((h) => h.syns.map((s) => ({ at: T0 + s.at, tsVal: (h.offset + Math.round(h.rate * s.at) + s.jitter) >>> 0 })));
}

test('clockCount gives the clock count of estimateClocks, for any mix of hosts, rates and offsets near the wrap', () => {
  fc.assert(
    fc.property(HOSTS, (hosts) => {
      const samples = samplesOf(hosts);
      assert.equal(clockCount(samples), estimateClocks(samples).clocks);
    }),
    { numRuns: 2000 },
  );
});

test('clockCount: one host is one clock, three hosts far apart three, none zero', () => {
  const host = (offset: number, ats: number[]) => ats.map((at) => ({ at: T0 + at, tsVal: (offset + at * 1000) >>> 0 }));
  assert.equal(clockCount(host(5_000, [0, 1, 3, 7])), 1);
  assert.equal(clockCount([...host(5_000, [0, 4]), ...host(900_000_000, [1, 2]), ...host(4_294_967_000, [3, 9])]), 3);
  assert.equal(clockCount([]), 0);
});
