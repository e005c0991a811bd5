/**
 * DTMF generation: whole strings (`generateDtmf`) for tests and files, and a streaming `DtmfSender` that fills
 * 20 ms frames for the simulated phone's mouthpiece without allocating.
 */
import { dtmfFrequencies } from './dtmf-keypad.js';
import { dbm0ToAmplitude } from './signal-level.js';

export interface DtmfOptions {
  /** Tone length per digit; default 100 ms (Q.24 asks receivers to take 40 ms). */
  onMs?: number;
  /** Silence after each digit; default 100 ms. */
  offMs?: number;
  /** Level of each of the two frequencies; default -10 dBm0 (a phone sends about -9 / -7 dBm per group). */
  levelDbm0?: number;
  /** High group level minus low group level in dB (negative = normal twist); default 0. */
  twistDb?: number;
  /** Multiply both frequencies by (1 + frequencyError); for testing receivers. Default 0. */
  frequencyError?: number;
  sampleRate?: number;
}

interface ResolvedDtmfOptions {
  onSamples: number;
  offSamples: number;
  lowAmp: number;
  highAmp: number;
  frequencyError: number;
  sampleRate: number;
}

export class DtmfOptionsError extends Error {
  constructor(readonly option: string, readonly value: unknown) {
    super(`bad DTMF option ${option}: ${String(value)}`);
    this.name = 'DtmfOptionsError';
  }
}

function resolve(opts: DtmfOptions): ResolvedDtmfOptions {
  const sampleRate = opts.sampleRate ?? 8000;
  const onMs = opts.onMs ?? 100;
  const offMs = opts.offMs ?? 100;
  const level = opts.levelDbm0 ?? -10;
  const twist = opts.twistDb ?? 0;
  const check = (name: string, v: number, lo: number, hi: number): void => {
    if (!Number.isFinite(v) || v < lo || v > hi) throw new DtmfOptionsError(name, v);
  };
  check('sampleRate', sampleRate, 4000, 192000);
  check('onMs', onMs, 1, 10000);
  check('offMs', offMs, 0, 10000);
  check('levelDbm0', level, -80, 0);
  check('twistDb', twist, -20, 20);
  check('frequencyError', opts.frequencyError ?? 0, -0.2, 0.2);
  return {
    onSamples: Math.round((onMs * sampleRate) / 1000),
    offSamples: Math.round((offMs * sampleRate) / 1000),
    lowAmp: dbm0ToAmplitude(level - Math.max(0, twist) / 2 + Math.max(0, -twist) / 2),
    highAmp: dbm0ToAmplitude(level + Math.max(0, twist) / 2 - Math.max(0, -twist) / 2),
    frequencyError: opts.frequencyError ?? 0,
    sampleRate,
  };
}

/** The whole signal for `digits` (each followed by its pause) as s16 samples. */
export function generateDtmf(digits: string, opts: DtmfOptions = {}): Int16Array {
  const sender = new DtmfSender(opts);
  sender.send(digits);
  const r = resolve(opts);
  const out = new Int16Array(digits.length * (r.onSamples + r.offSamples));
  sender.fill(out);
  return out;
}

/**
 * Plays queued digits into frames. Each tone starts at phase zero so a digit's start is clean; `fill` writes
 * silence once the queue is empty, and returns whether anything is still to play.
 */
export class DtmfSender {
  state: 'idle' | 'tone' | 'pause' = 'idle';
  private readonly o: ResolvedDtmfOptions;
  private queue = '';
  private pos = 0;
  private remaining = 0;
  private lowStep = 0;
  private highStep = 0;
  private lowPhase = 0;
  private highPhase = 0;

  constructor(opts: DtmfOptions = {}) {
    this.o = resolve(opts);
  }

  /** Queues digits; throws DtmfDigitError (queueing nothing) if any character is not a DTMF digit. */
  send(digits: string): void {
    for (const d of digits) dtmfFrequencies(d);
    this.queue = this.queue.slice(this.pos) + digits;
    this.pos = 0;
    if (this.state === 'idle') this.startNext();
  }

  /** Drops queued digits; a tone already playing ends at once. */
  cancel(): void {
    this.queue = '';
    this.pos = 0;
    this.state = 'idle';
  }

  get busy(): boolean {
    return this.state !== 'idle';
  }

  private startNext(): void {
    if (this.pos >= this.queue.length) {
      this.state = 'idle';
      return;
    }
    const [lo, hi] = dtmfFrequencies(this.queue[this.pos++]);
    const k = (2 * Math.PI * (1 + this.o.frequencyError)) / this.o.sampleRate;
    this.lowStep = lo * k;
    this.highStep = hi * k;
    this.lowPhase = 0;
    this.highPhase = 0;
    this.remaining = this.o.onSamples;
    this.state = 'tone';
  }

  /** Writes `frame.length` samples (tone, pause or silence). Returns true while digits remain to be played. */
  fill(frame: Int16Array): boolean {
    let i = 0;
    const n = frame.length;
    while (i < n) {
      if (this.state === 'idle') {
        frame.fill(0, i);
        break;
      }
      const count = Math.min(this.remaining, n - i);
      if (this.state === 'tone') {
        const { lowAmp, highAmp } = this.o;
        let pl = this.lowPhase;
        let ph = this.highPhase;
        for (let j = 0; j < count; j++) {
          frame[i + j] = Math.round(lowAmp * Math.sin(pl) + highAmp * Math.sin(ph));
          pl += this.lowStep;
          ph += this.highStep;
        }
        this.lowPhase = pl % (2 * Math.PI);
        this.highPhase = ph % (2 * Math.PI);
      } else {
        frame.fill(0, i, i + count);
      }
      i += count;
      this.remaining -= count;
      if (this.remaining === 0) {
        if (this.state === 'tone' && this.o.offSamples > 0) {
          this.state = 'pause';
          this.remaining = this.o.offSamples;
        } else {
          this.startNext();
        }
      }
    }
    return this.state !== 'idle';
  }
}
