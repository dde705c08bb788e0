/*
 * clockCountOf (src/diagnose/timestamp-clocks.ts) for many clients in one call: the report's
 * census of TCP timestamp clocks per client address runs it for every address with a few
 * SYNs (tens of thousands on a busy host), where the JavaScript spends most of its time
 * in remainders and sorting. The same arithmetic in the same order (no contraction into
 * FMA: -ffp-contract=off), so the counts are the JavaScript's to the bit.
 */
#include "clock-count.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "errors.h"

#define TWO_32 4294967296.0
/* Samples per estimate at most: an offset (< 2^32) times this plus an index stays below 2^53. */
#define INDEX_SPAN 1048576.0

static const double RATES[] = {1000, 250, 100};

/* JavaScript's ((v % 2^32) + 2^32) % 2^32 (% on doubles is fmod) for an integer v: without the two
 * remainders when v is within one turn of the circle, as offsets and their differences nearly always are. */
static double mod32(double v) {
  if (v >= 0 && v < TWO_32) return v;
  if (v < 0 && v >= -TWO_32) return v + TWO_32 < TWO_32 ? v + TWO_32 : 0;
  return fmod(fmod(v, TWO_32) + TWO_32, TWO_32);
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Keys are distinct (each ends in its index): any correct sort gives Float64Array.sort's order. */
static void sort_keys(double *keys, int n) {
  if (n > 32) {
    qsort(keys, n, sizeof(double), compare);
    return;
  }
  for (int i = 1; i < n; i++) {
    double v = keys[i];
    int j = i - 1;
    while (j >= 0 && keys[j] > v) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = v;
  }
}

int clock_count(const double *at, const double *tsVal, int n, double *keys) {
  if (n == 0) return 0;
  double t0 = INFINITY, t1 = -INFINITY;
  for (int i = 0; i < n; i++) {
    if (at[i] < t0) t0 = at[i];
    if (at[i] > t1) t1 = at[i];
  }
  int fewest = INT32_MAX;
  for (int r = 0; r < 3; r++) {
    double rate = RATES[r];
    /* Math.round of a value >= 0 (at >= t0) is round half up, as C's round() is for it. */
    for (int i = 0; i < n; i++) keys[i] = mod32(tsVal[i] - round(rate * (at[i] - t0))) * INDEX_SPAN + i;
    sort_keys(keys, n);
    double tolerance = 2 + rate * 0.05 + rate * (t1 - t0) * 1e-3;
    int wide = 0;
    for (int k = 0; k < n; k++) {
      double here = floor(keys[k] / INDEX_SPAN), before = floor(keys[(k + n - 1) % n] / INDEX_SPAN);
      if (mod32(here - before) > tolerance) wide++;
    }
    int clocks = wide > 1 ? wide : 1;
    if (clocks < fewest) fewest = clocks;
    if (fewest == 1) break;
  }
  return fewest;
}

static int float64s(napi_env env, napi_value v, double **data, size_t *n) {
  napi_typedarray_type type;
  return napi_get_typedarray_info(env, v, &type, n, (void **)data, NULL, NULL) == napi_ok && type == napi_float64_array;
}

static int int32s(napi_env env, napi_value v, int32_t **data, size_t *n) {
  napi_typedarray_type type;
  return napi_get_typedarray_info(env, v, &type, n, (void **)data, NULL, NULL) == napi_ok && type == napi_int32_array;
}

/* clockCounts(at, tsVal, runEnds, counts): client c's samples are at[i], tsVal[i] for i from runEnds[c - 1]
 * (0 for the first) to runEnds[c]; counts[c] gets their clockCountOf. */
napi_value clock_counts(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {NULL, NULL, NULL, NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double *at, *tsVal;
  int32_t *ends, *counts;
  size_t nAt, nTs, nRuns, nCounts;
  if (argc < 4 || !float64s(env, argv[0], &at, &nAt) || !float64s(env, argv[1], &tsVal, &nTs) || !int32s(env, argv[2], &ends, &nRuns) ||
      !int32s(env, argv[3], &counts, &nCounts) || nCounts < nRuns) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "clockCounts(at: Float64Array, tsVal: Float64Array, runEnds: Int32Array, counts: Int32Array)");
    return NULL;
  }
  size_t samples = nAt < nTs ? nAt : nTs;
  int32_t start = 0, longest = 0;
  for (size_t c = 0; c < nRuns; c++) {
    if (ends[c] < start || (size_t)ends[c] > samples || ends[c] - start > (int32_t)INDEX_SPAN) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "clockCounts: runEnds must grow, within the samples, at most 2^20 apart");
      return NULL;
    }
    if (ends[c] - start > longest) longest = ends[c] - start;
    start = ends[c];
  }
  double *keys = malloc(((size_t)longest + 1) * sizeof(double));
  if (keys == NULL) {
    napi_throw_error(env, "ENOMEM", "clockCounts: out of memory");
    return NULL;
  }
  start = 0;
  for (size_t c = 0; c < nRuns; c++) {
    counts[c] = clock_count(at + start, tsVal + start, ends[c] - start, keys);
    start = ends[c];
  }
  free(keys);
  return NULL;
}
