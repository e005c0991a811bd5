/*
 * A packet clock's thread asks the kernel for a short scheduler slice, so that it runs as soon as its timer fires
 * even when every core is busy.
 *
 * Linux's fair scheduler (EEVDF) orders runnable threads by a virtual deadline: when they became eligible plus their
 * slice, scaled by their weight. A thread that wakes with the default slice (0.7-3 ms, growing with the core count)
 * may wait out the running thread's slice; one with a short slice has the earlier deadline and preempts it at once
 * (Linux 6.12 and later honour a slice set per thread through sched_attr.sched_runtime). It is not a priority: the
 * thread gets no larger share of the CPU, only its turn sooner and shorter, which is what a thread that works for
 * 0.1 ms every 20 ms wants. No privilege is needed, unlike raising the nice value or a real-time policy.
 * (On the development VM, beside two garbage-making processes, a C thread's |interval - 20 ms| p99 read 0.75-3.8 ms
 * with the default slice and 0.08-0.37 ms with 0.1 ms, lower in 7 of 8 alternating pairs; nice -10 read 1.4 ms.)
 *
 * Older kernels accept the call and ignore the slice, and report a slice of 0 when asked: the function returns what
 * the kernel reports after the change, so the caller can tell.
 */
#define _GNU_SOURCE
#include "wakeup-slice.h"

#include "arguments.h"

#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct sched_attr (include/uapi/linux/sched/types.h), which glibc 2.36 does not declare. */
struct slice_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

/* The range the kernel clamps a slice to (0.1 ms to 100 ms); hal/wakeup-slice.ts names the same. */
#define SLICE_MIN_US 100
#define SLICE_MAX_US 100000

static int get_attr(pid_t tid, struct slice_attr *a) {
  memset(a, 0, sizeof *a);
  return syscall(SYS_sched_getattr, tid, a, sizeof *a, 0) < 0 ? -errno : 0;
}

/*
 * threadSlice(us, tid = 0): asks for a slice of `us` microseconds (100 to 100000; 0 gives back the kernel's default)
 * for thread `tid` (0: the calling thread; a child process's pid names its main thread), keeping its policy and nice
 * value. Returns the slice the kernel then reports, in microseconds (0 on a kernel that keeps no slice per thread),
 * or -errno: -EINVAL for a slice out of range, -EPERM for a thread that is not on the fair scheduler (a real-time
 * policy is left alone) or not ours to change, -ESRCH for one that is gone.
 */
static napi_value js_thread_slice(napi_env env, napi_callback_info info) {
  napi_value argv[2], r;
  int32_t us, tid = 0;
  struct slice_attr a;
  size_t argc = 2;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "media-io: expected a slice in microseconds");
    return NULL;
  }
  if (!int_arg(env, argv[0], &us) || (argc > 1 && !int_arg(env, argv[1], &tid))) return NULL;
  int32_t result;
  if ((us != 0 && (us < SLICE_MIN_US || us > SLICE_MAX_US)) || tid < 0) result = -EINVAL;
  else if ((result = get_attr(tid, &a)) == 0) {
    if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) result = -EPERM;
    else {
      /* sched_setattr sets the nice value too: the one just read is written back. */
      a.size = sizeof a;
      a.sched_flags = 0;
      a.sched_runtime = (uint64_t)us * 1000;
      if (syscall(SYS_sched_setattr, tid, &a, 0) < 0) result = -errno;
      else if ((result = get_attr(tid, &a)) == 0) result = (int32_t)(a.sched_runtime / 1000);
    }
  }
  napi_create_int32(env, result, &r);
  return r;
}

void wakeup_slice_export(napi_env env, napi_value exports) {
  static const named_function fns[] = {{"threadSlice", js_thread_slice}};
  export_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
