#ifndef SYNSCOPE_SIGNALS_H
#define SYNSCOPE_SIGNALS_H

#include <node_api.h>

/* exitOnSecondSignal([signo...]): from now on the second of these signals ends the process with 130 within 0.3 s. */
napi_value exit_on_second_signal(napi_env env, napi_callback_info info);

/* restoreSignals(): put back the handlers exitOnSecondSignal found. */
napi_value restore_signals(napi_env env, napi_callback_info info);

#endif
