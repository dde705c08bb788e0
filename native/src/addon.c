/* synscope_native: setns(2), batched libpcap capture, tcpdump filters on file records, a second-signal exit, huge-page advice, the clock census's counts, the C flow tracker, on plain Node-API. */
#include <node_api.h>

#include "capture.h"
#include "clock-census.h"
#include "clock-count.h"
#include "filter.h"
#include "huge-pages.h"
#include "netns.h"
#include "signals.h"

napi_value engine_init(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor functions[] = {
      {"runInNetns", NULL, run_in_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"enterNetns", NULL, enter_netns, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openCapture", NULL, open_capture, NULL, NULL, NULL, napi_enumerable, NULL},
      {"compileFilter", NULL, compile_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"exitOnSecondSignal", NULL, exit_on_second_signal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"restoreSignals", NULL, restore_signals, NULL, NULL, NULL, napi_enumerable, NULL},
      {"adviseHugePages", NULL, advise_huge_pages, NULL, NULL, NULL, napi_enumerable, NULL},
      {"clockCounts", NULL, clock_counts, NULL, NULL, NULL, napi_enumerable, NULL},
      {"clockCensus", NULL, clock_census, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  /* The C flow tracker (src/engine/): trackerCreate, trackerAddBatch, trackerRelease, trackerFinish, trackerSide. */
  return engine_init(env, exports);
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
