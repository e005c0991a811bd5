/**
 * Turns the raw hook-switch edges a Line reports (bounces included) into what the phone did: went off hook, hung
 * up, flashed, or dialled a rotary digit.
 *
 * Two stages. Debounce: a level counts once it has held for `debounceMs`, and its edge is dated at the last raw
 * transition (the end of the bounce). Classification of each debounced on-hook interval ("break") while in use:
 *   15 ms <= break <= pulseBreakMax      one dial pulse; pulses gather into a digit until a make of interDigitMs
 *   pulseBreakMax < break <= flashMax    a hook flash (if at least flashMin; shorter ones are ignored)
 *   break > flashMax                     hang-up, reported as soon as flashMax has passed, not when lifted again
 * Where the flash window overlaps the pulse window (North America: flash from 100 ms, pulses to 200 ms), pulses
 * win: the usable flash range starts after the pulse maximum, as on commercial adapters.
 * Where it is the other way round (Europe: flash from 70 ms, but a 9 pps dial with a 67 % break sends 74 ms
 * breaks), a break up to slowPulseBreakMaxMs is a pulse if another pulse follows within interDigitMs, and a flash
 * if it stands alone; the flash is then reported once that make has lasted interDigitMs.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import { type PulseDigitMap, pulsesToDigit } from './pulse-digit-map.js';

export type HookState = 'on-hook' | 'off-hook' | 'break' | 'between-pulses';

export type HookEvent =
  | { type: 'off-hook'; atMs: number }
  | { type: 'on-hook'; atMs: number }
  | { type: 'flash'; atMs: number; durationMs: number }
  | { type: 'digit'; atMs: number; digit: string; pulses: number };

export interface HookTiming {
  debounceMs: number;
  flashMinMs: number;
  flashMaxMs: number;
  pulseBreakMinMs: number;
  pulseBreakMaxMs: number;
  /** A make (off-hook) at least this long ends the digit being dialled. */
  interDigitMs: number;
  /**
   * Longest break still taken as a pulse of a slow dial when another pulse follows it; a lone break between
   * pulseBreakMaxMs and this is a flash. Equal to pulseBreakMaxMs where the flash window starts above the pulses.
   */
  slowPulseBreakMaxMs: number;
}

export type HookPreset = 'na' | 'eu';

/** How late an edge may be delivered after the debounce deadline it predates and still count (see edge()). */
const LATE_EDGE_GRACE_MS = 20;

/** North America / Cisco SPA defaults: flash 100-900 ms, pulses 15-200 ms. */
export const HOOK_TIMING_NA: Readonly<HookTiming> = {
  debounceMs: 10,
  flashMinMs: 100,
  flashMaxMs: 900,
  pulseBreakMinMs: 15,
  pulseBreakMaxMs: 200,
  interDigitMs: 300,
  slowPulseBreakMaxMs: 200,
};

/**
 * European (TBR 21 style) flash of 70-125 ms. Breaks up to 69 ms (nominal 60-67 ms) are always pulses; breaks up to
 * 100 ms (slow or worn dials, +20 % on a 67 % break is 80 ms) are pulses when another pulse follows.
 */
export const HOOK_TIMING_EU: Readonly<HookTiming> = {
  ...HOOK_TIMING_NA,
  flashMinMs: 70,
  flashMaxMs: 125,
  pulseBreakMaxMs: 69,
  slowPulseBreakMaxMs: 100,
};

export interface HookDetectorOptions extends Partial<HookTiming> {
  preset?: HookPreset;
  pulseMap?: PulseDigitMap;
  /** The hook state when the detector starts (read from the hardware at start-up). */
  initiallyOffHook?: boolean;
  /** Called for dialled pulse counts no digit has (more than ten); default: ignored. */
  onRejected?: (reason: string, atMs: number) => void;
}

export class HookTimingError extends RangeError {
  constructor(readonly field: keyof HookTiming, message: string) {
    super(message);
    this.name = 'HookTimingError';
  }
}

export class HookDetector {
  readonly timing: Readonly<HookTiming>;
  readonly pulseMap: PulseDigitMap;
  private _state: HookState;
  private readonly listeners: ((e: HookEvent) => void)[] = [];
  private readonly onRejected?: (reason: string, atMs: number) => void;

  // Debounce stage
  private rawOffHook: boolean;
  private rawSince = -Infinity;
  private stableOffHook: boolean;
  private debounceTimer: TimerHandle | undefined;

