/** SlidingExtreme: the min or max of the last `window` values pushed, checked against a plain scan of them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingExtreme } from '../../src/media/sliding-extreme.js';

describe('SlidingExtreme', () => {
  it('after every push, holds exactly the min or max of the last `window` values (fast-check against a scan, with clears)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom('min' as const, 'max' as const),
        // Few distinct values, so ties (which the queue must keep or drop correctly) are common; null is a clear().
        fc.array(fc.option(fc.integer({ min: -5, max: 5 }), { nil: null, freq: 20 }), { maxLength: 300 }),
        (window, kind, ops) => {
          const x = new SlidingExtreme(window, kind);
          let seen: number[] = [];
          for (const v of ops) {
            if (v === null) {
              x.clear();
              seen = [];
              expect(x.empty).toBe(true);
              expect(x.value).toBe(kind === 'max' ? -Infinity : Infinity);
              continue;
            }
            x.push(v);
            seen.push(v);
            const last = seen.slice(-window);
            expect(x.value).toBe(kind === 'max' ? Math.max(...last) : Math.min(...last));
          }
        },
      ),
    );
  });

  it('follows a long stream past its push counter wrapping at 2^30 (counter started near the wrap)', () => {
    const x = new SlidingExtreme(3, 'max');
    (x as unknown as { pushes: number }).pushes = 0x3fffffff - 4;
    const values = [9, 1, 2, 3, 8, 1, 1, 1, 0];
    const got = values.map((v) => (x.push(v), x.value));
    expect(got).toEqual([9, 9, 9, 3, 8, 8, 8, 1, 1]);
  });

  it('refuses a window that is not a positive integer', () => {
    for (const w of [0, -1, 2.5, NaN]) expect(() => new SlidingExtreme(w, 'min')).toThrow(RangeError);
  });
});
