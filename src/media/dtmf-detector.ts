/**
 * DTMF detection (ITU-T Q.24) with Goertzel filters on 10 ms blocks.
 *
 * Why 10 ms blocks: a 20 ms frame is two blocks, and a digit needs three consecutive hits. A 40 ms tone always
 * covers three whole blocks; a 20 ms tone covers at most two whole blocks plus pieces, and a block that is less
 * than ~70 % tone fails the energy-ratio test, so 20 ms tones are rejected at any alignment.
 *
 * Each block must pass, in order: a level floor for both tones, twist limits, the strongest row/column standing
 * clear of the others in its group, the two tones holding most of the block's energy (the talk-off guard: speech
 * spreads energy over many harmonics), no strong second harmonic of the column tone (voiced speech has one), and a
 * frequency check: the centre filter must beat filters 5 % above and below it, which puts the accept/reject
 * boundary at 2.5 % (Q.24: accept 1.5 %, reject 3.5 %).
 */
import { DTMF_COLS, DTMF_KEYS, DTMF_ROWS } from './dtmf-keypad.js';
import { dbm0ToAmplitude } from './signal-level.js';

export interface DtmfDetectorOptions {
  sampleRate?: number;
  /** Weakest tone accepted, per frequency; default -36 dBm0 (Q.24 wants -25 dBm0 to work, with twist on top). */
  minLevelDbm0?: number;
  /** Low group stronger than high group by at most this; default 10 dB (Q.24: 8 dB, plus filter ripple). */
  normalTwistDb?: number;
  /** High group stronger than low group by at most this; default 6 dB (Q.24: 4 dB, plus filter ripple). */
  reverseTwistDb?: number;
  /** Share of the block's energy the two tones must hold; default 0.7. */
  minEnergyRatio?: number;
  /** Consecutive 10 ms blocks needed for a digit; default 3 (so 40 ms tones pass and 20 ms tones do not). */
  hitsToStart?: number;
  /** Consecutive blocks without the digit that end it; default 2 (a 40 ms pause always has three). */
  missesToEnd?: number;
}

const FREQ_OFFSET = 0.05;
const ROW_RELATIVE_PEAK = 10 ** (4 / 10);
const COL_RELATIVE_PEAK = 10 ** (6 / 10);
const HARMONIC_MAX = 10 ** (-10 / 10);

function coeff(freq: number, rate: number): number {
  return 2 * Math.cos((2 * Math.PI * freq) / rate);
}

export class DtmfDetector {
  /** `digit` while a digit is being heard (reported once, at its start). */
  state: 'silent' | 'candidate' | 'digit' = 'silent';
  readonly sampleRate: number;
  readonly blockSize: number;
  private readonly block: Float64Array;
  private fillPos = 0;
  private readonly centre = new Float64Array(8);
  private readonly side = new Float64Array(24); // per frequency: below, above, 2nd harmonic
  private readonly power = new Float64Array(8);
  private readonly minPower: number;
  private readonly normalTwist: number;
  private readonly reverseTwist: number;
  private readonly minRatio: number;
  private readonly hitsToStart: number;
  private readonly missesToEnd: number;
  private current = -1;
  private hits = 0;
  private misses = 0;
  private digitBlocks = 0;
  private readonly startCbs: ((digit: string) => void)[] = [];
  private readonly endCbs: ((digit: string, durationMs: number) => void)[] = [];

  constructor(opts: DtmfDetectorOptions = {}) {
    const rate = opts.sampleRate ?? 8000;
    if (!Number.isFinite(rate) || rate < 4000 || rate > 192000) throw new RangeError(`sampleRate out of range: ${rate}`);
    this.sampleRate = rate;
    this.blockSize = Math.round(rate / 100);
    this.block = new Float64Array(this.blockSize);
    const freqs = [...DTMF_ROWS, ...DTMF_COLS];
    for (let i = 0; i < 8; i++) {
      const f = freqs[i];
      this.centre[i] = coeff(f, rate);
      this.side[3 * i] = coeff(f * (1 - FREQ_OFFSET), rate);
      this.side[3 * i + 1] = coeff(f * (1 + FREQ_OFFSET), rate);
      this.side[3 * i + 2] = coeff(2 * f, rate);
    }
    // Goertzel power of a whole-block sine of peak A is (A*N/2)^2.
    const minAmp = dbm0ToAmplitude(opts.minLevelDbm0 ?? -36);
    this.minPower = ((minAmp * this.blockSize) / 2) ** 2;
    this.normalTwist = 10 ** ((opts.normalTwistDb ?? 10) / 10);
    this.reverseTwist = 10 ** ((opts.reverseTwistDb ?? 6) / 10);
    this.minRatio = opts.minEnergyRatio ?? 0.7;
    this.hitsToStart = opts.hitsToStart ?? 3;
    this.missesToEnd = opts.missesToEnd ?? 2;
  }

