/*
 * The media thread's system calls, without Node's per-call costs (hal/media-io.ts loads this; see it for why).
 *
 * Node's own ways to wait, send and receive on a socket cost a 20 ms packet clock more than the whole budget of a
 * call: libuv's loop on every wake, a send request per datagram, a Buffer and an rinfo object per datagram received,
 * and on the synchronous path (fs.readSync) an exception for every EAGAIN. Here each is one system call with its
 * result returned as a number: a negative errno on failure, never an exception, and nothing is allocated. Buffers
 * are the caller's, filled in place.
 *
 * Received datagrams carry the kernel's arrival time (SO_TIMESTAMPNS), turned into CLOCK_MONOTONIC milliseconds:
 * the loop reads its sockets once per 20 ms tick, and the jitter estimate (RFC 3550 A.8) needs when a packet
 * arrived, not when the loop woke.
 *
 * No global state: every function works on what it is given, so the module is safe in any number of threads.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "arguments.h"
#include "pcm-pipe.h"
#include "precise-timer.h"
#include "wakeup-slice.h"

#define SOCKADDR_BYTES ((int32_t)sizeof(struct sockaddr_in6))

static double monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static napi_value int32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

/* Arguments are checked with arguments.h: a wrong type is a JS TypeError (a bug in the caller), never UB here. */
static int f64_arg(napi_env env, napi_value v, double **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, (void **)data, NULL, NULL) != napi_ok || type != napi_float64_array) {
    napi_throw_type_error(env, NULL, "media-io: expected a Float64Array");
    return 0;
  }
  return 1;
}

/* monotonicMs(): CLOCK_MONOTONIC in milliseconds, the clock sleepUntilMs and arrival times use. */
static napi_value js_monotonic_ms(napi_env env, napi_callback_info info) {
  (void)info;
  return number(env, monotonic_ms());
}

/*
 * sleepUntilMs(deadline): sleeps until CLOCK_MONOTONIC reaches the deadline (an absolute time, so a late wake never
 * adds up into drift); returns at once for a deadline already past. A signal does not cut the sleep short.
 */
static napi_value js_sleep_until_ms(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  struct timespec ts;
  if (!args(env, info, 1, argv) || !deadline_arg(env, argv[0], &ts)) return NULL;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
  return NULL;
}

/* Fills `out` with the sockaddr of an IP literal and port; its length, or -EINVAL for what is not one. */
static int32_t make_sockaddr(const char *address, int32_t port, unsigned char *out) {
  if (port < 0 || port > 65535) return -EINVAL;
  memset(out, 0, SOCKADDR_BYTES);
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
  memset(&v4, 0, sizeof v4);
  memset(&v6, 0, sizeof v6);
  if (inet_pton(AF_INET, address, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons((uint16_t)port);
    memcpy(out, &v4, sizeof v4);
    return (int32_t)sizeof v4;
  }
  if (inet_pton(AF_INET6, address, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons((uint16_t)port);
    memcpy(out, &v6, sizeof v6);
    return (int32_t)sizeof v6;
  }
  return -EINVAL;
}

/* An address string; one that fills the buffer is too long for an IP literal and is emptied (then -EINVAL). */
static int string_arg(napi_env env, napi_value v, char *buf, size_t size) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "media-io: expected a string");
    return 0;
  }
  if (len + 1 >= size) buf[0] = '\0';
  return 1;
}

/* socketAddress(address, port, out): writes the sockaddr into out (at least SOCKADDR_BYTES); its length or -errno. */
static napi_value js_socket_address(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  void *out;
  size_t out_len;
  if (!args(env, info, 3, argv) || !string_arg(env, argv[0], address, sizeof address) || !int_arg(env, argv[1], &port) ||
      !bytes_arg(env, argv[2], &out, &out_len))
    return NULL;
  if (out_len < (size_t)SOCKADDR_BYTES) return int32(env, -EINVAL);
  return int32(env, make_sockaddr(address, port, out));
}

/*
 * The UDP sockets a thread (its N-API environment) opened and has not closed. When the environment is torn down, a
 * media thread that died or was terminated before its udpClose, they are closed, so that its ports do not stay bound
 * for the life of the process (the next call's session would find no free port).
 */
