import type { TimerHandle } from './clock.js';

interface QueuedTimer extends TimerHandle {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * The pending timers of a clock whose time is moved by its owner rather than by libuv: FakeClock (tests) and
 * LoopClock (the media thread's own loop). Timers come out in deadline order, ties in the order they were set. A
 * clock has a handful of timers at a time, so a scan beats a heap, and nothing is allocated but the timer itself.
 */
export class TimerQueue {
  private nextId = 1;
  private seq = 0;
  private readonly timers: QueuedTimer[] = [];

  /** A timer due at `at`; a NaN deadline is a RangeError (it would be due at every look, and never leave). */
  add(fn: () => void, at: number): TimerHandle {
    if (Number.isNaN(at)) throw new RangeError('a timer deadline must be a number, got NaN');
    const timer: QueuedTimer = { id: this.nextId++, at, seq: this.seq++, fn };
    this.timers.push(timer);
    return timer;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (!handle) return;
    for (let i = 0; i < this.timers.length; i++) {
      if (this.timers[i].id === handle.id) {
        this.remove(i);
        return;
      }
    }
  }

  get size(): number {
    return this.timers.length;
  }

  /** Deadline of the next timer, or Infinity when none is pending. */
  nextDeadline(): number {
    let best = Infinity;
    for (const t of this.timers) if (t.at < best) best = t.at;
    return best;
  }

  /** Removes and returns the first timer due at or before `until`, or undefined. */
  takeDue(until: number): { at: number; fn: () => void } | undefined {
    let idx = -1;
    for (let i = 0; i < this.timers.length; i++) {
      const x = this.timers[i];
      if (x.at > until) continue;
      const best = idx < 0 ? undefined : this.timers[idx];
      if (!best || x.at < best.at || (x.at === best.at && x.seq < best.seq)) idx = i;
    }
    if (idx < 0) return undefined;
    const due = this.timers[idx];
    this.remove(idx);
    return due;
  }

  /**
   * The last timer takes the removed one's place: order in the array means nothing (takeDue orders by deadline and
   * sequence), and unlike splice this makes no array of removed elements, on a path the media loop runs every tick.
   */
  private remove(i: number): void {
    const last = this.timers.pop()!;
    if (i < this.timers.length) this.timers[i] = last;
  }
}
