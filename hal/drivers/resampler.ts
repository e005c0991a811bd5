/**
 * Rational-ratio sample-rate converter (polyphase FIR, Kaiser-windowed sinc). Most USB sound cards only run at
 * 44.1/48 kHz; the line runs at 8 kHz. Dropping or repeating samples would fold everything above 4 kHz back into
 * the voice band (and confuse the DTMF detector), so the filter cuts at the lower Nyquist with about 80 dB of
 * stopband. Streaming: any chunk size in, history kept between calls, buffers preallocated.
 */
function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (Kaiser window), by its power series. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 60; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

export interface ResamplerOptions {
  /** Stopband attenuation in dB (Kaiser design); default 80. */
  attenuationDb?: number;
  /** Transition band width as a fraction of the lower rate; default 0.15 (3.4-4.6 kHz around 4 kHz at 8 kHz). */
  transition?: number;
}

export class Resampler {
  readonly up: number;
  readonly down: number;
  /** Taps per polyphase branch. */
  readonly tapsPerPhase: number;
  private readonly phases: Float32Array[];
  private hist: Float32Array;
  private phase = 0;
  /** Index, in the next chunk, of the input sample the next output is aligned to. */
  private nextIndex = 0;

  constructor(
    readonly inRate: number,
    readonly outRate: number,
    opts: ResamplerOptions = {},
  ) {
    if (!Number.isInteger(inRate) || !Number.isInteger(outRate) || inRate <= 0 || outRate <= 0) {
      throw new RangeError(`resampler rates must be positive integers (got ${inRate} -> ${outRate})`);
    }
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    const atten = opts.attenuationDb ?? 80;
    const minRate = Math.min(inRate, outRate);
    const highRate = inRate * this.up;
    const dw = (2 * Math.PI * (opts.transition ?? 0.15) * minRate) / highRate;
    let n = Math.ceil((atten - 7.95) / (2.285 * dw)) + 1;
    n = Math.ceil(n / this.up) * this.up;
    this.tapsPerPhase = n / this.up;
    const beta = atten > 50 ? 0.1102 * (atten - 8.7) : 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21);
    const fc = minRate / 2 / highRate; // cycles per high-rate sample
    const mid = (n - 1) / 2;
    const i0b = besselI0(beta);
    const h = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = i - mid;
      const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
      const r = (2 * i) / (n - 1) - 1;
      h[i] = sinc * (besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0b);
    }
    // Interpolation spreads each input sample over `up` outputs: scale so the passband gain is 1.
    this.phases = [];
    for (let p = 0; p < this.up; p++) {
      const c = new Float32Array(this.tapsPerPhase);
      for (let k = 0; k < this.tapsPerPhase; k++) c[k] = h[p + k * this.up] * this.up;
      this.phases.push(c);
    }
    this.hist = new Float32Array(this.tapsPerPhase - 1 + 4096);
  }

  /** Samples of delay the filter adds, in output samples (its group delay). */
  get delayOutputSamples(): number {
    return (this.tapsPerPhase * this.up - 1) / 2 / this.down;
  }

  /** An upper bound of the output length for `inputLength` input samples (to size the output array). */
  maxOutput(inputLength: number): number {
    return Math.ceil(((inputLength + 1) * this.up) / this.down) + 1;
  }

  /**
   * Converts the first `length` samples of `input`, writing into `output` (size it with maxOutput); returns the
   * number of samples written. A length rather than a subarray, so the card's path makes no view per chunk.
   */
  process(input: Int16Array, output: Int16Array, length = input.length): number {
    const k = this.tapsPerPhase;
    const keep = k - 1;
    if (this.hist.length < keep + length) {
      const bigger = new Float32Array(keep + length);
      bigger.set(this.hist.subarray(0, keep));
      this.hist = bigger;
    }
    const hist = this.hist;
    for (let i = 0; i < length; i++) hist[keep + i] = input[i];
    let out = 0;
    let i = this.nextIndex;
    let p = this.phase;
    while (i < length) {
      if (out === output.length) throw new RangeError('resampler output array too small: size it with maxOutput()');
      const c = this.phases[p];
      const base = keep + i; // newest sample in the window
      let acc = 0;
      for (let j = 0; j < k; j++) acc += c[j] * hist[base - j];
      output[out++] = acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc);
      p += this.down;
      while (p >= this.up) {
        p -= this.up;
        i++;
      }
    }
    this.phase = p;
    this.nextIndex = i - length;
    // Slide the last k-1 input samples to the front for the next call.
    hist.copyWithin(0, length, length + keep);
    return out;
  }

  reset(): void {
    this.hist.fill(0);
    this.phase = 0;
    this.nextIndex = 0;
  }
}
