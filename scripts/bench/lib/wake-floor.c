/*
 * The least a 20 ms packet clock can cost on this machine, in any language: a process that sleeps to each deadline
 * with clock_nanosleep and does nothing else, forever (media-call.bench.mjs reads its CPU from /proc and kills it).
 * Not part of the adapter; the bench compiles it with cc into a temporary folder.
 */
#include <time.h>

int main(void) {
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    next.tv_nsec += 20000000L;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, 0);
  }
}
