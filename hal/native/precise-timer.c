/*
 * A timer with microsecond precision on the calling thread's own event loop: a timerfd armed to an absolute
 * CLOCK_MONOTONIC deadline and watched by libuv (uv_poll), whose callback runs in JavaScript like any other I/O.
 *
 * Why: libuv's timers count whole milliseconds, so a 20 ms packet clock on the main thread either fires up to 1 ms
 * off or, as hal/frame-clock.ts does without this, wakes a millisecond early on a timer and sleeps the rest in
 * Atomics.wait: two wake-ups per tick (the largest part of a call's CPU on the development VM, where waking a Node
 * thread costs about 100 us)
 * and the whole thread blocked for the last millisecond, SIP and the API included. A timerfd wakes the loop once, at
 * the deadline, and blocks nothing.
 *
 * The watching itself (the handle's life, clean-up when a worker ends, a throwing callback as an uncaught exception,
 * as a throwing setTimeout callback would be) is fd-watch.c's; this file is what makes the descriptor a timer.
 */
#define _GNU_SOURCE
#include "precise-timer.h"

#include "arguments.h"
#include "fd-watch.h"

#include <errno.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* Marks the externals made here, so that another module's external, or a pipe's watch, is refused as a timer. */
static const napi_type_tag TIMER_TAG = {0x7069617461746d72ULL, 0x707265636973652dULL};
static const char NOT_A_TIMER[] = "media-io: expected a timer from timerOpen";

/*
 * The expiry count is read first: a level-triggered poll would otherwise call again at once. It is what the
 * callback is given: 1 for a one-shot timer, and for a periodic one the periods that ended since the last call
 * (more than 1 after the thread was late). 0 (EAGAIN): the timer was armed again after the loop saw it ready
 * (arming clears the count of expiries not yet read), so there is nothing to call.
 */
static int timer_ready(int fd, int status) {
  uint64_t expirations;
  if (status < 0 || read(fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations) return 0;
  return expirations > INT32_MAX ? INT32_MAX : (int)expirations;
}

/* timerOpen(callback): a disarmed timer on this thread's loop that does not keep the loop alive. */
static napi_value js_timer_open(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  napi_valuetype type;
  if (!args(env, info, 1, argv)) return NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "media-io: timerOpen expects a callback");
    return NULL;
  }
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    napi_throw_error(env, NULL, "media-io: timerfd_create failed");
    return NULL;
  }
  return fd_watch_open(env, fd, argv[0], timer_ready, &TIMER_TAG, "pi-ata:precise-timer");
}

/*
 * timerArm(timer, deadline[, periodMs]): fires when CLOCK_MONOTONIC reaches `deadline` ms (at once if past), and with
 * a period, every periodMs after that for good: the kernel advances an interval timer from its previous expiry, never
 * from when it was read, so its ticks do not drift. 0 or -errno.
 */
static napi_value js_timer_arm(napi_env env, napi_callback_info info) {
  napi_value argv[3], r;
  size_t argc = 3;
  int fd;
  struct itimerspec spec = {{0, 0}, {0, 0}};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "media-io: too few arguments");
    return NULL;
  }
  if ((fd = fd_watch_fd(env, argv[0], &TIMER_TAG, NOT_A_TIMER)) < 0 || !deadline_arg(env, argv[1], &spec.it_value)) return NULL;
  if (argc > 2) {
    napi_valuetype type;
    if (napi_typeof(env, argv[2], &type) != napi_ok) return NULL;
    if (type != napi_undefined) {
      double period;
      /* At least 0.1 ms: a shorter period would be a callback storm, never a packet clock. */
      if (napi_get_value_double(env, argv[2], &period) != napi_ok || !(period >= 0.1 && period <= 1e9)) {
        napi_throw_type_error(env, NULL, "media-io: expected a period of 0.1 ms to 1e9 ms");
        return NULL;
      }
      deadline_arg(env, argv[2], &spec.it_interval);
    }
  }
  /* An all-zero it_value would disarm: a deadline at or before the clock's zero is 1 ns, long past. */
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  napi_create_int32(env, timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, NULL) < 0 ? -errno : 0, &r);
  return r;
}

/* timerClose(timer): stops and frees it; using it afterwards is an Error. Closing twice is a no-op. */
static napi_value js_timer_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args(env, info, 1, argv)) fd_watch_close(env, argv[0], &TIMER_TAG, NOT_A_TIMER);
  return NULL;
}

void precise_timer_export(napi_env env, napi_value exports) {
  static const named_function fns[] = {{"timerOpen", js_timer_open}, {"timerArm", js_timer_arm}, {"timerClose", js_timer_close}};
  export_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
