#ifndef SYNSCOPE_ERRORS_H
#define SYNSCOPE_ERRORS_H

#include <node_api.h>

/* Throw `new Error(message)` with `code` set (like Node's system errors). Always returns NULL. */
napi_value throw_coded_error(napi_env env, const char *code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* Throw what the last failed napi_* call reported, unless an exception is already pending. */
napi_value throw_napi_failure(napi_env env);

/* The symbolic name of an errno value ("ENOENT"), as Node puts it in `err.code`. */
const char *errno_name(int err);

#define NAPI_CALL(env, call)                 \
  do {                                       \
    if ((call) != napi_ok) {                 \
      return throw_napi_failure(env);        \
    }                                        \
  } while (0)

#endif