typedef struct {
  int *fds;
  int count, capacity;
} open_sockets;

static void close_open_sockets(napi_env env, void *data, void *hint) {
  open_sockets *s = data;
  (void)env;
  (void)hint;
  for (int i = 0; i < s->count; i++) close(s->fds[i]);
  free(s->fds);
  free(s);
}

static open_sockets *sockets_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) == napi_ok && data) return data;
  open_sockets *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (napi_set_instance_data(env, s, close_open_sockets, NULL) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

/* 0, or -ENOMEM when the socket cannot be remembered (the caller closes it: a socket nobody would close is worse). */
static int remember_socket(napi_env env, int fd) {
  open_sockets *s = sockets_of(env);
  if (!s) return -ENOMEM;
  if (s->count == s->capacity) {
    int capacity = s->capacity ? s->capacity * 2 : 8;
    int *fds = realloc(s->fds, sizeof *fds * (size_t)capacity);
    if (!fds) return -ENOMEM;
    s->fds = fds;
    s->capacity = capacity;
  }
  s->fds[s->count++] = fd;
  return 0;
}

static void forget_socket(napi_env env, int fd) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok || !data) return;
  open_sockets *s = data;
  for (int i = 0; i < s->count; i++) {
    if (s->fds[i] != fd) continue;
    s->fds[i] = s->fds[--s->count];
    return;
  }
}

/*
 * udpOpen(address, port): a non-blocking UDP socket bound to an IP literal and port (0: any free port), receiving
 * kernel timestamps; its fd, or -errno (-EADDRINUSE for a taken port, -EINVAL for a bad address).
 */
static napi_value js_udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char address[INET6_ADDRSTRLEN + 1];
  int32_t port;
  unsigned char sa[sizeof(struct sockaddr_in6)];
  if (!args(env, info, 2, argv) || !string_arg(env, argv[0], address, sizeof address) || !int_arg(env, argv[1], &port)) return NULL;
  int32_t sa_len = make_sockaddr(address, port, sa);
  if (sa_len < 0) return int32(env, sa_len);
  int family = ((struct sockaddr *)sa)->sa_family;
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return int32(env, -errno);
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 || bind(fd, (struct sockaddr *)sa, (socklen_t)sa_len) < 0) {
    int e = errno;
    close(fd);
    return int32(env, -e);
  }
  int kept = remember_socket(env, fd);
  if (kept < 0) {
    close(fd);
    return int32(env, kept);
  }
  return int32(env, fd);
}

