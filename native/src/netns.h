#ifndef SYNSCOPE_NETNS_H
#define SYNSCOPE_NETNS_H

#include <node_api.h>

/* runInNetns(nsPath, fn): call fn with the calling thread in another network namespace. */
napi_value run_in_netns(napi_env env, napi_callback_info info);

/* enterNetns(nsPath): move the calling thread for good (one-shot child processes). */
napi_value enter_netns(napi_env env, napi_callback_info info);

#endif
