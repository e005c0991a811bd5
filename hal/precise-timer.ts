/**
 * A one-shot timer at an absolute time on systemClock's time line, with microsecond precision, on the calling
 * thread's own event loop: the wake-up FrameClock uses when hal/native is built.
 *
 * libuv's timers count whole milliseconds. Without this, a precise 20 ms clock has to wake a millisecond early on a
 * timer and sleep the rest in Atomics.wait: two wake-ups per tick, and the thread (SIP, the API, everything on it)
 * blocked for that last millisecond. A timerfd watched by libuv wakes the loop once, at the deadline, and blocks
 * nothing. On the development VM that halved what a 20 ms clock costs on its own (about 0.6 s of CPU per minute
 * to about 0.3); scripts/bench/media-clock.bench.mjs measures both beside each other.
 */
import { systemClock } from './clock.js';
import { monotonicOffset, type MediaIo, type NativeTimerHandle } from './media-io.js';

export type PreciseTimerState = 'open' | 'closed';

export class PreciseTimer {
  state: PreciseTimerState = 'open';
  private readonly handle: NativeTimerHandle;
  /** monotonicMs() minus systemClock.now(), bounded from above, so a deadline converted with it is never early. */
  private readonly offset: number;

  constructor(
    private readonly io: MediaIo,
    fire: (expirations: number) => void,
  ) {
    this.offset = monotonicOffset(io, systemClock); // systemClock is performance.now(): CLOCK_MONOTONIC too
    this.handle = io.timerOpen(fire);
  }

  /**
   * Fires once when systemClock.now() reaches `deadline` (at once if it has); replaces any earlier arming. False
   * when the kernel refused (timerfd_settime's -errno: no case is known on a finite deadline), so a caller can
   * fall back to another timer rather than never wake.
   */
  armAt(deadline: number): boolean {
    return this.io.timerArm(this.handle, deadline + this.offset) === 0;
  }

  /**
   * Fires at `first` and every `periodMs` after it, until armed again or closed, each call given the periods that
   * ended since the last one. The kernel keeps the schedule, so a caller counting expiries needs no clock read and
   * no syscall per period. False when the kernel refused, as for armAt.
   */
  armEvery(first: number, periodMs: number): boolean {
    return this.io.timerArm(this.handle, first + this.offset, periodMs) === 0;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.io.timerClose(this.handle);
  }
}