  onDigit(cb: (digit: string) => void): void {
    this.startCbs.push(cb);
  }

  /** Called when a reported digit stops, with how long it was heard (whole blocks, so +-10 ms). */
  onDigitEnd(cb: (digit: string, durationMs: number) => void): void {
    this.endCbs.push(cb);
  }

  /** Feeds samples of any length (normally one 20 ms frame). Allocates nothing. */
  process(frame: Int16Array): void {
    const n = this.blockSize;
    for (let i = 0; i < frame.length; i++) {
      this.block[this.fillPos++] = frame[i];
      if (this.fillPos === n) {
        this.fillPos = 0;
        this.step(this.classify());
      }
    }
  }

  /** Forgets any partial block and digit in progress (e.g. at the start of a new call). */
  reset(): void {
    this.fillPos = 0;
    this.state = 'silent';
    this.current = -1;
    this.hits = 0;
    this.misses = 0;
  }

  private goertzel(c: number): number {
    const x = this.block;
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < x.length; i++) {
      const s = x[i] + c * s1 - s2;
      s2 = s1;
      s1 = s;
    }
    return s1 * s1 + s2 * s2 - c * s1 * s2;
  }

  /** The keypad index (row * 4 + col) heard in the block just filled, or -1. */
  private classify(): number {
    const p = this.power;
    for (let i = 0; i < 8; i++) p[i] = this.goertzel(this.centre[i]);
    let r = 0;
    let c = 4;
    for (let i = 1; i < 4; i++) {
      if (p[i] > p[r]) r = i;
      if (p[4 + i] > p[c]) c = 4 + i;
    }
    const pr = p[r];
    const pc = p[c];
    if (pr < this.minPower || pc < this.minPower) return -1;
    if (pr > pc * this.normalTwist || pc > pr * this.reverseTwist) return -1;
    for (let i = 0; i < 4; i++) {
      if (i !== r && p[i] * ROW_RELATIVE_PEAK > pr) return -1;
      if (4 + i !== c && p[4 + i] * COL_RELATIVE_PEAK > pc) return -1;
    }
    let energy = 0;
    const x = this.block;
    for (let i = 0; i < x.length; i++) energy += x[i] * x[i];
    if (((pr + pc) * 2) / this.blockSize < this.minRatio * energy) return -1;
    if (this.goertzel(this.side[3 * c + 2]) > pc * HARMONIC_MAX) return -1;
    if (!this.centred(r) || !this.centred(c)) return -1;
    return r * 4 + (c - 4);
  }

  private centred(k: number): boolean {
    const centre = this.power[k];
    return this.goertzel(this.side[3 * k]) <= centre && this.goertzel(this.side[3 * k + 1]) <= centre;
  }

  private step(hit: number): void {
    switch (this.state) {
      case 'silent':
        if (hit >= 0) this.begin(hit);
        break;
      case 'candidate':
        if (hit === this.current) {
          if (++this.hits >= this.hitsToStart) {
            this.state = 'digit';
            this.misses = 0;
            this.digitBlocks = this.hits;
            const d = this.digitName(this.current);
            for (const cb of this.startCbs) cb(d);
          }
        } else if (hit >= 0) this.begin(hit);
        else this.state = 'silent';
        break;
      case 'digit':
        if (hit === this.current) {
          this.misses = 0;
          this.digitBlocks++;
          break;
        }
        if (++this.misses < this.missesToEnd) break;
        {
          const d = this.digitName(this.current);
          const ms = (this.digitBlocks * this.blockSize * 1000) / this.sampleRate;
          for (const cb of this.endCbs) cb(d, ms);
        }
        if (hit >= 0) this.begin(hit);
        else this.state = 'silent';
        break;
    }
  }

  private begin(hit: number): void {
    this.state = 'candidate';
    this.current = hit;
    this.hits = 1;
  }

  private digitName(idx: number): string {
    return DTMF_KEYS[idx >> 2][idx & 3];
  }
}

/** All digits in a recording, in order. A trailing digit still sounding at the end counts. */
export function detectDtmf(pcm: Int16Array, sampleRate = 8000): string {
  const det = new DtmfDetector({ sampleRate });
  let out = '';
  det.onDigit((d) => {
    out += d;
  });
  det.process(pcm);
  return out;
}
