import { AUDIO_FRAME_SAMPLES, FrameAssembler } from '../audio-port.js';
import { Resampler } from './resampler.js';

/**
 * Bytes from a capture process (s16le at the card's rate) to exact 8 kHz 20 ms frames: joins odd bytes split
 * across chunks, resamples when the card is not at 8 kHz, and cuts frames. Scratch arrays are reused, and nothing
 * is allocated per chunk once they have grown to the chunks' size.
 */
export class CapturePipeline {
  private carry = -1;
  private samples = new Int16Array(4096);
  private resampled = new Int16Array(4096);
  private readonly resampler: Resampler | undefined;
  private readonly frames: FrameAssembler;

  constructor(cardRate: number, emit: (frame: Int16Array) => void) {
    this.resampler = cardRate === 8000 ? undefined : new Resampler(cardRate, 8000);
    this.frames = new FrameAssembler(emit);
  }

  get delayMs(): number {
    return this.resampler ? (this.resampler.delayOutputSamples / 8000) * 1000 : 0;
  }

  /** Takes the first `length` bytes of `chunk`. */
  push(chunk: Uint8Array, length = chunk.length): void {
    let off = 0;
    let n = 0;
    const need = Math.ceil(length / 2) + 1;
    if (this.samples.length < need) this.samples = new Int16Array(need * 2);
    const samples = this.samples;
    if (this.carry >= 0 && length > 0) {
      samples[n++] = (((chunk[0] << 8) | this.carry) << 16) >> 16;
      this.carry = -1;
      off = 1;
    }
    for (; off + 1 < length; off += 2) samples[n++] = (((chunk[off + 1] << 8) | chunk[off]) << 16) >> 16;
    if (off < length) this.carry = chunk[off];
    if (!this.resampler) {
      this.frames.push(samples, n);
      return;
    }
    const max = this.resampler.maxOutput(n);
    if (this.resampled.length < max) this.resampled = new Int16Array(max * 2);
    this.frames.push(this.resampled, this.resampler.process(samples, this.resampled, n));
  }
}

/** 8 kHz frames to s16le bytes at the card's rate, for a playback process. */
export class PlaybackPipeline {
  private readonly resampler: Resampler | undefined;
  private readonly resampled: Int16Array;
  /** The most bytes one frame becomes: the size of a buffer for convertInto. */
  readonly frameBytes: number;
  private readonly pool: Buffer[];
  private next = 0;

  /** `poolSize`: buffers convert() rotates through (a stream keeps a written buffer until it is flushed); 0 for convertInto only. */
  constructor(cardRate: number, poolSize = 32) {
    this.resampler = cardRate === 8000 ? undefined : new Resampler(8000, cardRate);
    const maxOut = this.resampler ? this.resampler.maxOutput(AUDIO_FRAME_SAMPLES) : AUDIO_FRAME_SAMPLES;
    this.resampled = new Int16Array(maxOut);
    this.frameBytes = maxOut * 2;
    this.pool = Array.from({ length: poolSize }, () => Buffer.alloc(this.frameBytes));
  }

  get delayMs(): number {
    return this.resampler ? (this.resampler.delayOutputSamples / this.resampler.outRate) * 1000 : 0;
  }

  /** Writes `pcm` converted for the card into `out` (frameBytes long); returns the number of bytes. */
  convertInto(pcm: Int16Array, out: Uint8Array): number {
    if (pcm.length > AUDIO_FRAME_SAMPLES) throw new RangeError('play() takes 20 ms frames (160 samples)');
    let src = pcm;
    let n = pcm.length;
    if (this.resampler) {
      src = this.resampled;
      n = this.resampler.process(pcm, this.resampled);
    }
    n = Math.min(n, out.length >> 1);
    for (let i = 0; i < n; i++) {
      const s = src[i];
      out[2 * i] = s & 0xff;
      out[2 * i + 1] = (s >> 8) & 0xff;
    }
    return 2 * n;
  }

  /** For a stream: a view of a pooled buffer holding `pcm` converted for the card. */
  convert(pcm: Int16Array): Buffer {
    const buf = this.pool[this.next];
    this.next = (this.next + 1) % this.pool.length;
    return buf.subarray(0, this.convertInto(pcm, buf));
  }
}
