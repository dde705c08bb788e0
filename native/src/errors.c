#include "errors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

napi_value throw_coded_error(napi_env env, const char *code, const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  napi_throw_error(env, code, message);
  return NULL;
}

napi_value throw_napi_failure(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    const char *message = info != NULL && info->error_message != NULL ? info->error_message : "N-API call failed";
    napi_throw_error(env, NULL, message);
  }
  return NULL;
}

/* A table rather than glibc's strerrorname_np, which musl (Alpine hosts) lacks. */
const char *errno_name(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ELOOP: return "ELOOP";
    case EUSERS: return "EUSERS";
    default: return "EUNKNOWN";
  }
}
