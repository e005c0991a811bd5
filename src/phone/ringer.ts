/**
 * Rings the phone for an incoming call and sends caller ID at the moment the standard wants it:
 * - Bell 202 (North America): between the first and second ring, starting 500 ms into the first silence.
 * - ETSI (V.23 FSK, DTMF caller ID): before the first ring, after a line polarity reversal (and, for FSK, the
 *   2130+2750 Hz dual-tone alert); ringing starts once the caller ID has been sent.
 * The caller-ID samples are played into the line's earpiece path while the phone is still on hook, which is how a
 * SLIC carries them (on-hook transmission).
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { Line } from '../../hal/line.js';
import { RingCadence, type Cadence } from '../media/ring-cadence.js';

export type CallerIdTiming = 'bell' | 'etsi' | 'off';

export interface RingerSeams {
  clock: Clock;
  line: Line;
  /** Plays one-shot samples into the line (on hook). */
  playSignal(samples: Int16Array): void;
  cancelSignal(): void;
}

/** Delay from the end of the first ring to the start of Bell 202 caller ID (REFERENCE.md). */
export const BELL_CALLER_ID_DELAY_MS = 500;
/** ETSI EN 300 659-1: polarity reversal, then at least 100 ms before the alert or the FSK. */
export const ETSI_AFTER_REVERSAL_MS = 150;
/** ETSI: the first ring comes at least 200 ms after the caller ID ends. */
export const ETSI_RING_AFTER_CLIP_MS = 250;

export class Ringer {
  state: 'idle' | 'pre-ring-clip' | 'ringing' = 'idle';
  private readonly cadence: RingCadence;
  private timer: TimerHandle | undefined;
  private pendingClip: Int16Array | null = null;

  constructor(private readonly s: RingerSeams) {
    this.cadence = new RingCadence(s.clock, {
      ringOn: () => s.line.setRinging(true),
      ringOff: () => s.line.setRinging(false),
      firstSilence: () => {
        const clip = this.pendingClip;
        this.pendingClip = null;
        if (clip) this.after(BELL_CALLER_ID_DELAY_MS, () => s.playSignal(clip));
      },
    });
  }

  /**
   * Starts ringing with `cadence`. `clip` is the caller-ID signal (already modulated), sent as `timing` says;
   * `alert` is the ETSI dual-tone alert to send before an FSK clip.
   */
  start(cadence: Cadence, timing: CallerIdTiming, clip: Int16Array | null, alert: Int16Array | null = null): void {
    this.stop();
    if (!clip || timing === 'off') {
      this.state = 'ringing';
      this.cadence.start(cadence);
      return;
    }
    if (timing === 'bell') {
      this.pendingClip = clip;
      this.state = 'ringing';
      this.cadence.start(cadence);
      return;
    }
    // ETSI: reverse polarity, optional alert, the clip, then ring.
    this.state = 'pre-ring-clip';
    this.s.line.setPolarity(true);
    const signal = alert ? concat(alert, silence(100), clip) : clip;
    this.after(ETSI_AFTER_REVERSAL_MS, () => {
      this.s.playSignal(signal);
      this.after((signal.length * 1000) / 8000 + ETSI_RING_AFTER_CLIP_MS, () => {
        this.state = 'ringing';
        this.cadence.start(cadence);
      });
    });
  }

  stop(): void {
    this.s.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingClip = null;
    if (this.state === 'idle') return;
    this.cadence.stop();
    this.s.cancelSignal();
    this.s.line.setPolarity(false);
    this.state = 'idle';
  }

  private after(ms: number, fn: () => void): void {
    this.s.clock.clearTimeout(this.timer);
    this.timer = this.s.clock.setTimeout(() => {
      this.timer = undefined;
      fn();
    }, ms);
  }
}

function silence(ms: number): Int16Array {
  return new Int16Array((ms * 8000) / 1000);
}

function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
