import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { mediaIo, type MediaIo } from './media-io.js';
import { PreciseTimer } from './precise-timer.js';

/**
 * The packet clock for when no sound card paces the audio (the sim board, tones, music on hold): one tick every
 * `periodMs`, with frame n due at start + (n + 1) * period. Every deadline is computed from the start time, never
 * from the previous tick, so timer lateness does not accumulate into drift.
 *
 * Precision on the real clock, without spinning: libuv timers have millisecond granularity (the loop's time is a
 * truncated millisecond count) and a fractional setTimeout costs a second wake-up a millisecond later. So on
 * `systemClock` the clock wakes one of two ways (`wake`):
 * - 'timerfd', when hal/native is built: a kernel interval timer armed once, at start, to frame 0's deadline and the
 *   period, and watched by the event loop (hal/precise-timer.ts). The kernel advances it from its previous expiry,
 *   so it does not drift, and tells each callback how many deadlines passed. One wake-up per tick, no syscall to
 *   re-arm, no clock read, and nothing is blocked.
 * - 'timer-and-futex', the fallback: a timer of a whole number of milliseconds that wakes the thread about
 *   `preciseMs` before the deadline, then Atomics.wait on a private SharedArrayBuffer for the remainder: a futex
 *   sleep with a nanosecond timeout, which burns no CPU (nobody ever notifies it; it always times out). Two
 *   wake-ups per tick, and the thread is blocked for the remainder (1-2 ms per tick), which is still cheaper for
 *   everyone than the setImmediate polling it replaced (11 s of CPU per minute).
 * scripts/bench/media-clock.bench.mjs measures the precision and the cost of both. On any other clock (FakeClock in
 * tests) it uses the injected timers only, so tests never block or spin.
 *
 * What this cannot fix: a tick due while this thread is paused (a major GC of a busy heap takes 5-20 ms) is late by
 * the pause. src/media/rtp-stream-thread.ts runs a stream and its FrameClock in a worker with a heap of its own for
 * that reason; on its native engine the FrameClock runs on a LoopClock (hal/loop-clock.ts) and the thread sleeps in
 * the kernel instead (the placements and engines are measured side by side by the two media benches). The clock's
 * own heap traffic is one timer object per tick when it wakes by timer, plus the tick's time values, which V8 boxes
 * (16 bytes each) until it optimizes this code, and at 50 ticks a second that takes minutes; by timerfd a tick
 * counts frames in small integers and computes no time value at all (media-call.bench.mjs measures allocation per
 * tick with no GC in its window).
 *
 * Catch-up after a stall (GC pause, a busy event loop, a suspended process): frames that became due during the stall
 * are emitted at once, back to back, up to `maxBurst` of them; older ones are skipped and counted. A short stall is
 * thus made up entirely (the far end's jitter buffer absorbs a burst of a few packets and no audio is lost), while a
 * long one does not flood the far end with audio it would discard as late anyway and that would add to its delay.
 * `onTick` receives the frame index, so a caller that skips sees the gap and keeps its RTP timestamps on real time.
 */
export interface FrameClockOptions {
  /**
   * How long before a deadline the coarse timer aims to wake (ms); the rest is slept precisely with Atomics.wait.
   * Default 1 on systemClock (libuv fires a whole-millisecond timer up to 1 ms late or early); 0 means timers only.
   * Ignored on other clocks.
   */
  preciseMs?: number;
  /** At most this many overdue frames are emitted back to back after a stall; older ones are skipped. Default 3. */
  maxBurst?: number;
  /**
   * How a precise clock on systemClock wakes (see above); default 'timerfd' when hal/native is built. Ignored on
   * other clocks and with preciseMs 0.
   */
  wake?: FrameClockWake;
  /** The native module the timerfd comes from; default hal/media-io.ts's. Tests inject one that fails. */
  io?: MediaIo;
}

export type FrameClockWake = 'timerfd' | 'timer-and-futex';

export type FrameClockState = 'stopped' | 'running';

export class FrameClockError extends Error {
  constructor(
    readonly periodMs: number,
    reason = `frame clock period must be a positive finite number of ms, got ${periodMs}`,
  ) {
    super(reason);
    this.name = 'FrameClockError';
  }
}

export const DEFAULT_PRECISE_MS = 1;

