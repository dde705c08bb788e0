#ifndef SYNSCOPE_CLOCK_COUNT_H
#define SYNSCOPE_CLOCK_COUNT_H
#include <node_api.h>

/* clockCounts(at: Float64Array, tsVal: Float64Array, runEnds: Int32Array, counts: Int32Array) -> undefined */
napi_value clock_counts(napi_env env, napi_callback_info info);

/* clockCountOf of n samples (at most 2^20); keys: room for n doubles. */
int clock_count(const double *at, const double *tsVal, int n, double *keys);

#endif
