/*
 * The pipes that carry a sound card's audio between the agent and its arecord/aplay children
 * (hal/drivers/card-pipe.ts uses them; see there for why).
 *
 * The agent makes each pipe itself and hands the child its end as a plain descriptor in spawn's stdio, so nothing of
 * Node's is touched. Its own end is non-blocking: the capture end is watched by the loop (fd-watch.c) and read into
 * the caller's buffer; the playback end is written a frame at a time, which a pipe takes whole or not at all (a frame
 * is far below PIPE_BUF), and asked how much it holds (FIONREAD), so a late earpiece is cut at a few frames, not at
 * the pipe's 64 KiB (two seconds at 8 kHz).
 *
 * As in media-io.c, every function returns a number, a negative errno on failure, and allocates nothing.
 */
#define _GNU_SOURCE
#include "pcm-pipe.h"

#include "arguments.h"
#include "fd-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const napi_type_tag WATCH_TAG = {0x7069617461706970ULL, 0x652d77617463682dULL};
static const char NOT_A_WATCH[] = "media-io: expected a watch from pipeWatch";

static napi_value int32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/*
 * pipeOpen(parentReads, fds): a pipe, its ends in fds (an Int32Array of 2): [0] the agent's end (non-blocking), [1]
 * the child's (blocking, as a child's stdin or stdout is). Both are close-on-exec: spawn duplicates the child's into
 * its stdio, which clears the flag on the copy only, so no other child inherits either end. 0 or -errno.
 */
static napi_value js_pipe_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool parent_reads;
  napi_typedarray_type type;
  size_t length;
  int32_t *out;
  int fds[2];
  if (!args(env, info, 2, argv)) return NULL;
  if (napi_get_value_bool(env, argv[0], &parent_reads) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &type, &length, (void **)&out, NULL, NULL) != napi_ok || type != napi_int32_array || length < 2) {
    napi_throw_type_error(env, NULL, "media-io: pipeOpen expects a boolean and an Int32Array of 2");
    return NULL;
  }
  if (pipe2(fds, O_CLOEXEC) < 0) return int32(env, -errno);
  int parent = parent_reads ? fds[0] : fds[1];
  int child = parent_reads ? fds[1] : fds[0];
  int flags = fcntl(parent, F_GETFL);
  if (flags < 0 || fcntl(parent, F_SETFL, flags | O_NONBLOCK) < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    return int32(env, -e);
  }
  out[0] = parent;
  out[1] = child;
  return int32(env, 0);
}

/* Readable, at its end, or failed: JavaScript reads and sees which. */
static int pipe_ready(int fd, int status) {
  (void)fd;
  (void)status;
  return 1;
}

/*
 * pipeWatch(fd, callback): calls back on this thread's loop whenever the pipe has bytes to read or has ended (until
 * pipeRead drains it or sees the end, a level-triggered poll calls again). The watch owns fd: closing it closes fd.
 * It does not keep the loop alive.
 */
static napi_value js_pipe_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  napi_valuetype type;
  if (!args(env, info, 2, argv) || !int_arg(env, argv[0], &fd)) return NULL;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "media-io: pipeWatch expects a callback");
    return NULL;
  }
  if (fd < 0) {
    napi_throw_range_error(env, NULL, "media-io: pipeWatch expects an open descriptor");
    return NULL;
  }
  return fd_watch_open(env, fd, argv[1], pipe_ready, &WATCH_TAG, "pi-ata:pcm-pipe");
}

/* pipeWatchClose(watch): stops watching and closes its fd; using it afterwards is an Error. Twice is a no-op. */
static napi_value js_pipe_watch_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (args(env, info, 1, argv)) fd_watch_close(env, argv[0], &WATCH_TAG, NOT_A_WATCH);
  return NULL;
}

/*
 * pipeRead and pipeWrite: (fd, bytes, offset, length), the span checked against the buffer; a wrong argument is a
 * TypeError thrown, a span outside the buffer -EINVAL.
 */
static napi_value pipe_io(napi_env env, napi_callback_info info, int writing) {
  napi_value argv[4];
  int32_t fd, offset, length;
  void *data;
  size_t size;
  if (!args(env, info, 4, argv) || !int_arg(env, argv[0], &fd) || !bytes_arg(env, argv[1], &data, &size) || !int_arg(env, argv[2], &offset) ||
      !int_arg(env, argv[3], &length))
    return NULL;
  if (!span_fits(offset, length, size)) return int32(env, -EINVAL);
  /* Node ignores SIGPIPE, so a dead reader is EPIPE on write here, not a signal. */
  ssize_t n = writing ? write(fd, (char *)data + offset, (size_t)length) : read(fd, (char *)data + offset, (size_t)length);
  return int32(env, n < 0 ? -errno : (int32_t)n);
}

/* pipeRead(fd, bytes, offset, length): bytes read into bytes[offset...], 0 at the end, or -errno (-EAGAIN: none). */
static napi_value js_pipe_read(napi_env env, napi_callback_info info) {
  return pipe_io(env, info, 0);
}

/* pipeWrite(fd, bytes, offset, length): bytes written, or -errno (-EAGAIN: the pipe is full; -EPIPE: the reader died). */
static napi_value js_pipe_write(napi_env env, napi_callback_info info) {
  return pipe_io(env, info, 1);
}

/* pipeQueued(fd): bytes written to the pipe and not yet read by the other end, or -errno. */
static napi_value js_pipe_queued(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  int queued;
  if (!args(env, info, 1, argv) || !int_arg(env, argv[0], &fd)) return NULL;
  return int32(env, ioctl(fd, FIONREAD, &queued) < 0 ? -errno : queued);
}

/* pipeClose(fd): 0 or -errno. For the ends nobody watches: the child's after spawn, the playback end at the close. */
static napi_value js_pipe_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!args(env, info, 1, argv) || !int_arg(env, argv[0], &fd)) return NULL;
  return int32(env, close(fd) < 0 ? -errno : 0);
}

void pcm_pipe_export(napi_env env, napi_value exports) {
  static const named_function fns[] = {
      {"pipeOpen", js_pipe_open},   {"pipeWatch", js_pipe_watch},   {"pipeWatchClose", js_pipe_watch_close}, {"pipeRead", js_pipe_read},
      {"pipeWrite", js_pipe_write}, {"pipeQueued", js_pipe_queued}, {"pipeClose", js_pipe_close},
  };
  export_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
