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
 * The handle is freed by close (or, if the thread's environment ends first, by an async cleanup hook, so a worker
 * that exits with a timer open leaves no handle on its loop). A callback that throws is reported as an uncaught
 * exception, as a throwing setTimeout callback would be.
 */
#define _GNU_SOURCE
#include "precise-timer.h"

#include "arguments.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

typedef struct precise_timer {
  uv_poll_t poll; /* first, so the handle's address is the timer's */
  int fd;
  int closing;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  napi_async_cleanup_hook_handle cleanup;
  struct precise_timer **slot; /* the JS external's pointer to this timer, cleared when the timer shuts */
} precise_timer;

/*
 * After libuv lets go of the handle, on a later turn of the loop: the callback and async context are released here,
 * not in shut(), because shut() may run inside the callback itself (a clock stopped by its own tick).
 */
static void on_closed(uv_handle_t *handle) {
  precise_timer *t = (precise_timer *)handle;
  napi_delete_reference(t->env, t->callback);
  napi_async_destroy(t->env, t->context);
  if (t->cleanup) napi_remove_async_cleanup_hook(t->cleanup);
  free(t);
}

static void shut(precise_timer *t) {
  if (t->closing) return;
  t->closing = 1;
  if (t->slot) *t->slot = NULL;
  t->slot = NULL;
  uv_poll_stop(&t->poll);
  close(t->fd);
  uv_close((uv_handle_t *)&t->poll, on_closed);
}

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *data) {
  precise_timer *t = data;
  (void)handle;
  shut(t);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  precise_timer *t = (precise_timer *)handle;
  uint64_t expirations;
  (void)events;
  /*
   * Cleared first: a level-triggered poll would otherwise call again at once. EAGAIN: the timer was armed again
   * after the loop saw it ready (arming clears the count of expiries not yet read), so there is nothing to call.
   */
  if (status < 0 || read(t->fd, &expirations, sizeof expirations) != (ssize_t)sizeof expirations || t->closing) return;
  napi_env env = t->env;
  napi_handle_scope scope;
  napi_value fn, recv, result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, t->callback, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok) {
    /*
     * make_callback, not call_function: it runs process.nextTick and microtasks after, as libuv's own timers do.
     * The receiver must be an object for N-API; the callback is a closure and ignores `this`.
     */
    if (napi_make_callback(env, t->context, recv, fn, 0, NULL, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Marks the externals made here, so that another module's external is refused rather than read as a timer. */
static const napi_type_tag TIMER_TAG = {0x7069617461746d72ULL, 0x707265636973652dULL};

static precise_timer **slot_arg(napi_env env, napi_value v) {
  precise_timer **slot = NULL;
  napi_valuetype type;
  bool tagged = false;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_check_object_type_tag(env, v, &TIMER_TAG, &tagged) != napi_ok ||
      !tagged || napi_get_value_external(env, v, (void **)&slot) != napi_ok || !slot) {
    napi_throw_type_error(env, NULL, "media-io: expected a timer from timerOpen");
    return NULL;
  }
  return slot;
}

static precise_timer *timer_arg(napi_env env, napi_value v) {
  precise_timer **slot = slot_arg(env, v);
  if (!slot) return NULL;
  if (!*slot) {
    napi_throw_error(env, NULL, "media-io: the timer is closed");
    return NULL;
  }
  return *slot;
}

/*
 * The external holds a slot pointing at the timer, so that a closed timer is an Error to use, never a dangling
 * pointer. A callback that reaches its own handle (FrameClock's does, through the PreciseTimer) keeps both alive
 * until close, like a pending setTimeout; a handle collected with its timer still open (dropped without closing,
 * by a callback that never reaches it) shuts the timer.
 */
static void finalize_slot(napi_env env, void *data, void *hint) {
  precise_timer **slot = data;
  (void)env;
  (void)hint;
  if (*slot) shut(*slot);
  free(slot);
}

/* timerOpen(callback): a disarmed timer on this thread's loop that does not keep the loop alive. */
static napi_value js_timer_open(napi_env env, napi_callback_info info) {
  napi_value argv[1], external, name;
  napi_valuetype type;
  uv_loop_t *loop;
  if (!args(env, info, 1, argv)) return NULL;
  if (napi_typeof(env, argv[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "media-io: timerOpen expects a callback");
    return NULL;
  }
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "media-io: no event loop");
    return NULL;
  }
  precise_timer *t = calloc(1, sizeof *t);
  precise_timer **slot = calloc(1, sizeof *slot);
  if (!t || !slot) {
    free(t);
    free(slot);
    napi_throw_error(env, NULL, "media-io: out of memory");
    return NULL;
  }
  t->env = env;
  t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (t->fd < 0 || uv_poll_init(loop, &t->poll, t->fd) != 0) {
    const char *why = t->fd < 0 ? "media-io: timerfd_create failed" : "media-io: the event loop cannot watch the timerfd";
    if (t->fd >= 0) close(t->fd);
    free(t);
    free(slot);
    napi_throw_error(env, NULL, why);
    return NULL;
  }
  uv_unref((uv_handle_t *)&t->poll); /* like an unref'd setTimeout: a running clock does not hold the process open */
  napi_create_reference(env, argv[0], 1, &t->callback);
  napi_create_string_utf8(env, "pi-ata:precise-timer", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &t->context);
  napi_add_async_cleanup_hook(env, on_env_teardown, t, &t->cleanup);
  uv_poll_start(&t->poll, UV_READABLE, on_readable);
  *slot = t;
  t->slot = slot;
  napi_create_external(env, slot, finalize_slot, NULL, &external);
  napi_type_tag_object(env, external, &TIMER_TAG);
  return external;
}

/* timerArm(timer, deadline): fires once when CLOCK_MONOTONIC reaches `deadline` ms (at once if past); 0 or -errno. */
static napi_value js_timer_arm(napi_env env, napi_callback_info info) {
  napi_value argv[2], r;
  precise_timer *t;
  struct itimerspec spec = {{0, 0}, {0, 0}};
  if (!args(env, info, 2, argv) || !(t = timer_arg(env, argv[0])) || !deadline_arg(env, argv[1], &spec.it_value)) return NULL;
  /* An all-zero it_value would disarm: a deadline at or before the clock's zero is 1 ns, long past. */
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  napi_create_int32(env, timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &spec, NULL) < 0 ? -errno : 0, &r);
  return r;
}

/* timerClose(timer): stops and frees it; using it afterwards is an Error. Closing twice is a no-op. */
static napi_value js_timer_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  precise_timer **slot;
  if (!args(env, info, 1, argv) || !(slot = slot_arg(env, argv[0]))) return NULL;
  if (*slot) shut(*slot);
  return NULL;
}

void precise_timer_export(napi_env env, napi_value exports) {
  static const struct {
    const char *name;
    napi_callback cb;
  } fns[] = {{"timerOpen", js_timer_open}, {"timerArm", js_timer_arm}, {"timerClose", js_timer_close}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &fn);
    napi_set_named_property(env, exports, fns[i].name, fn);
  }
}