// Never notified: Atomics.wait on it is a plain sleep with a sub-millisecond timeout.
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class FrameClock {
  state: FrameClockState = 'stopped';
  /** Frames skipped by the catch-up policy since start. */
  skippedFrames = 0;
  private startAt = 0;
  private next = 0;
  private timer: TimerHandle | undefined;
  private nodeTimer: NodeJS.Timeout | undefined;
  private precise: PreciseTimer | undefined;
  private generation = 0;
  private readonly preciseMs: number;
  /**
   * How this clock wakes on systemClock; undefined on other clocks and with preciseMs 0. A timerfd that cannot be
   * made (the process is out of file descriptors) or armed turns it to 'timer-and-futex' for good: the clock keeps
   * time at twice the wake-ups rather than fail the call it paces.
   */
  wakeBy: FrameClockWake | undefined;
  private readonly io: MediaIo | undefined;
  private readonly maxBurst: number;
  // Bound once so that no closure is made per tick.
  private readonly onTimer = (): void => this.wake();
  private readonly onExpiry = (expirations: number): void => this.expire(expirations);
  /** Deadlines passed since start as the kernel's interval timer counts them (wake 'timerfd' only). */
  private expired = 0;

  constructor(
    private readonly clock: Clock,
    readonly periodMs: number,
    private readonly onTick: (frameIndex: number) => void,
    options: FrameClockOptions = {},
  ) {
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new FrameClockError(periodMs);
    this.preciseMs = clock === systemClock ? Math.max(0, options.preciseMs ?? DEFAULT_PRECISE_MS) : 0;
    this.maxBurst = Math.max(1, Math.floor(options.maxBurst ?? 3));
    this.io = options.io ?? mediaIo;
    if (this.preciseMs > 0) {
      const wake = options.wake ?? (this.io ? 'timerfd' : 'timer-and-futex');
      if (wake === 'timerfd' && !this.io) throw new FrameClockError(periodMs, "wake 'timerfd' needs hal/native, which is not built");
      this.wakeBy = wake;
    }
  }

  /** Index of the next frame to be emitted. */
  get frameIndex(): number {
    return this.next;
  }

  /** Deadline of frame n on the clock's time line. */
  deadlineOf(n: number): number {
    return this.startAt + (n + 1) * this.periodMs;
  }

  start(): void {
    if (this.state === 'running') return;
    this.state = 'running';
    this.generation++;
    this.startAt = this.clock.now();
    this.next = 0;
    this.skippedFrames = 0;
    this.expired = 0;
    if (this.wakeBy === 'timerfd' && this.io) {
      try {
        // Armed once for the whole run: the kernel keeps the schedule and counts the deadlines that passed.
        this.precise = new PreciseTimer(this.io, this.onExpiry);
        if (this.precise.armEvery(this.deadlineOf(0), this.periodMs)) return;
        this.precise.close();
        this.precise = undefined;
      } catch {
        // no timerfd to be had (out of descriptors): the fallback below
      }
      this.wakeBy = 'timer-and-futex';
    }
    this.schedule();
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.generation++;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    clearTimeout(this.nodeTimer);
    this.nodeTimer = undefined;
    this.precise?.close(); // from inside its own tick too: the native side frees it on a later turn of the loop
    this.precise = undefined;
  }

  private schedule(): void {
    const remaining = this.deadlineOf(this.next) - this.clock.now();
    if (this.preciseMs > 0) {
      // A whole number of ms: a fractional one makes Node re-arm for the fraction, a second wake-up per tick.
      const coarse = Math.floor(remaining - this.preciseMs);
      this.nodeTimer = setTimeout(this.onTimer, coarse > 0 ? coarse : 0);
      this.nodeTimer.unref(); // a running packet clock must not keep the process alive on shutdown
      return;
    }
    // On the real clock with preciseMs 0: whole milliseconds again (one wake-up), late by up to 1 ms instead of early.
    const wait = this.clock === systemClock ? Math.ceil(remaining) : remaining;
    this.timer = this.clock.setTimeout(this.onTimer, wait > 0 ? wait : 0);
  }

  private wake(): void {
    this.timer = undefined;
    this.nodeTimer = undefined;
    if (this.state !== 'running') return;
    if (this.preciseMs > 0) {
      const deadline = this.deadlineOf(this.next);
      // Looped because the futex clock and hrtime may disagree by a hair; each pass sleeps, none spins.
      for (let rest = deadline - this.clock.now(); rest > 0; rest = deadline - this.clock.now()) Atomics.wait(sleeper, 0, 0, rest);
    }
    this.emitDue();
  }

  private emitDue(): void {
    const now = this.clock.now();
    // `due` counts frames whose deadline has passed; corrected so it agrees exactly with deadlineOf despite rounding.
    let due = Math.floor((now - this.startAt) / this.periodMs);
    while (due > 0 && this.deadlineOf(due - 1) > now) due--;
    while (this.deadlineOf(due) <= now) due++;
    if (this.emitUpTo(due)) this.schedule();
  }

  /**
   * The timerfd's tick: the kernel says how many deadlines passed, so no clock is read and no time value computed
   * (which V8's baseline tier would box, 16 bytes each, on every tick), and nothing is re-armed.
   */
  private expire(expirations: number): void {
    if (this.state !== 'running') return;
    this.expired += expirations;
    this.emitUpTo(this.expired);
  }

  /** Emits frames up to `due` (exclusive) under the catch-up policy; false when onTick stopped or restarted us. */
  private emitUpTo(due: number): boolean {
    const generation = this.generation;
    if (due - this.next > this.maxBurst) {
      this.skippedFrames += due - this.maxBurst - this.next;
      this.next = due - this.maxBurst;
    }
    while (this.next < due) {
      const n = this.next++;
      try {
        this.onTick(n);
      } catch (err) {
        // A tick that throws stops the clock, so that it says so (state) and start() runs it again: a clock left
        // 'running' with nothing armed would be silently dead.
        this.stop();
        throw err;
      }
      // onTick may stop (or stop and restart) the clock; a restarted clock has scheduled itself already.
      if (this.generation !== generation) return false;
    }
    return true;
  }
}
