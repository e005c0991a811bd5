/**
 * Packet-loss concealment after ITU-T G.711 Appendix I: when samples are missing, estimate the pitch of what was
 * just heard (normalised autocorrelation), repeat the last one to three pitch periods with a quarter-period
 * overlap-add at every seam, fade 20 % per 10 ms after the first 10 ms, go silent after 60 ms, and cross-fade back
 * into real audio when it returns (longer fades after longer losses).
 *
 * Differences from the Appendix I reference code, on purpose:
 * - It works on runs of any length rather than fixed 10 ms frames, because the jitter buffer's skew correction
 *   moves packet edges inside its 20 ms output frames. The Appendix's per-frame events (the pitch buffer growing
 *   to 2 and 3 periods at 10 and 20 ms, the fade) are kept at the same sample counts.
 * - The fade is a per-sample linear ramp from the first 10 ms onward (the Appendix steps its starting gain per
 *   frame and ramps inside it; the resulting curve is the same).
 *
 * Like the Appendix, the output is delayed by `delaySamples` (3.75 ms at 8 kHz) so that the seam at the start of a
 * loss can be smoothed in samples not yet played. Nothing is allocated after construction.
 */

/** What a processed block contained, as bit flags (a block can hold several kinds). */
export const BLOCK_AUDIO = 1;
export const BLOCK_CONCEALED = 2;
export const BLOCK_SILENCE = 4;

export interface ConcealerOptions {
  /** Samples per second; the Appendix's constants are for 8000 and scale with it. */
  sampleRate?: number;
  /** Largest block `process` will be given. */
  maxBlock: number;
}

export class PacketLossConcealer {
  /** Output lags input by this many samples (POVERLAPMAX of the Appendix). */
  readonly delaySamples: number;
  private readonly frame: number; // 10 ms: the unit of the Appendix's events
  private readonly pitchMin: number;
  private readonly pitchMax: number;
  private readonly corrLen: number;
  private readonly histLen: number;
  private readonly overlapIncr: number; // extra end-of-loss fade per 10 ms lost
  private readonly muteAfter: number; // silence after this many concealed samples

  /** History plus room for one block; samples [len-delay, len) are not yet played. */
  private readonly stream: Float32Array;
  private len: number;
  /** Copy of the history taken when a loss starts; the last `pitchLen` samples before `pbEnd` are repeated. */
  private readonly pitchBuf: Float32Array;
  private readonly pbEnd: number;
  private readonly lastQ: Float32Array; // the history's original last quarter period
  private readonly seamBuf: Float32Array; // old synthesis faded into the grown pitch buffer
  private readonly fadeBuf: Float32Array; // synthesis faded into returning audio

  private erasing = false;
  private silentLoss = false; // the loss follows silence: nothing to conceal, report it as silence
  private erased = 0; // samples concealed so far in the current loss
  private pitch = 0;
  private overlap = 0;
  private pitchLen = 0;
  private pOffset = 0;
  private seamPos = 0;
  private seamLen = 0;
  private fadePos = 0;
  private fadeLen = 0;
  private fadeGain = 1;
  /** Last estimated pitch period in samples (0 before any loss); exposed for tests and status. */
  lastPitch = 0;

  constructor(opts: ConcealerOptions) {
    const scale = (opts.sampleRate ?? 8000) / 8000;
    this.frame = Math.round(80 * scale);
    this.pitchMin = Math.round(40 * scale);
    this.pitchMax = Math.round(120 * scale);
    this.corrLen = Math.round(160 * scale);
    this.delaySamples = this.pitchMax >> 2;
    this.histLen = this.pitchMax * 3 + this.delaySamples;
    this.overlapIncr = Math.round(32 * scale);
    this.muteAfter = this.frame * 6;
    this.stream = new Float32Array(this.histLen + opts.maxBlock);
    this.len = this.histLen;
    this.pitchBuf = new Float32Array(this.histLen);
    this.pbEnd = this.histLen;
    this.lastQ = new Float32Array(this.delaySamples);
    this.seamBuf = new Float32Array(this.delaySamples);
    this.fadeBuf = new Float32Array(this.frame);
  }

  /** Forgets all history (a new call). */
  reset(): void {
    this.stream.fill(0);
    this.len = this.histLen;
    this.erasing = false;
    this.erased = 0;
    this.fadeLen = this.fadePos = 0;
    this.seamLen = this.seamPos = 0;
  }

  /** True while the current loss has gone on long enough that only silence is produced. */
  get muted(): boolean {
    return this.erasing && this.erased >= this.muteAfter;
  }

