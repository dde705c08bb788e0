/*
 * setns(2) for JavaScript. setns moves only the calling thread, so the network
 * namespace to return to is the thread's own (/proc/thread-self), not the
 * process's: that keeps nested calls and worker threads right.
 */
#define _GNU_SOURCE
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"

#define THREAD_NETNS "/proc/thread-self/ns/net"

static bool read_path_argument(napi_env env, napi_value value, char *path, size_t size) {
  napi_valuetype type = napi_undefined;
  if (value != NULL) napi_typeof(env, value, &type);
  if (type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "nsPath must be a string");
    return false;
  }
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) {
    throw_napi_failure(env);
    return false;
  }
  if (length >= size) {
    throw_coded_error(env, "ENAMETOOLONG", "network namespace path is too long (%zu bytes)", length);
    return false;
  }
  napi_get_value_string_utf8(env, value, path, size, &length);
  return true;
}

/* Returns the fd, or -1 with a JS exception pending. */
static int open_namespace(napi_env env, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    throw_coded_error(env, errno_name(err), "cannot open network namespace %s: %s", path, strerror(err));
  }
  return fd;
}

/* Returns false with a JS exception pending. */
static bool switch_to(napi_env env, int fd, const char *path) {
  if (setns(fd, CLONE_NEWNET) == 0) return true;
  int err = errno;
  if (err == EPERM) {
    throw_coded_error(env, "EPERM", "cannot enter network namespace %s: CAP_SYS_ADMIN is needed (run as root)", path);
  } else if (err == EINVAL) {
    throw_coded_error(env, "EINVAL", "cannot enter %s: not a network namespace", path);
  } else {
    throw_coded_error(env, errno_name(err), "cannot enter network namespace %s: %s", path, strerror(err));
  }
  return false;
}

/* A process left in the wrong namespace would capture and report on the wrong host: crash instead. */
static void switch_back_or_abort(int original) {
  if (setns(original, CLONE_NEWNET) == 0) return;
  fprintf(stderr, "synscope: cannot return to the original network namespace (%s); aborting\n", strerror(errno));
  abort();
}

napi_value run_in_netns(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2] = {NULL, NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));

  char path[PATH_MAX];
  if (!read_path_argument(env, argv[0], path, sizeof path)) return NULL;
  napi_valuetype fn_type = napi_undefined;
  if (argv[1] != NULL) napi_typeof(env, argv[1], &fn_type);
  if (fn_type != napi_function) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "fn must be a function");
    return NULL;
  }
  napi_value receiver;
  NAPI_CALL(env, napi_get_undefined(env, &receiver));

  int original = open_namespace(env, THREAD_NETNS);
  if (original < 0) return NULL;
  int target = open_namespace(env, path);
  if (target < 0) {
    close(original);
    return NULL;
  }
  bool entered = switch_to(env, target, path);
  close(target);
  if (!entered) {
    close(original);
    return NULL;
  }

  napi_value result = NULL;
  napi_status status = napi_call_function(env, receiver, argv[1], 0, NULL, &result);
  switch_back_or_abort(original);
  close(original);
  /* When fn threw, its exception is pending and propagates from this return. */
  return status == napi_ok ? result : throw_napi_failure(env);
}

napi_value enter_netns(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));

  char path[PATH_MAX];
  if (!read_path_argument(env, argv[0], path, sizeof path)) return NULL;
  int target = open_namespace(env, path);
  if (target < 0) return NULL;
  switch_to(env, target, path);
  close(target);
  return NULL;
}