  // Classification stage
  private breakStart = 0;
  private makeStart = 0;
  private pulses = 0;
  /** Length of the first break of the digit being dialled when it was too long for a sure pulse (else null). */
  private maybeFlashMs: number | null = null;
  private decisionTimer: TimerHandle | undefined;

  constructor(private readonly clock: Clock, opts: HookDetectorOptions = {}) {
    const base = opts.preset === 'eu' ? HOOK_TIMING_EU : HOOK_TIMING_NA;
    const t: HookTiming = { ...base };
    for (const k of Object.keys(base) as (keyof HookTiming)[]) {
      const v = opts[k];
      if (v !== undefined) {
        if (!Number.isFinite(v) || v < 0) throw new HookTimingError(k, `${k} must be a non-negative number, got ${v}`);
        t[k] = v;
      }
    }
    if (t.pulseBreakMinMs > t.pulseBreakMaxMs) throw new HookTimingError('pulseBreakMinMs', 'pulseBreakMinMs exceeds pulseBreakMaxMs');
    if (t.flashMinMs > t.flashMaxMs) throw new HookTimingError('flashMinMs', 'flashMinMs exceeds flashMaxMs');
    if (t.flashMaxMs <= t.pulseBreakMaxMs) throw new HookTimingError('flashMaxMs', 'flashMaxMs must exceed pulseBreakMaxMs');
    // Moving pulseBreakMaxMs alone moves the slow-pulse limit with it (the preset's margin above it is kept).
    if (opts.slowPulseBreakMaxMs === undefined) t.slowPulseBreakMaxMs = t.pulseBreakMaxMs + (base.slowPulseBreakMaxMs - base.pulseBreakMaxMs);
    if (t.slowPulseBreakMaxMs < t.pulseBreakMaxMs) throw new HookTimingError('slowPulseBreakMaxMs', 'slowPulseBreakMaxMs is below pulseBreakMaxMs');
    if (t.slowPulseBreakMaxMs >= t.flashMaxMs) throw new HookTimingError('slowPulseBreakMaxMs', 'slowPulseBreakMaxMs must be below flashMaxMs');
    this.timing = t;
    this.pulseMap = opts.pulseMap ?? 'standard';
    this.onRejected = opts.onRejected;
    const off = opts.initiallyOffHook ?? false;
    this.rawOffHook = off;
    this.stableOffHook = off;
    this._state = off ? 'off-hook' : 'on-hook';
  }

  get state(): HookState {
    return this._state;
  }

  onEvent(cb: (e: HookEvent) => void): void {
    this.listeners.push(cb);
  }

  /** A raw edge from the Line: `offHook` is the new contact state, `atMs` when it happened on the Clock. */
  edge(offHook: boolean, atMs: number): void {
    if (!Number.isFinite(atMs) || offHook === this.rawOffHook) return;
    this.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = undefined;
    // Whether the level before this edge held long enough is read from the edges' own times, not from whether its
    // timer has run yet: a busy event loop runs timers late (the sim board's frame clock blocks it for 1-2 ms per
    // tick), and a lift followed 11 ms later by the first break of a dialled digit was otherwise taken for a bounce.
    if (this.rawOffHook !== this.stableOffHook && atMs - this.rawSince >= this.timing.debounceMs) this.settle();
    this.rawOffHook = offHook;
    this.rawSince = atMs;
    if (offHook === this.stableOffHook) return; // bounced back before the level held: nothing happened
    // The timer only settles a level no later edge has spoken for, and it waits a little past the debounce: an edge
    // can be queued behind the timer while dated before its deadline (a GPIO event read after a late timer), and a
    // level settled by the timer could not be taken back. Such an edge, delivered within the grace, is judged by its
    // own time like any other. Events keep the edges' times, so only the moment of knowing moves.
    const wait = Math.max(0, atMs + this.timing.debounceMs + LATE_EDGE_GRACE_MS - this.clock.now());
    this.debounceTimer = this.clock.setTimeout(() => this.settle(), wait);
  }

  /** Stops the timers (line removed or agent stopping). */
  close(): void {
    this.clock.clearTimeout(this.debounceTimer);
    this.clock.clearTimeout(this.decisionTimer);
    this.debounceTimer = this.decisionTimer = undefined;
  }

