import { describe, expect, it } from 'vitest';
import { FrameRing, FrameRingError } from '../../src/media/frame-ring.js';

const frame = (n: number, len = 4) => Int16Array.from({ length: len }, (_, i) => n * 10 + i);

describe('FrameRing (PCM frames across threads in a SharedArrayBuffer)', () => {
  it('frames come out in the order they went in, through many wraps of the ring', () => {
    const w = FrameRing.create(4, 3);
    const r = new FrameRing(w.buffer, 4); // the other thread's view of the same memory
    const out = new Int16Array(4);
    let next = 0;
    for (let n = 0; n < 100; n++) {
      expect(w.write(frame(n))).toBe(true);
      if (n % 2 === 1) {
        while (r.read(out)) expect(Array.from(out)).toEqual(Array.from(frame(next++)));
      }
    }
    expect(next).toBe(100);
    expect(r.available).toBe(0);
  });

  it('a full ring drops the new frame and counts it; the frames already in it are kept', () => {
    const ring = FrameRing.create(4, 2);
    expect(ring.write(frame(1))).toBe(true);
    expect(ring.write(frame(2))).toBe(true);
    expect(ring.write(frame(3))).toBe(false);
    expect(ring.overflows).toBe(1);
    const out = new Int16Array(4);
    ring.read(out);
    expect(Array.from(out)).toEqual(Array.from(frame(1)));
    ring.read(out);
    expect(Array.from(out)).toEqual(Array.from(frame(2)));
  });

  it('an empty ring reads false and leaves the output untouched', () => {
    const ring = FrameRing.create(4, 2);
    const out = Int16Array.of(7, 7, 7, 7);
    expect(ring.read(out)).toBe(false);
    expect(Array.from(out)).toEqual([7, 7, 7, 7]);
  });

  it('a capacity is rounded up to a power of two, so three frames queued across the 2^32 index wrap keep their slots', () => {
    const ring = FrameRing.create(4, 3);
    expect(ring.capacity).toBe(4);
    const index = new Int32Array(ring.buffer, 0, 2);
    index[0] = index[1] = -2; // 2^32 - 2 as the unsigned index: two frames before it wraps to 0
    const out = new Int16Array(4);
    for (let n = 0; n < 3; n++) expect(ring.write(frame(n))).toBe(true);
    for (let n = 0; n < 3; n++) {
      expect(ring.read(out)).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(frame(n)));
    }
    expect(() => new FrameRing(new SharedArrayBuffer(16 + 3 * 4 * 2), 4)).toThrow(FrameRingError);
  });

  it('indices that wrap past 2^31 frames keep order and fullness right', () => {
    const ring = FrameRing.create(4, 3);
    const index = new Int32Array(ring.buffer, 0, 2);
    index[0] = index[1] = 0x7fffffff - 1; // two frames before the int32 wrap
    const out = new Int16Array(4);
    for (let n = 0; n < 10; n++) {
      expect(ring.write(frame(n))).toBe(true);
      expect(ring.available).toBe(1);
      expect(ring.read(out)).toBe(true);
      expect(Array.from(out)).toEqual(Array.from(frame(n)));
    }
  });

  it('wrong sizes are a FrameRingError, not a silent misread', () => {
    expect(() => FrameRing.create(0, 4)).toThrow(FrameRingError);
    expect(() => new FrameRing(new SharedArrayBuffer(16 + 10), 4)).toThrow(FrameRingError);
    const ring = FrameRing.create(4, 2);
    expect(() => ring.write(new Int16Array(3))).toThrow(FrameRingError);
    expect(() => ring.read(new Int16Array(5))).toThrow(FrameRingError);
  });
});
