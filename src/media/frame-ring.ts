/**
 * A ring of fixed-size PCM frames in a SharedArrayBuffer, for exactly one writing thread and one reading thread:
 * how audio crosses between the agent's main thread and the media thread (rtp-stream-thread.ts) without a message,
 * a copy into a new buffer or a lock per frame. Each side only ever stores its own index, with Atomics, after
 * touching the frame data, so the other side never sees an index ahead of its data.
 */
export class FrameRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameRingError';
  }
}

const WRITE = 0;
const READ = 1;
const OVERFLOWS = 2;
const HEADER_BYTES = 16;

export class FrameRing {
  private readonly index: Int32Array;
  private readonly data: Int16Array;
  readonly capacity: number;

  /**
   * A new ring of at least `capacityFrames` frames of `frameSamples` samples each: the capacity is rounded up to a
   * power of two, so that a slot (the index modulo the capacity) stays the same across the 32-bit index's wrap.
   */
  static create(frameSamples: number, capacityFrames: number): FrameRing {
    if (!(Number.isInteger(frameSamples) && frameSamples > 0 && Number.isInteger(capacityFrames) && capacityFrames > 0 && capacityFrames <= 1 << 16)) {
      throw new FrameRingError(`a ring needs whole positive frame size and capacity (at most 65536 frames), got ${frameSamples} x ${capacityFrames}`);
    }
    let capacity = 1;
    while (capacity < capacityFrames) capacity <<= 1;
    return new FrameRing(new SharedArrayBuffer(HEADER_BYTES + frameSamples * capacity * 2), frameSamples);
  }

  /** The other thread's view of a ring made with `create` (its `buffer` is what crosses the thread boundary). */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly frameSamples: number,
  ) {
    const samples = (buffer.byteLength - HEADER_BYTES) / 2;
    const frames = samples / frameSamples;
    if (!(frameSamples > 0) || !Number.isInteger(frames) || samples <= 0 || (frames & (frames - 1)) !== 0) {
      throw new FrameRingError(`a ${buffer.byteLength}-byte buffer does not hold a power of two of whole frames of ${frameSamples} samples`);
    }
    this.index = new Int32Array(buffer, 0, 4);
    this.data = new Int16Array(buffer, HEADER_BYTES, samples);
    this.capacity = samples / frameSamples;
  }

  /** Frames written and not yet read. */
  get available(): number {
    return (Atomics.load(this.index, WRITE) - Atomics.load(this.index, READ)) | 0;
  }

  /** Frames the writer had to drop because the reader fell behind. */
  get overflows(): number {
    return Atomics.load(this.index, OVERFLOWS);
  }

  /** Writer side. False (and the frame is dropped and counted) when the ring is full. */
  write(frame: Int16Array): boolean {
    if (frame.length !== this.frameSamples) throw new FrameRingError(`frame of ${frame.length} samples, ${this.frameSamples} expected`);
    const w = Atomics.load(this.index, WRITE);
    if (((w - Atomics.load(this.index, READ)) | 0) >= this.capacity) {
      Atomics.add(this.index, OVERFLOWS, 1);
      return false;
    }
    this.data.set(frame, ((w >>> 0) % this.capacity) * this.frameSamples);
    Atomics.store(this.index, WRITE, (w + 1) | 0);
    return true;
  }

  /** Reader side. False when no frame is waiting; `out` is then left as it was. */
  read(out: Int16Array): boolean {
    if (out.length !== this.frameSamples) throw new FrameRingError(`frame of ${out.length} samples, ${this.frameSamples} expected`);
    const r = Atomics.load(this.index, READ);
    if (((Atomics.load(this.index, WRITE) - r) | 0) <= 0) return false;
    const at = ((r >>> 0) % this.capacity) * this.frameSamples;
    const data = this.data;
    for (let i = 0; i < out.length; i++) out[i] = data[at + i]; // a loop, not subarray: no view object per frame
    Atomics.store(this.index, READ, (r + 1) | 0);
    return true;
  }
}
