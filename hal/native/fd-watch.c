/*
 * See fd-watch.h. Why libuv and not a thread of our own: the callback is JavaScript on the thread that made the
 * watch, run as any other I/O callback (process.nextTick and microtasks after it), and the thread sleeps in the one
 * epoll_wait it would sleep in anyway.
 */
#define _GNU_SOURCE
#include "fd-watch.h"

#include "arguments.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

typedef struct fd_watch {
  uv_poll_t poll; /* first, so the handle's address is the watch's */
  int fd;
  int closing;
  fd_watch_ready ready;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  napi_async_cleanup_hook_handle cleanup;
  struct fd_watch **slot; /* the JS external's pointer to this watch, cleared when the watch shuts */
} fd_watch;

/*
 * After libuv lets go of the handle, on a later turn of the loop: the callback and async context are released here,
 * not in shut(), because shut() may run inside the callback itself (a clock stopped by its own tick, a pipe closed
 * at the end of its input).
 */
static void on_closed(uv_handle_t *handle) {
  fd_watch *w = (fd_watch *)handle;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  if (w->cleanup) napi_remove_async_cleanup_hook(w->cleanup);
  free(w);
}

static void shut(fd_watch *w) {
  if (w->closing) return;
  w->closing = 1;
  if (w->slot) *w->slot = NULL;
  w->slot = NULL;
  uv_poll_stop(&w->poll);
  close(w->fd);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

static void on_env_teardown(napi_async_cleanup_hook_handle handle, void *data) {
  (void)handle;
  shut(data);
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  fd_watch *w = (fd_watch *)handle;
  (void)events;
  int count;
  if (w->closing || (count = w->ready(w->fd, status)) <= 0) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_value fn, recv, result, arg;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, w->callback, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok &&
      napi_create_int32(env, count, &arg) == napi_ok) {
    /*
     * make_callback, not call_function: it runs process.nextTick and microtasks after, as libuv's own callbacks do.
     * The receiver must be an object for N-API; the callbacks are closures and ignore `this`.
     */
    if (napi_make_callback(env, w->context, recv, fn, 1, &arg, &result) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static fd_watch **slot_arg(napi_env env, napi_value v, const napi_type_tag *tag, const char *what) {
  fd_watch **slot = NULL;
  napi_valuetype type;
  bool tagged = false;
  if (napi_typeof(env, v, &type) != napi_ok || type != napi_external || napi_check_object_type_tag(env, v, tag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, v, (void **)&slot) != napi_ok || !slot) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  return slot;
}

/*
 * The external holds a slot pointing at the watch, so that a closed watch is an Error to use, never a dangling
 * pointer. A callback that reaches its own handle (FrameClock's does, through the PreciseTimer) keeps both alive
 * until close, like a pending setTimeout; a handle collected with its watch still open (dropped without closing,
 * by a callback that never reaches it) shuts the watch.
 */
static void finalize_slot(napi_env env, void *data, void *hint) {
  fd_watch **slot = data;
  (void)env;
  (void)hint;
  if (*slot) shut(*slot);
  free(slot);
}

napi_value fd_watch_open(napi_env env, int fd, napi_value callback, fd_watch_ready ready, const napi_type_tag *tag, const char *name) {
  napi_value external, resource;
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    close(fd);
    napi_throw_error(env, NULL, "media-io: no event loop");
    return NULL;
  }
  fd_watch *w = calloc(1, sizeof *w);
  fd_watch **slot = calloc(1, sizeof *slot);
  if (!w || !slot) {
    free(w);
    free(slot);
    close(fd);
    napi_throw_error(env, NULL, "media-io: out of memory");
    return NULL;
  }
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc != 0) {
    free(w);
    free(slot);
    /* Already watched (UV_EEXIST): the fd belongs to that watch, which closing it here would break. */
    if (rc != UV_EEXIST) close(fd);
    napi_throw_error(env, NULL, "media-io: the event loop cannot watch the descriptor");
    return NULL;
  }
  w->env = env;
  w->fd = fd;
  w->ready = ready;
  uv_unref((uv_handle_t *)&w->poll); /* like an unref'd setTimeout: a watch does not hold the process open */
  napi_create_reference(env, callback, 1, &w->callback);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource);
  napi_async_init(env, NULL, resource, &w->context);
  napi_add_async_cleanup_hook(env, on_env_teardown, w, &w->cleanup);
  uv_poll_start(&w->poll, UV_READABLE, on_readable);
  *slot = w;
  w->slot = slot;
  napi_create_external(env, slot, finalize_slot, NULL, &external);
  napi_type_tag_object(env, external, tag);
  return external;
}

int fd_watch_fd(napi_env env, napi_value external, const napi_type_tag *tag, const char *what) {
  fd_watch **slot = slot_arg(env, external, tag, what);
  if (!slot) return -1;
  if (!*slot) {
    napi_throw_error(env, NULL, "media-io: it is closed");
    return -1;
  }
  return (*slot)->fd;
}

int fd_watch_close(napi_env env, napi_value external, const napi_type_tag *tag, const char *what) {
  fd_watch **slot = slot_arg(env, external, tag, what);
  if (!slot) return 0;
  if (*slot) shut(*slot);
  return 1;
}
