#ifndef SYNSCOPE_FILTER_H
#define SYNSCOPE_FILTER_H

#include <node_api.h>

/* compileFilter(linkType, snaplen, expression) -> { matches(buffer, offset, caplen, origLen) }. */
napi_value compile_filter(napi_env env, napi_callback_info info);

#endif
