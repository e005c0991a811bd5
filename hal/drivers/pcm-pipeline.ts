import { AUDIO_FRAME_SAMPLES, FrameAssembler } from '../audio-port.js';
import { Resampler } from './resampler.js';

/**
 * Bytes from a capture process (s16le at the card's rate) to exact 8 kHz 20 ms frames: joins odd bytes split
 * across chunks, resamples when the card is not at 8 kHz, and cuts frames. Scratch arrays are reused.
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

  push(chunk: Buffer): void {
    let off = 0;
    let n = 0;
    const need = Math.ceil(chunk.length / 2) + 1;
    if (this.samples.length < need) this.samples = new Int16Array(need * 2);
    if (this.carry >= 0 && chunk.length > 0) {
      this.samples[n++] = (((chunk[0] << 8) | this.carry) << 16) >> 16;
      this.carry = -1;
      off = 1;
    }
    for (; off + 1 < chunk.length; off += 2) this.samples[n++] = chunk.readInt16LE(off);
    if (off < chunk.length) this.carry = chunk[off];
    const block = this.samples.subarray(0, n);
    if (!this.resampler) {
      this.frames.push(block);
      return;
    }
    const max = this.resampler.maxOutput(n);
    if (this.resampled.length < max) this.resampled = new Int16Array(max * 2);
    const m = this.resampler.process(block, this.resampled);
    this.frames.push(this.resampled.subarray(0, m));
  }
}

/**
 * 8 kHz frames to bytes for a playback process at the card's rate. Output buffers rotate through a small pool,
 * since a stream keeps a written buffer until it is flushed; the caller bounds how many are in flight.
 */
export class PlaybackPipeline {
  private readonly resampler: Resampler | undefined;
  private readonly resampled: Int16Array;
  private readonly pool: Buffer[];
  private next = 0;

  constructor(cardRate: number, poolSize = 32) {
    this.resampler = cardRate === 8000 ? undefined : new Resampler(8000, cardRate);
    const maxOut = this.resampler ? this.resampler.maxOutput(AUDIO_FRAME_SAMPLES) : AUDIO_FRAME_SAMPLES;
    this.resampled = new Int16Array(maxOut);
    this.pool = Array.from({ length: poolSize }, () => Buffer.alloc(maxOut * 2));
  }

  get delayMs(): number {
    return this.resampler ? (this.resampler.delayOutputSamples / this.resampler.outRate) * 1000 : 0;
  }

  /** Returns a view of a pooled buffer holding `pcm` converted for the card. */
  convert(pcm: Int16Array): Buffer {
    if (pcm.length > AUDIO_FRAME_SAMPLES) throw new RangeError('play() takes 20 ms frames (160 samples)');
    let src = pcm;
    if (this.resampler) {
      src = this.resampled.subarray(0, this.resampler.process(pcm, this.resampled));
    }
    const buf = this.pool[this.next];
    this.next = (this.next + 1) % this.pool.length;
    const n = Math.min(src.length, buf.length / 2);
    for (let i = 0; i < n; i++) buf.writeInt16LE(src[i], 2 * i);
    return buf.subarray(0, 2 * n);
  }
}
