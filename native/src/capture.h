#ifndef SYNSCOPE_CAPTURE_H
#define SYNSCOPE_CAPTURE_H

#include <node_api.h>

/* openCapture({ device, filter, snaplen, bufferBytes, promiscuous }) -> capture handle. */
napi_value open_capture(napi_env env, napi_callback_info info);

#endif
