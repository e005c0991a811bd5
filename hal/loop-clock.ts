/**
 * The clock of a thread that runs its own loop instead of libuv's: the media thread on hal/media-io.ts. Time is
 * CLOCK_MONOTONIC (the clock of the kernel's sleep and of datagram arrival times); timers are kept here and fired by
 * the loop, which sleeps until `nextDeadline()` and then calls `runDue()`. So FrameClock, the DTMF sender and the
 * RTCP schedule run on it unchanged, and the thread wakes exactly when one of them is due and at no other time.
 */
import type { Clock, TimerHandle } from './clock.js';
import { TimerQueue } from './timer-queue.js';

export class LoopClock implements Clock {
  private readonly timers = new TimerQueue();

  constructor(private readonly monotonicMs: () => number) {}

  now(): number {
    return this.monotonicMs();
  }
  wallTime(): Date {
    return new Date();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.timers.add(fn, this.monotonicMs() + Math.max(0, ms));
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.cancel(handle);
  }
  /** The earliest timer's deadline, or Infinity. */
  nextDeadline(): number {
    return this.timers.nextDeadline();
  }
  /** Fires every timer due now, in deadline order, including ones that firing timers set and that are already due. */
  runDue(): void {
    const now = this.monotonicMs();
    for (let t = this.timers.takeDue(now); t; t = this.timers.takeDue(now)) t.fn();
  }
}
