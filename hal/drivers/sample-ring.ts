/**
 * A fixed-size FIFO of samples, preallocated so the audio path allocates nothing per frame. When full, the oldest
 * samples give way (a late earpiece is worse than a clipped one) and `dropped` counts them.
 */
export class SampleRing {
  private readonly buf: Int16Array;
  private head = 0; // next read
  private size = 0;
  dropped = 0;

  constructor(capacity: number) {
    this.buf = new Int16Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  push(pcm: Int16Array): void {
    const cap = this.buf.length;
    let src = pcm;
    if (src.length > cap) {
      this.dropped += src.length - cap;
      src = src.subarray(src.length - cap);
    }
    const overflow = this.size + src.length - cap;
    if (overflow > 0) {
      this.head = (this.head + overflow) % cap;
      this.size -= overflow;
      this.dropped += overflow;
    }
    let tail = (this.head + this.size) % cap;
    const first = Math.min(src.length, cap - tail);
    this.buf.set(src.subarray(0, first), tail);
    if (first < src.length) this.buf.set(src.subarray(first), 0);
    this.size += src.length;
    tail = (tail + src.length) % cap;
  }

  /** Fills `out` from the FIFO; what is missing is silence. Returns how many samples were real. */
  pullInto(out: Int16Array): number {
    const cap = this.buf.length;
    const n = Math.min(out.length, this.size);
    const first = Math.min(n, cap - this.head);
    out.set(this.buf.subarray(this.head, this.head + first), 0);
    if (first < n) out.set(this.buf.subarray(0, n - first), first);
    if (n < out.length) out.fill(0, n);
    this.head = (this.head + n) % cap;
    this.size -= n;
    return n;
  }

  /** Adds up to out.length samples from the FIFO into `out`, saturating at 16 bits. Returns how many were mixed. */
  mixInto(out: Int16Array): number {
    const cap = this.buf.length;
    const n = Math.min(out.length, this.size);
    for (let i = 0; i < n; i++) {
      const s = out[i] + this.buf[(this.head + i) % cap];
      out[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    }
    this.head = (this.head + n) % cap;
    this.size -= n;
    return n;
  }
}
