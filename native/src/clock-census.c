/*
 * The census of TCP timestamp clocks per client address (AttemptLog.clientClocks) over the
 * attempt log's records in one call: the records of each IPv4 client taken together (sorted
 * by client, then record), each client with enough of them counted (clock_count), and only
 * the clients the count cannot rule out handed back, in the order of their first attempt.
 * censusInJs in src/analysis/clock-census.ts is the same in JavaScript, and its oracle.
 */
#include "clock-census.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock-count.h"
#include "errors.h"

/* Fewer timestamped attempts than this say nothing (MIN_CLOCK_SYNS in src/diagnose/client-clocks.ts). */
#define MIN_CLOCK_SYNS 3
/* clock_count takes at most this many samples. */
#define MAX_SAMPLES 1048576

/* LSD radix sort of 64-bit keys, 16 bits a pass (the keys are distinct: any correct sort gives one order). */
static int radix_sort(uint64_t *keys, size_t n) {
  uint64_t *tmp = malloc((n + 1) * sizeof(uint64_t));
  size_t *count = malloc(65537 * sizeof(size_t));
  if (tmp == NULL || count == NULL) {
    free(tmp);
    free(count);
    return 0;
  }
  for (int shift = 0; shift < 64; shift += 16) {
    memset(count, 0, 65537 * sizeof(size_t));
    for (size_t i = 0; i < n; i++) count[((keys[i] >> shift) & 0xffff) + 1]++;
    if (count[((keys[0] >> shift) & 0xffff) + 1] == n) continue;
    for (int d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (size_t i = 0; i < n; i++) tmp[count[(keys[i] >> shift) & 0xffff]++] = keys[i];
    memcpy(keys, tmp, n * sizeof(uint64_t));
  }
  free(tmp);
  free(count);
  return 1;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  double client, first, start, end, clocks;
} Kept;

static int by_first(const void *a, const void *b) {
  double x = ((const Kept *)a)->first, y = ((const Kept *)b)->first;
  return x < y ? -1 : x > y;
}

static napi_value census(napi_env env, const double *r, size_t count, const int32_t *layout, double *skip, size_t nSkip) {
  size_t stride = (size_t)layout[0];
  int fClient = layout[1], fFlow = layout[2], fAt = layout[3], fTs = layout[4];
  qsort(skip, nSkip, sizeof(double), by_value);
  uint64_t *keys = malloc((count + 1) * sizeof(uint64_t));
  int32_t *records = malloc((count + 1) * sizeof(int32_t));
  double *at = malloc((count + 1) * sizeof(double)), *ts = malloc((count + 1) * sizeof(double)), *work = malloc((count + 1) * sizeof(double));
  Kept *kept = malloc((count / MIN_CLOCK_SYNS + 1) * sizeof(Kept));
  napi_value result = NULL;
  if (keys == NULL || records == NULL || at == NULL || ts == NULL || work == NULL || kept == NULL) goto out;
  size_t n = 0;
  for (size_t i = 0; i < count; i++) {
    const double *x = r + i * stride;
    double flow = x[fFlow];
    if (x[fClient] < 0 || x[fTs] < 0 || (nSkip > 0 && bsearch(&flow, skip, nSkip, sizeof(double), by_value) != NULL)) continue;
    keys[n++] = (uint64_t)x[fClient] << 32 | i;
  }
  if (n > 0 && !radix_sort(keys, n)) goto out;
  size_t nKept = 0, nRecords = 0;
  for (size_t start = 0; start < n;) {
    uint64_t client = keys[start] >> 32;
    size_t end = start + 1;
    while (end < n && keys[end] >> 32 == client) end++;
    size_t len = end - start;
    if (len >= MIN_CLOCK_SYNS && len <= MAX_SAMPLES) {
      for (size_t k = 0; k < len; k++) {
        const double *x = r + (keys[start + k] & 0xffffffffu) * stride;
        at[k] = x[fAt];
        ts[k] = x[fTs];
      }
      int clocks = clock_count(at, ts, (int)len, work);
      /* mayShowHosts (src/diagnose/client-clocks.ts): one clock, or one per SYN, says nothing of hosts. */
      if (clocks >= 2 && (size_t)clocks < len) kept[nKept++] = (Kept){(double)client, (double)(keys[start] & 0xffffffffu), (double)start, (double)end, clocks};
    }
    start = end;
  }
  /* In the order of their first record, each with its records from here on (start and end then count in records). */
  qsort(kept, nKept, sizeof(Kept), by_first);
  for (size_t c = 0; c < nKept; c++) {
    size_t from = (size_t)kept[c].start, to = (size_t)kept[c].end;
    kept[c].start = (double)nRecords;
    for (size_t k = from; k < to; k++) records[nRecords++] = (int32_t)(keys[k] & 0xffffffffu);
    kept[c].end = (double)nRecords;
  }
  napi_value clients, clientsBuf, recs, recsBuf;
  void *data;
  if (napi_create_arraybuffer(env, nKept * sizeof(Kept), &data, &clientsBuf) != napi_ok) goto out;
  if (nKept > 0) memcpy(data, kept, nKept * sizeof(Kept));
  if (napi_create_typedarray(env, napi_float64_array, nKept * 5, clientsBuf, 0, &clients) != napi_ok) goto out;
  if (napi_create_arraybuffer(env, nRecords * sizeof(int32_t), &data, &recsBuf) != napi_ok) goto out;
  if (nRecords > 0) memcpy(data, records, nRecords * sizeof(int32_t));
  if (napi_create_typedarray(env, napi_int32_array, nRecords, recsBuf, 0, &recs) != napi_ok) goto out;
  if (napi_create_object(env, &result) != napi_ok || napi_set_named_property(env, result, "clients", clients) != napi_ok ||
      napi_set_named_property(env, result, "records", recs) != napi_ok)
    result = NULL;
out:
  free(keys);
  free(records);
  free(at);
  free(ts);
  free(work);
  free(kept);
  if (result == NULL) napi_throw_error(env, "ENOMEM", "clockCensus: out of memory");
  return result;
}

/* clockCensus(records: Float64Array, count, layout: Int32Array [stride, client, flow, first SYN at, TSval], skipFlows: Float64Array)
 *   -> { clients: Float64Array of [client, first record, start, end, clocks] each, records: Int32Array }
 * Records of IPv4 clients (client >= 0) with a TSval, not of a flow in skipFlows. Client c's records
 * are records[start, end), in record order. */
napi_value clock_census(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4] = {NULL, NULL, NULL, NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type t0, t2, t3;
  size_t nRecords, nLayout, nSkip;
  double *records, *skip;
  int32_t *layout;
  double count;
  if (argc < 4 || napi_get_typedarray_info(env, argv[0], &t0, &nRecords, (void **)&records, NULL, NULL) != napi_ok || t0 != napi_float64_array ||
      napi_get_value_double(env, argv[1], &count) != napi_ok || napi_get_typedarray_info(env, argv[2], &t2, &nLayout, (void **)&layout, NULL, NULL) != napi_ok ||
      t2 != napi_int32_array || nLayout < 5 || napi_get_typedarray_info(env, argv[3], &t3, &nSkip, (void **)&skip, NULL, NULL) != napi_ok ||
      t3 != napi_float64_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "clockCensus(records: Float64Array, count, layout: Int32Array, skipFlows: Float64Array)");
    return NULL;
  }
  int stride = layout[0];
  int fieldsOk = stride > 0 && layout[1] >= 0 && layout[1] < stride && layout[2] >= 0 && layout[2] < stride && layout[3] >= 0 && layout[3] < stride &&
                 layout[4] >= 0 && layout[4] < stride;
  if (!fieldsOk || !(count >= 0 && count <= 1e8 && count * stride <= (double)nRecords)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "clockCensus: layout fields within the stride, count records within the array");
    return NULL;
  }
  /* Sorted in place: a copy, since the caller's array is its own. */
  double *skipCopy = malloc((nSkip + 1) * sizeof(double));
  if (skipCopy == NULL) {
    napi_throw_error(env, "ENOMEM", "clockCensus: out of memory");
    return NULL;
  }
  if (nSkip > 0) memcpy(skipCopy, skip, nSkip * sizeof(double));
  napi_value r = census(env, records, (size_t)count, layout, skipCopy, nSkip);
  free(skipCopy);
  return r;
}
