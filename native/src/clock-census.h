#ifndef SYNSCOPE_CLOCK_CENSUS_H
#define SYNSCOPE_CLOCK_CENSUS_H
#include <node_api.h>

/* clockCensus(records, count, layout: Int32Array, skipFlows: Float64Array) -> { clients: Float64Array, records: Int32Array } */
napi_value clock_census(napi_env env, napi_callback_info info);

#endif
