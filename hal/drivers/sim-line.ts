import type { Clock, TimerHandle } from '../clock.js';
import { HookEdgeFanout, type Line } from '../line.js';
import { HalError } from '../errors.js';

/** A simulated phone was asked for something its hook state does not allow (e.g. dialing on hook). */
export class SimPhoneStateError extends HalError {
  constructor(
    readonly lineId: number,
    readonly action: string,
    reason: string,
  ) {
    super(`line ${lineId}: cannot ${action}: ${reason}`, 'board.type');
  }
}

/** 10 pulses/s with a 60/40 break/make ratio, as a rotary dial's cam produces, and a pause the dialer can't beat. */
export const PULSE_BREAK_MS = 60;
export const PULSE_MAKE_MS = 40;
export const PULSE_INTERDIGIT_MS = 700;

type PulseDialState = 'idle' | 'break' | 'make' | 'interdigit';

/**
 * The simulated line: a hook switch that the control API moves, and a record of what the "SLIC" was told to do.
 * Edges carry the injected Clock's time, so the real HookDetector decodes them exactly as on hardware.
 */
export class SimLine implements Line {
  private readonly edges = new HookEdgeFanout();
  private hookOff = false;
  private ringingNow = false;
  private reversed = false;
  private disconnectUntil = -Infinity;
  private closed = false;

  private offHookSince = -Infinity;
  private dialState: PulseDialState = 'idle';
  private dialTimer: TimerHandle | undefined;
  private dialPulses: number[] = [];
  private pulsesLeft = 0;
  private dialDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly hookListeners: Array<(offHook: boolean) => void> = [];

  constructor(
    readonly id: number,
    private readonly clock: Clock,
    private readonly onListenerError: (err: unknown) => void = () => {},
  ) {}

  get offHook(): boolean {
    return this.hookOff;
  }
  get ringing(): boolean {
    return this.ringingNow;
  }
  get polarityReversed(): boolean {
    return this.reversed;
  }
  /** True while a loop disconnect ordered by `disconnect(ms)` lasts. */
  get loopDisconnected(): boolean {
    return this.clock.now() < this.disconnectUntil;
  }
  get pulseDialing(): boolean {
    return this.dialState !== 'idle';
  }

  onHookEdge(cb: (offHook: boolean, atMs: number) => void): void {
    this.edges.add(cb);
  }
  /** For the sim board's audio: the mouthpiece is live only while off hook. */
  onHookState(cb: (offHook: boolean) => void): void {
    this.hookListeners.push(cb);
  }

  setRinging(on: boolean): void {
    this.ringingNow = on;
  }
  setPolarity(reversed: boolean): void {
    this.reversed = reversed;
  }
  disconnect(ms: number): void {
    this.disconnectUntil = this.clock.now() + Math.max(0, ms);
  }

  /** Moves the hook switch. A manual move while pulse dialing is refused: a finger can't lift the dial's cam. */
  setHook(offHook: boolean): void {
    if (this.closed) return;
    if (this.dialState !== 'idle') throw new SimPhoneStateError(this.id, 'move the hook', 'pulse dialing in progress');
    this.moveSwitch(offHook);
  }

  /**
   * Dials `digits` (0-9) by breaking the loop: n pulses for digit n, 10 for 0. Resolves after the pause that ends
   * the last digit, so a detector has seen the digit complete. The first break comes no sooner than the inter-digit
   * pause after the lift: a finger needs that long to wind the dial, and a break a few ms after the lift (what an
   * API client asking to lift and dial at once would otherwise get) is a contact bounce to a hook detector, which
   * then takes the dial's first make for the lift and loses the first digit.
   */
  pulseDial(digits: string): Promise<void> {
    if (!/^[0-9]+$/.test(digits)) {
      return Promise.reject(new SimPhoneStateError(this.id, `pulse dial "${digits}"`, 'a rotary dial has only 0-9'));
    }
    if (!this.hookOff) return Promise.reject(new SimPhoneStateError(this.id, 'pulse dial', 'the phone is on hook'));
    if (this.dialState !== 'idle') return Promise.reject(new SimPhoneStateError(this.id, 'pulse dial', 'already dialing'));
    this.dialPulses = [...digits].map((d) => (d === '0' ? 10 : Number(d)));
    return new Promise<void>((resolve, reject) => {
      this.dialDone = { resolve, reject };
      const wait = this.offHookSince + PULSE_INTERDIGIT_MS - this.clock.now();
      if (wait > 0) {
        this.dialState = 'interdigit';
        this.dialTimer = this.clock.setTimeout(() => this.startDigit(), wait);
      } else {
        this.startDigit();
      }
    });
  }

  private startDigit(): void {
    const next = this.dialPulses.shift();
    if (next === undefined) {
      this.dialState = 'idle';
      const done = this.dialDone;
      this.dialDone = undefined;
      done?.resolve();
      return;
    }
    this.pulsesLeft = next;
    this.breakLoop();
  }

  private breakLoop(): void {
    this.dialState = 'break';
    this.moveSwitch(false);
    this.dialTimer = this.clock.setTimeout(() => this.makeLoop(), PULSE_BREAK_MS);
  }

  private makeLoop(): void {
    this.dialState = 'make';
    this.moveSwitch(true);
    this.pulsesLeft--;
    if (this.pulsesLeft > 0) {
      this.dialTimer = this.clock.setTimeout(() => this.breakLoop(), PULSE_MAKE_MS);
    } else {
      this.dialState = 'interdigit';
      this.dialTimer = this.clock.setTimeout(() => this.startDigit(), PULSE_INTERDIGIT_MS);
    }
  }

  private moveSwitch(offHook: boolean): void {
    if (offHook === this.hookOff) return;
    this.hookOff = offHook;
    if (offHook && this.dialState === 'idle') this.offHookSince = this.clock.now();
    for (const cb of this.hookListeners) cb(offHook);
    this.edges.emit(offHook, this.clock.now(), this.onListenerError);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.dialTimer);
    this.dialState = 'idle';
    this.ringingNow = false;
    const done = this.dialDone;
    this.dialDone = undefined;
    done?.reject(new SimPhoneStateError(this.id, 'finish pulse dialing', 'the line was closed'));
  }
}
