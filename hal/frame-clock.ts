import { systemClock, type Clock, type TimerHandle } from './clock.js';

/**
 * The packet clock for when no sound card paces the audio (the sim board, tones, music on hold): one tick every
 * `periodMs`, with frame n due at start + (n + 1) * period. Every deadline is computed from the start time, never
 * from the previous tick, so timer lateness does not accumulate into drift.
 *
 * Precision on the real clock: libuv timers have millisecond granularity and may fire up to about 1 ms either side
 * of the asked time. So on `systemClock` the clock sleeps with a timer until `spinMs` before the deadline and then
 * polls with setImmediate until the deadline has passed (scripts/bench/media-clock.bench.mjs measures the result).
 * On any other clock (FakeClock in tests) it uses timers only, so tests never spin.
 *
 * Catch-up after a stall (GC pause, a busy event loop, a suspended process): frames that became due during the stall
 * are emitted at once, back to back, up to `maxBurst` of them; older ones are skipped and counted. A short stall is
 * thus made up entirely (the far end's jitter buffer absorbs a burst of a few packets and no audio is lost), while a
 * long one does not flood the far end with audio it would discard as late anyway and that would add to its delay.
 * `onTick` receives the frame index, so a caller that skips sees the gap and keeps its RTP timestamps on real time.
 */
export interface FrameClockOptions {
  /** How long before a deadline to stop sleeping and poll (ms). Default 1.5 on systemClock, 0 on other clocks. */
  spinMs?: number;
  /** At most this many overdue frames are emitted back to back after a stall; older ones are skipped. Default 3. */
  maxBurst?: number;
}

export type FrameClockState = 'stopped' | 'running';

export class FrameClockError extends Error {
  constructor(readonly periodMs: number) {
    super(`frame clock period must be a positive finite number of ms, got ${periodMs}`);
    this.name = 'FrameClockError';
  }
}

export const DEFAULT_SPIN_MS = 1.5;

export class FrameClock {
  state: FrameClockState = 'stopped';
  /** Frames skipped by the catch-up policy since start. */
  skippedFrames = 0;
  private startAt = 0;
  private next = 0;
  private timer: TimerHandle | undefined;
  private spinning = false;
  private generation = 0;
  private readonly spinMs: number;
  private readonly maxBurst: number;
  // Bound once so that no closure is made per tick.
  private readonly onTimer = (): void => this.wake();
  private readonly onImmediate = (): void => this.poll();

  constructor(
    private readonly clock: Clock,
    readonly periodMs: number,
    private readonly onTick: (frameIndex: number) => void,
    options: FrameClockOptions = {},
  ) {
    if (!(periodMs > 0) || !Number.isFinite(periodMs)) throw new FrameClockError(periodMs);
    this.spinMs = clock === systemClock ? (options.spinMs ?? DEFAULT_SPIN_MS) : 0;
    this.maxBurst = Math.max(1, Math.floor(options.maxBurst ?? 3));
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
    this.schedule();
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.generation++;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const wait = this.deadlineOf(this.next) - this.clock.now() - this.spinMs;
    this.timer = this.clock.setTimeout(this.onTimer, wait > 0 ? wait : 0);
  }

  private wake(): void {
    this.timer = undefined;
    if (this.state !== 'running') return;
    if (this.spinMs > 0 && this.clock.now() < this.deadlineOf(this.next)) {
      if (!this.spinning) {
        this.spinning = true;
        setImmediate(this.onImmediate);
      }
      return;
    }
    this.emitDue();
  }

  private poll(): void {
    this.spinning = false;
    if (this.state !== 'running' || this.timer !== undefined) return;
    if (this.clock.now() < this.deadlineOf(this.next)) {
      this.spinning = true;
      setImmediate(this.onImmediate);
      return;
    }
    this.emitDue();
  }

  private emitDue(): void {
    const generation = this.generation;
    const now = this.clock.now();
    // `due` counts frames whose deadline has passed; corrected so it agrees exactly with deadlineOf despite rounding.
    let due = Math.floor((now - this.startAt) / this.periodMs);
    while (due > 0 && this.deadlineOf(due - 1) > now) due--;
    while (this.deadlineOf(due) <= now) due++;
    if (due - this.next > this.maxBurst) {
      this.skippedFrames += due - this.maxBurst - this.next;
      this.next = due - this.maxBurst;
    }
    while (this.next < due) {
      const n = this.next++;
      this.onTick(n);
      // onTick may stop (or stop and restart) the clock; a restarted clock has scheduled itself already.
      if (this.generation !== generation) return;
    }
    this.schedule();
  }
}
