/*
 * hal/native/fd-watch.c: a file descriptor watched by the calling thread's libuv loop, calling back into JavaScript
 * when it is readable. The precise timer (a timerfd) and the sound card's pipes (pcm-pipe.c) are both one of these.
 */
#ifndef PI_ATA_FD_WATCH_H
#define PI_ATA_FD_WATCH_H
#include <node_api.h>

/*
 * Called on the loop thread when the fd is readable (or the poll failed: status < 0), before JavaScript is: 0 not to
 * call it, or a positive count that the callback receives as its one argument. A timerfd reads its expiry count here
 * (or a level-triggered poll would call again at once) and hands it on, so that a periodic timer's callback knows how
 * many periods passed without reading a clock.
 */
typedef int (*fd_watch_ready)(int fd, int status);

/*
 * Watches `fd` (and owns it: it is closed with the watch) for `callback`; returns a JS external tagged with `tag`,
 * or NULL with an Error thrown (the fd is closed then too). The watch does not keep the loop alive. It is closed by
 * fd_watch_close, by the thread's environment ending, or by the external being collected.
 */
napi_value fd_watch_open(napi_env env, int fd, napi_value callback, fd_watch_ready ready, const napi_type_tag *tag, const char *name);

/* The fd of an open watch with this tag; -1 with an Error thrown for anything else or a closed watch. */
int fd_watch_fd(napi_env env, napi_value external, const napi_type_tag *tag, const char *what);

/* Closes it; 0 with a TypeError thrown when `external` is not a watch with this tag. Closing twice is a no-op. */
int fd_watch_close(napi_env env, napi_value external, const napi_type_tag *tag, const char *what);

#endif