/* udpLocalPort(fd): the port a socket is bound to, or -errno. */
static napi_value js_udp_local_port(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (!args(env, info, 1, argv) || !int_arg(env, argv[0], &fd)) return NULL;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return int32(env, -errno);
  if (ss.ss_family == AF_INET) return int32(env, ntohs(((struct sockaddr_in *)&ss)->sin_port));
  return int32(env, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
}

/* udpSend(fd, bytes, offset, length, to, toLength): one datagram; bytes sent, or -errno (-EAGAIN: buffer full). */
static napi_value js_udp_send(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t fd, offset, length, to_len;
  void *data, *to;
  size_t data_len, to_size;
  if (!args(env, info, 6, argv) || !int_arg(env, argv[0], &fd) || !bytes_arg(env, argv[1], &data, &data_len) ||
      !int_arg(env, argv[2], &offset) || !int_arg(env, argv[3], &length) || !bytes_arg(env, argv[4], &to, &to_size) ||
      !int_arg(env, argv[5], &to_len))
    return NULL;
  if (!span_fits(offset, length, data_len) || to_len <= 0 || (size_t)to_len > to_size)
    return int32(env, -EINVAL);
  ssize_t n = sendto(fd, (char *)data + offset, (size_t)length, MSG_DONTWAIT, (struct sockaddr *)to, (socklen_t)to_len);
  return int32(env, n < 0 ? -errno : (int32_t)n);
}

/*
 * udpReceive(fd, bytes, from, meta): the next queued datagram into bytes (truncated to its length), its source
 * sockaddr into from (at least SOCKADDR_BYTES), and into meta (a Float64Array of 2) the source's sockaddr length and
 * the arrival time in monotonicMs. Returns the datagram's length, or -errno (-EAGAIN: nothing queued; -EMSGSIZE: it
 * was longer than bytes, and is gone).
 */
static napi_value js_udp_receive(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t fd;
  void *data, *from;
  size_t data_len, from_size, meta_len;
  double *meta;
  if (!args(env, info, 4, argv) || !int_arg(env, argv[0], &fd) || !bytes_arg(env, argv[1], &data, &data_len) ||
      !bytes_arg(env, argv[2], &from, &from_size) || !f64_arg(env, argv[3], &meta, &meta_len))
    return NULL;
  if (from_size < (size_t)SOCKADDR_BYTES || meta_len < 2) return int32(env, -EINVAL);
  struct iovec iov = {.iov_base = data, .iov_len = data_len};
  union {
    char buf[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } control;
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = from;
  msg.msg_namelen = (socklen_t)SOCKADDR_BYTES;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return int32(env, -errno);
  /* Longer than the caller's buffer: the rest is lost, so the datagram is refused whole, never handed on cut. */
  if (msg.msg_flags & MSG_TRUNC) return int32(env, -EMSGSIZE);
  double arrived = monotonic_ms();
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      /* The kernel stamps CLOCK_REALTIME; move it onto the monotonic clock by how long ago it was. */
      struct timespec stamp, real;
      memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
      clock_gettime(CLOCK_REALTIME, &real);
      double ago = (double)(real.tv_sec - stamp.tv_sec) * 1e3 + (double)(real.tv_nsec - stamp.tv_nsec) / 1e6;
      if (ago > 0 && ago < 1e4) arrived -= ago;
    }
  }
  meta[0] = (double)msg.msg_namelen;
  meta[1] = arrived;
  return int32(env, (int32_t)n);
}

/* describeAddress(from, length): [address, port] of a sockaddr, for the rare datagram from a new source. */
static napi_value js_describe_address(napi_env env, napi_callback_info info) {
  napi_value argv[2], result, address, port;
  void *from;
  size_t from_size;
  int32_t len;
  char text[INET6_ADDRSTRLEN];
  if (!args(env, info, 2, argv) || !bytes_arg(env, argv[0], &from, &from_size) || !int_arg(env, argv[1], &len)) return NULL;
  struct sockaddr *sa = from;
  int p;
  if (len >= (int32_t)sizeof(struct sockaddr_in) && from_size >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)from)->sin_addr, text, sizeof text);
    p = ntohs(((struct sockaddr_in *)from)->sin_port);
  } else if (len >= (int32_t)sizeof(struct sockaddr_in6) && from_size >= sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)from)->sin6_addr, text, sizeof text);
    p = ntohs(((struct sockaddr_in6 *)from)->sin6_port);
  } else {
    napi_throw_range_error(env, NULL, "media-io: not an IPv4 or IPv6 socket address");
    return NULL;
  }
  napi_create_array_with_length(env, 2, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, p, &port);
  napi_set_element(env, result, 0, address);
  napi_set_element(env, result, 1, port);
  return result;
}

/* udpClose(fd): 0 or -errno. */
static napi_value js_udp_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t fd;
  if (!args(env, info, 1, argv) || !int_arg(env, argv[0], &fd)) return NULL;
  forget_socket(env, fd);
  return int32(env, close(fd) < 0 ? -errno : 0);
}

NAPI_MODULE_INIT() {
  static const named_function fns[] = {
      {"monotonicMs", js_monotonic_ms}, {"sleepUntilMs", js_sleep_until_ms}, {"socketAddress", js_socket_address},
      {"udpOpen", js_udp_open},         {"udpLocalPort", js_udp_local_port}, {"udpSend", js_udp_send},
      {"udpReceive", js_udp_receive},   {"describeAddress", js_describe_address}, {"udpClose", js_udp_close},
  };
  export_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
  precise_timer_export(env, exports);
  pcm_pipe_export(env, exports);
  wakeup_slice_export(env, exports);
  napi_value bytes;
  napi_create_int32(env, SOCKADDR_BYTES, &bytes);
  napi_set_named_property(env, exports, "SOCKADDR_BYTES", bytes);
  return exports;
}