  /**
   * Takes `n` input samples of which those with `valid[i] !== 0` were received, writes `n` output samples (delayed
   * by `delaySamples`) to `out`, and returns BLOCK_* flags describing the input.
   */
  process(src: Int16Array, valid: Uint8Array, n: number, out: Int16Array): number {
    let flags = 0;
    const s = this.stream;
    for (let i = 0; i < n; i++) {
      if (valid[i] !== 0) {
        if (this.erasing) this.endLoss();
        let x = src[i];
        if (this.fadePos < this.fadeLen) x = this.fadeIn(x);
        s[this.len++] = x;
        flags |= BLOCK_AUDIO;
      } else {
        if (!this.erasing) this.startLoss();
        const x = this.synthesize();
        s[this.len++] = x;
        flags |= this.silentLoss || this.erased > this.muteAfter ? BLOCK_SILENCE : BLOCK_CONCEALED;
      }
    }
    const from = this.len - n - this.delaySamples;
    for (let i = 0; i < n; i++) {
      const v = Math.round(s[from + i]);
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    s.copyWithin(0, this.len - this.histLen, this.len);
    this.len = this.histLen;
    return flags;
  }

  private startLoss(): void {
    this.fadeLen = this.fadePos = 0;
    const s = this.stream;
    const hStart = this.len - this.histLen;
    const pb = this.pitchBuf;
    let energy = 0;
    for (let i = 0; i < this.histLen; i++) {
      const v = s[hStart + i];
      pb[i] = v;
      energy += v * v;
    }
    this.silentLoss = energy === 0;
    this.pitch = this.findPitch();
    this.lastPitch = this.pitch;
    this.overlap = this.pitch >> 2;
    const ov = this.overlap;
    for (let i = 0; i < ov; i++) this.lastQ[i] = pb[this.pbEnd - ov + i];
    this.pOffset = 0;
    this.pitchLen = this.pitch;
    this.blendTail();
    // The history's unplayed tail takes the blended values, so the seam into the repetition is smooth.
    for (let i = 0; i < ov; i++) s[this.len - ov + i] = pb[this.pbEnd - ov + i];
    this.erasing = true;
    this.erased = 0;
    this.seamLen = this.seamPos = 0;
  }

  /** Cross-fades the pitch buffer's last quarter period into the quarter period before its start. */
  private blendTail(): void {
    const pb = this.pitchBuf;
    const ov = this.overlap;
    const start = this.pbEnd - this.pitchLen;
    const incr = 1 / ov;
    let lw = 1 - incr;
    let rw = incr;
    for (let i = 0; i < ov; i++) {
      pb[this.pbEnd - ov + i] = this.lastQ[i] * lw + pb[start - ov + i] * rw;
      lw -= incr;
      rw += incr;
    }
  }

  private nextPeriodic(): number {
    const v = this.pitchBuf[this.pbEnd - this.pitchLen + this.pOffset];
    if (++this.pOffset === this.pitchLen) this.pOffset = 0;
    return v;
  }

  /** At 10 and 20 ms into a loss, one more period joins the repetition (less buzzy on long losses). */
  private growPitchBuffer(): void {
    const ov = this.overlap;
    const save = this.pOffset;
    for (let i = 0; i < ov; i++) this.seamBuf[i] = this.nextPeriodic();
    this.pOffset = save;
    while (this.pOffset > this.pitch) this.pOffset -= this.pitch;
    this.pitchLen += this.pitch;
    this.blendTail();
    this.seamLen = ov;
    this.seamPos = 0;
  }

  private gainAt(e: number): number {
    if (e < this.frame) return 1;
    const g = 1 - (0.2 * (e - this.frame)) / this.frame;
    return g > 0 ? g : 0;
  }

  private synthesize(): number {
    const e = this.erased++;
    if (e >= this.muteAfter) return 0;
    if (e === this.frame || e === 2 * this.frame) this.growPitchBuffer();
    let v = this.nextPeriodic();
    if (this.seamPos < this.seamLen) {
      const rw = (this.seamPos + 1) / (this.seamLen + 1);
      v = this.seamBuf[this.seamPos++] * (1 - rw) + v * rw;
    }
    return v * this.gainAt(e);
  }

  private endLoss(): void {
    const frames = Math.ceil(this.erased / this.frame);
    let olen = this.overlap + (frames - 1) * this.overlapIncr;
    if (olen > this.frame) olen = this.frame;
    if (olen < 1) olen = 1;
    this.fadeGain = this.gainAt(this.erased);
    for (let i = 0; i < olen; i++) {
      let v = this.nextPeriodic();
      if (this.seamPos < this.seamLen) {
        const rw = (this.seamPos + 1) / (this.seamLen + 1);
        v = this.seamBuf[this.seamPos++] * (1 - rw) + v * rw;
      }
      this.fadeBuf[i] = v;
    }
    this.fadeLen = olen;
    this.fadePos = 0;
    this.erasing = false;
    this.erased = 0;
  }

  private fadeIn(x: number): number {
    const rw = (this.fadePos + 1) / (this.fadeLen + 1);
    const v = this.fadeBuf[this.fadePos++] * (1 - rw) * this.fadeGain + x * rw;
    return v;
  }

  /**
   * Pitch period (samples) maximising the normalised correlation between the last `corrLen` samples and the
   * window one period earlier: a coarse search at 2:1 decimation, then a full-resolution search around the best.
   */
  private findPitch(): number {
    let best = this.pitchMax;
    let bestCorr = -Infinity;
    for (let lag = this.pitchMax; lag >= this.pitchMin; lag -= 2) {
      const c = this.corrAt(lag, 2);
      if (c >= bestCorr) {
        bestCorr = c;
        best = lag;
      }
    }
    const lo = Math.max(this.pitchMin, best - 1);
    const hi = Math.min(this.pitchMax, best + 1);
    let fine = best;
    bestCorr = -Infinity;
    for (let lag = hi; lag >= lo; lag--) {
      const c = this.corrAt(lag, 1);
      if (c >= bestCorr) {
        bestCorr = c;
        fine = lag;
      }
    }
    return fine;
  }

  private corrAt(lag: number, step: number): number {
    const pb = this.pitchBuf;
    const l0 = this.pbEnd - this.corrLen;
    const r0 = l0 - lag;
    let energy = 0;
    let corr = 0;
    for (let i = 0; i < this.corrLen; i += step) {
      const r = pb[r0 + i];
      energy += r * r;
      corr += r * pb[l0 + i];
    }
    const minPower = 250 * (2 / step);
    return corr / Math.sqrt(energy < minPower ? minPower : energy);
  }
}
