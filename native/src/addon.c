/* synscope_native: setns(2) and batched libpcap capture, on plain Node-API. */
#include <node_api.h>

#include "capture.h"
#include "netns.h"

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"runInNetns", NULL, run_in_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"enterNetns", NULL, enter_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openCapture", NULL, open_capture, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