  private settle(): void {
    this.debounceTimer = undefined;
    if (this.rawOffHook === this.stableOffHook) return;
    this.stableOffHook = this.rawOffHook;
    if (this.stableOffHook) this.contactMade(this.rawSince);
    else this.contactBroken(this.rawSince);
  }

  private contactBroken(at: number): void {
    switch (this._state) {
      case 'on-hook':
      case 'break':
        return;
      case 'off-hook':
      case 'between-pulses':
        this.clock.clearTimeout(this.decisionTimer);
        this._state = 'break';
        this.breakStart = at;
        // Hang-up is known once the break has outlasted the flash window by the time a lift needs to settle.
        this.decisionTimer = this.after(at + this.timing.flashMaxMs + this.timing.debounceMs, () => this.hangUp());
        return;
    }
  }

  private contactMade(at: number): void {
    switch (this._state) {
      case 'off-hook':
      case 'between-pulses':
        return;
      case 'on-hook':
        this._state = 'off-hook';
        this.pulses = 0;
        this.emit({ type: 'off-hook', atMs: at });
        return;
      case 'break':
        this.endBreak(at);
        return;
    }
  }

  private endBreak(at: number): void {
    this.clock.clearTimeout(this.decisionTimer);
    this.decisionTimer = undefined;
    const t = this.timing;
    const dur = at - this.breakStart;
    const sure = dur >= t.pulseBreakMinMs && dur <= t.pulseBreakMaxMs;
    const slow = !sure && dur > t.pulseBreakMaxMs && dur <= t.slowPulseBreakMaxMs;
    if (sure || slow) {
      // A slow break opening a digit may yet be a flash; one that follows a pulse is a pulse.
      if (slow && this.pulses === 0) this.maybeFlashMs = dur;
      this.pulses++;
      this._state = 'between-pulses';
      this.makeStart = at;
      this.decisionTimer = this.after(at + t.interDigitMs, () => this.endDigit());
      return;
    }
    // Not a pulse: whatever was being dialled ends here.
    if (this.pulses > 0) this.finishDigit(this.breakStart);
    this._state = 'off-hook';
    if (dur > t.pulseBreakMaxMs && dur >= t.flashMinMs && dur <= t.flashMaxMs) {
      this.emit({ type: 'flash', atMs: at, durationMs: dur });
    }
    // Breaks too short for a pulse or between the pulse and flash windows are line noise: ignored.
  }

  private endDigit(): void {
    this.decisionTimer = undefined;
    if (this._state !== 'between-pulses') return;
    this._state = 'off-hook';
    this.finishDigit(this.makeStart + this.timing.interDigitMs);
  }

  private finishDigit(at: number): void {
    const n = this.pulses;
    const maybeFlash = this.maybeFlashMs;
    this.pulses = 0;
    this.maybeFlashMs = null;
    if (n === 1 && maybeFlash !== null && maybeFlash >= this.timing.flashMinMs) {
      // The lone long break was a flash after all; it ended when the make that followed it began.
      this.emit({ type: 'flash', atMs: this.makeStart, durationMs: maybeFlash });
      return;
    }
    const digit = pulsesToDigit(n, this.pulseMap);
    if (digit === undefined) this.onRejected?.(`${n} pulses is no digit`, at);
    else this.emit({ type: 'digit', atMs: at, digit, pulses: n });
  }

  private hangUp(): void {
    this.decisionTimer = undefined;
    if (this._state !== 'break') return;
    // A lift inside the flash window still settling at this instant ends the break as a flash instead.
    if (this.rawOffHook && this.rawSince <= this.breakStart + this.timing.flashMaxMs) {
      // ...unless it bounces back down before settling: look again then.
      this.decisionTimer = this.after(this.clock.now() + this.timing.debounceMs, () => this.hangUp());
      return;
    }
    // Pulses dialled before hanging up belong to an abandoned digit: not reported.
    this.pulses = 0;
    this.maybeFlashMs = null;
    this._state = 'on-hook';
    this.emit({ type: 'on-hook', atMs: this.breakStart });
  }

  private after(atMs: number, fn: () => void): TimerHandle {
    return this.clock.setTimeout(fn, Math.max(0, atMs - this.clock.now()));
  }

  private emit(e: HookEvent): void {
    for (const cb of this.listeners) {
      try {
        cb(e);
      } catch {
        // A failing listener must not leave the detector half-way through a transition.
      }
    }
  }
}
