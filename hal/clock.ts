/**
 * Time as the rest of the adapter sees it. Every state machine takes a Clock so that tests run on fake time
 * and never sleep; the agent passes `systemClock`. Lives in hal/ because it is the lowest layer: the system
 * timer is hardware like any other, and both src/sip and src/media may import it without importing each other.
 */
import { TimerQueue } from './timer-queue.js';

export interface TimerHandle {
  readonly id: number;
}

export interface Clock {
  /** Monotonic milliseconds (not wall time); only differences are meaningful. */
  now(): number;
  /** Wall-clock time for things that are shown to people or sent as dates (caller ID, logs). */
  wallTime(): Date;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Randomness is injected too (branch ids, SSRCs, back-off jitter) so that tests are repeatable. */
export type Random = () => number;

class SystemClock implements Clock {
  // performance.now() reads the same monotonic clock as hrtime.bigint() but returns a double: no BigInt per read,
  // which matters because the media loop reads the clock on every packet.
  private readonly origin = performance.now();
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return performance.now() - this.origin;
  }
  wallTime(): Date {
    return new Date();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const t = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, Math.max(0, ms));
    // A pending protocol timer must not keep the process alive on shutdown.
    t.unref?.();
    this.timers.set(id, t);
    return { id };
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const t = this.timers.get(handle.id);
    if (t) {
      clearTimeout(t);
      this.timers.delete(handle.id);
    }
  }
}

export const systemClock: Clock = new SystemClock();

/**
 * A clock that moves only when told. Timers fire in deadline order (ties in the order they were set), and a timer
 * set by a firing timer fires in the same `advance` if its deadline falls inside it.
 */
export class FakeClock implements Clock {
  private t = 0;
  private readonly timers = new TimerQueue();

  constructor(private readonly wallOrigin = Date.UTC(2026, 0, 15, 12, 30, 0)) {}

  now(): number {
    return this.t;
  }
  wallTime(): Date {
    return new Date(this.wallOrigin + this.t);
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.timers.add(fn, this.t + Math.max(0, ms));
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.timers.cancel(handle);
  }
  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.size;
  }
  /** Deadline of the next timer, or undefined. */
  nextDeadline(): number | undefined {
    const d = this.timers.nextDeadline();
    return d === Infinity ? undefined : d;
  }
  /** Moves time forward by `ms`, firing every timer whose deadline is reached, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let timer = this.timers.takeDue(end); timer; timer = this.timers.takeDue(end)) {
      this.t = Math.max(this.t, timer.at);
      timer.fn();
    }
    this.t = end;
  }
  /** Advances to the next deadline and fires it (and anything due at the same instant). */
  step(): boolean {
    const d = this.nextDeadline();
    if (d === undefined) return false;
    this.advance(d - this.t);
    return true;
  }
}

/** Deterministic pseudo-random numbers for tests (mulberry32). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
