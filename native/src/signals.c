/*
 * "A second Ctrl-C exits at once": JavaScript's signal listeners run only when the event
 * loop is free, and building a report can keep it busy for seconds. This handler sits in
 * front of libuv's and passes every signal on to it. From the second stop signal on it
 * also sets a timer: if JavaScript has not exited within GRACE_US (its listener exits 130
 * after removing the trace instance and flushing --write), the process ends right there
 * with _exit(130), whatever JavaScript is doing; a third signal ends it at once. Only
 * async-signal-safe calls are made in the handlers.
 */
#define _GNU_SOURCE
#include "signals.h"

#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "errors.h"

#define MAX_SIGNALS 8
#define GRACE_US 300000

static volatile sig_atomic_t received = 0;
static int armed[MAX_SIGNALS];
static struct sigaction previous[MAX_SIGNALS];
static int armed_count = 0;

static void on_grace_over(int sig) { _exit(130); }

static void on_stop_signal(int sig, siginfo_t *info, void *context) {
  if (received >= 2) _exit(130);
  if (received++ == 1) {
    struct sigaction alarm_action;
    memset(&alarm_action, 0, sizeof alarm_action);
    alarm_action.sa_handler = on_grace_over;
    sigaction(SIGALRM, &alarm_action, NULL);
    struct itimerval grace = {{0, 0}, {0, GRACE_US}};
    setitimer(ITIMER_REAL, &grace, NULL);
  }
  for (int i = 0; i < armed_count; i++) {
    if (armed[i] != sig) continue;
    struct sigaction *p = &previous[i];
    if (p->sa_flags & SA_SIGINFO) {
      if (p->sa_sigaction != NULL) p->sa_sigaction(sig, info, context);
    } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
      p->sa_handler(sig);
    }
  }
}

static void disarm(void) {
  for (int i = 0; i < armed_count; i++) sigaction(armed[i], &previous[i], NULL);
  armed_count = 0;
}

napi_value exit_on_second_signal(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_array = false;
  if (argc >= 1) NAPI_CALL(env, napi_is_array(env, argv[0], &is_array));
  if (!is_array) return throw_coded_error(env, "ERR_INVALID_ARG_TYPE", "signals must be an array of signal numbers");
  uint32_t length = 0;
  NAPI_CALL(env, napi_get_array_length(env, argv[0], &length));
  if (length > MAX_SIGNALS) return throw_coded_error(env, "ERR_INVALID_ARG_VALUE", "at most %d signals", MAX_SIGNALS);
  int numbers[MAX_SIGNALS];
  for (uint32_t i = 0; i < length; i++) {
    napi_value item;
    NAPI_CALL(env, napi_get_element(env, argv[0], i, &item));
    int32_t n = 0;
    if (napi_get_value_int32(env, item, &n) != napi_ok || n <= 0 || n >= NSIG || n == SIGKILL || n == SIGSTOP) {
      return throw_coded_error(env, "ERR_INVALID_ARG_VALUE", "not a signal number that can be caught");
    }
    numbers[i] = n;
  }
  disarm();
  received = 0;
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_stop_signal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&action.sa_mask);
  for (uint32_t i = 0; i < length; i++) {
    if (sigaction(numbers[i], &action, &previous[armed_count]) != 0) continue;
    armed[armed_count++] = numbers[i];
  }
  return NULL;
}

napi_value restore_signals(napi_env env, napi_callback_info info) {
  disarm();
  return NULL;
}
