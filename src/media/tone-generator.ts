/**
 * Plays a ToneSpec into frames. Every distinct frequency of the tone has one oscillator that keeps running through
 * silences and segment changes, so a frequency that continues from one segment to the next (uk `350+440/750,440/750`)
 * has no phase jump, and consecutive frames join without clicks. Filling allocates nothing.
 */
import type { ToneSpec } from './tone-plan.js';
import { dbm0ToAmplitude } from './signal-level.js';

const MODULATION_DEPTH = 0.9;

export class ToneGenerator {
  /** `finished` once a tone made only of `!` items has played its single pass (it then writes silence). */
  state: 'playing' | 'finished' = 'playing';
  readonly spec: ToneSpec;
  private readonly steps: Float64Array; // phase increment per distinct frequency
  private readonly phases: Float64Array;
  private readonly gains: Float64Array; // segment-major: gain of each distinct frequency
  private readonly carrier: Int32Array; // per segment: oscillator index of the carrier when modulated, else -1
  private readonly modulator: Int32Array;
  private readonly lengths: Float64Array; // samples per segment, Infinity when continuous
  private readonly once: Uint8Array;
  private readonly nf: number;
  private seg = 0;
  private firstPass = true;
  private remaining = 0;
  private readonly amplitude: number;

  constructor(spec: ToneSpec, readonly sampleRate = 8000) {
    this.spec = spec;
    const freqs: number[] = [];
    for (const s of spec.segments) for (const f of s.freqs) if (!freqs.includes(f)) freqs.push(f);
    this.nf = freqs.length;
    this.steps = Float64Array.from(freqs, (f) => (2 * Math.PI * f) / sampleRate);
    this.phases = new Float64Array(this.nf);
    const n = spec.segments.length;
    this.gains = new Float64Array(n * this.nf);
    this.carrier = new Int32Array(n).fill(-1);
    this.modulator = new Int32Array(n).fill(-1);
    this.lengths = new Float64Array(n);
    this.once = new Uint8Array(n);
    this.amplitude = dbm0ToAmplitude(spec.levelDbm0);
    spec.segments.forEach((s, i) => {
      this.lengths[i] = s.durationMs === null ? Infinity : Math.max(1, Math.round((s.durationMs * sampleRate) / 1000));
      this.once[i] = s.once ? 1 : 0;
      if (s.modulated) {
        this.carrier[i] = freqs.indexOf(s.freqs[0]);
        this.modulator[i] = freqs.indexOf(s.freqs[1]);
      } else for (const f of s.freqs) this.gains[i * this.nf + freqs.indexOf(f)] = this.amplitude;
    });
    this.reset();
  }

  /** Starts the cadence again from its first item (oscillator phases carry on). */
  reset(): void {
    this.firstPass = true;
    this.seg = 0;
    this.state = this.lengths.length ? 'playing' : 'finished';
    this.remaining = this.lengths.length ? this.lengths[0] : 0;
  }

  /** Index of the segment now playing, for tests and status. */
  get segment(): number {
    return this.seg;
  }

  private advanceSegment(): void {
    const n = this.lengths.length;
    for (let tries = 0; tries <= n; tries++) {
      this.seg++;
      if (this.seg >= n) {
        this.seg = 0;
        this.firstPass = false;
      }
      if (this.firstPass || !this.once[this.seg]) {
        this.remaining = this.lengths[this.seg];
        return;
      }
    }
    this.state = 'finished';
  }

  /** Writes the next `frame.length` samples. */
  fill(frame: Int16Array): void {
    const nf = this.nf;
    const steps = this.steps;
    const phases = this.phases;
    let i = 0;
    while (i < frame.length) {
      const count = this.state === 'finished' ? frame.length - i : Math.min(this.remaining, frame.length - i);
      const base = this.seg * nf;
      const car = this.state === 'finished' ? -1 : this.carrier[this.seg];
      const mod = car >= 0 ? this.modulator[this.seg] : -1;
      const silent = this.state === 'finished';
      for (let j = 0; j < count; j++) {
        let y = 0;
        if (car >= 0) {
          y = (this.amplitude * Math.sin(phases[car]) * (1 + MODULATION_DEPTH * Math.sin(phases[mod]))) / (1 + MODULATION_DEPTH);
        } else if (!silent) {
          for (let k = 0; k < nf; k++) {
            const g = this.gains[base + k];
            if (g !== 0) y += g * Math.sin(phases[k]);
          }
        }
        for (let k = 0; k < nf; k++) phases[k] += steps[k];
        frame[i + j] = y > 32767 ? 32767 : y < -32768 ? -32768 : Math.round(y);
      }
      for (let k = 0; k < nf; k++) if (phases[k] > 1e6) phases[k] %= 2 * Math.PI;
      i += count;
      if (this.state === 'finished') break;
      this.remaining -= count;
      if (this.remaining <= 0) this.advanceSegment();
    }
  }
}
