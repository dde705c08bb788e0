import { test } from 'node:test';
import assert from 'node:assert/strict';
import { END_RFC3339_SECOND, FIRST_RFC3339_SECOND, RFC3339_PATTERN, hasRfc3339, rfc3339 } from '../src/time/rfc3339';

test('capture times print as RFC 3339 UTC with microseconds, rounded', () => {
  assert.equal(rfc3339(1795353188.508792), '2026-11-22T13:13:08.508792Z');
  assert.equal(rfc3339(0), '1970-01-01T00:00:00.000000Z');
  assert.equal(rfc3339(1.9999996), '1970-01-01T00:00:02.000000Z');
  assert.equal(rfc3339(-1.5), '1969-12-31T23:59:58.500000Z');
});

test('with 3 digits the fraction is cut as Date.toISOString cuts it', () => {
  for (const t of [1795353198.8354, 1795353198.8356, 1.0005, 0.9999]) assert.equal(rfc3339(t, 3), new Date(t * 1000).toISOString());
});

test('years 0001 and 9999 are the ends; outside them, NaN and infinities give null', () => {
  assert.equal(rfc3339(FIRST_RFC3339_SECOND), '0001-01-01T00:00:00.000000Z');
  assert.equal(rfc3339(END_RFC3339_SECOND - 1), '9999-12-31T23:59:59.000000Z');
  assert.equal(rfc3339(END_RFC3339_SECOND - 0.0000001), null, 'rounds up into year 10000');
  for (const t of [END_RFC3339_SECOND, FIRST_RFC3339_SECOND - 1, 2 ** 64 / 1e6, 2 ** 63 / 1e6, 2 ** 64, -(2 ** 62), NaN, Infinity, -Infinity]) {
    assert.equal(rfc3339(t), null, String(t));
    assert.equal(rfc3339(t, 3), null, String(t));
    assert.equal(hasRfc3339(t), false);
  }
});

test('the pattern a context file\'s capturedAt must match takes what Date.toISOString writes and nothing with a year past 9999', () => {
  const re = new RegExp(RFC3339_PATTERN);
  for (const ok of ['2026-11-22T13:13:24.849Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999999+02:00']) assert.match(ok, re);
  for (const bad of ['+148108-07-06T14:17:00.000Z', '0000-01-01T00:00:00Z', '18446744073709.55', '2026-13-01T00:00:00Z', '2026-11-22 13:13:24Z', '']) assert.doesNotMatch(bad, re);
});
