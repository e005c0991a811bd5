import { describe, expect, it } from 'vitest';
import { FakeClock, type Clock, type TimerHandle } from '../../hal/clock.js';
import { FrameClock, FrameClockError } from '../../hal/frame-clock.js';

/** Fake time whose next timer is delivered late, as when the process stalls (GC, a blocked loop, SIGSTOP). */
class StallingClock implements Clock {
  readonly fake = new FakeClock();
  stallNextTimerBy = 0;
  now(): number {
    return this.fake.now();
  }
  wallTime(): Date {
    return this.fake.wallTime();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const extra = this.stallNextTimerBy;
    this.stallNextTimerBy = 0;
    return this.fake.setTimeout(fn, ms + extra);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.fake.clearTimeout(handle);
  }
}

function record(clock: FakeClock, periodMs = 20, maxBurst?: number, driver: Clock = clock) {
  const ticks: { n: number; at: number }[] = [];
  const fc = new FrameClock(driver, periodMs, (n) => ticks.push({ n, at: clock.now() }), maxBurst ? { maxBurst } : {});
  return { fc, ticks };
}

describe('FrameClock on fake time', () => {
  it('ticks frame n exactly at start + (n+1) * 20 ms, with no drift over 100000 ticks', () => {
    const clock = new FakeClock();
    clock.advance(1234.567); // an awkward start time, to expose rounding
    const start = clock.now();
    const { fc, ticks } = record(clock);
    fc.start();
    for (let i = 0; i < 100_000; i++) clock.step();
    expect(ticks.length).toBe(100_000);
    for (let i = 0; i < ticks.length; i += 997) expect(ticks[i].n).toBe(i);
    const last = ticks[ticks.length - 1];
    expect(last.n).toBe(99_999);
    expect(last.at - start).toBeCloseTo(100_000 * 20, 6);
    expect(fc.skippedFrames).toBe(0);
  });

  it('deadlines come from the start time: late timer delivery does not accumulate (advance in uneven steps)', () => {
    const clock = new FakeClock();
    const { fc, ticks } = record(clock);
    fc.start();
    // Advance by 7 ms at a time: each tick is observed up to 6 ms late, yet the count after 60 s is exact.
    for (let t = 0; t < 60_000; t += 7) clock.advance(7);
    const elapsed = clock.now();
    expect(ticks.length).toBe(Math.floor(elapsed / 20));
    expect(ticks.every((t, i) => t.n === i)).toBe(true);
  });

  it('catch-up after a short stall (50 ms): the overdue frames are emitted back to back, none skipped', () => {
    const clock = new StallingClock();
    const { fc, ticks } = record(clock.fake, 20, undefined, clock);
    fc.start();
    clock.stallNextTimerBy = 50;
    clock.fake.advance(20); // frame 0 at 20; the timer for frame 1 (due 40) is delivered at 90
    clock.fake.advance(70);
    expect(ticks).toEqual([
      { n: 0, at: 20 },
      { n: 1, at: 90 },
      { n: 2, at: 90 },
      { n: 3, at: 90 },
    ]);
    expect(fc.skippedFrames).toBe(0);
    clock.fake.advance(10);
    expect(ticks[ticks.length - 1]).toEqual({ n: 4, at: 100 });
  });

  it('catch-up after a long stall (1 s): only maxBurst (3) frames are emitted, the rest skipped and counted, indices jump', () => {
    const clock = new StallingClock();
    const { fc, ticks } = record(clock.fake, 20, undefined, clock);
    fc.start();
    clock.stallNextTimerBy = 1000;
    clock.fake.advance(1040);
    // At t = 1040 frames 0..51 are due; 0 went out at 20, 1..48 are skipped, 49..51 go out back to back.
    expect(ticks.map((t) => t.n)).toEqual([0, 49, 50, 51]);
    expect(fc.skippedFrames).toBe(48);
    clock.fake.advance(20);
    expect(ticks[ticks.length - 1]).toEqual({ n: 52, at: 1060 });
  });

  it('a tick that throws stops the clock (state says so, no timer left) and start() runs it again', () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    let fail = true;
    const fc = new FrameClock(clock, 20, (n) => {
      seen.push(n);
      if (n === 2 && fail) throw new Error('tick failed');
    });
    fc.start();
    expect(() => clock.advance(1000)).toThrow('tick failed');
    expect(fc.state).toBe('stopped');
    expect(clock.pending).toBe(0);
    fail = false;
    fc.start();
    clock.advance(60);
    expect(seen).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('stop() cancels the timer; stop inside onTick stops at once; start again restarts the frame count', () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const fc: FrameClock = new FrameClock(clock, 20, (n) => {
      seen.push(n);
      if (n === 4) fc.stop();
    });
    fc.start();
    clock.advance(1000);
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(fc.state).toBe('stopped');
    expect(clock.pending).toBe(0);
    fc.start();
    clock.advance(40);
    expect(seen).toEqual([0, 1, 2, 3, 4, 0, 1]);
  });

  it('preciseMs is for the system clock only: on an injected clock one timer per tick lands exactly on the deadline', () => {
    const clock = new FakeClock();
    clock.advance(0.37); // off the millisecond grid: the whole-millisecond rounding of systemClock must not apply
    const ticks: number[] = [];
    const fc = new FrameClock(clock, 20, () => ticks.push(clock.now()), { preciseMs: 5 });
    fc.start();
    for (let i = 0; i < 3; i++) {
      expect(clock.pending).toBe(1);
      clock.step();
    }
    expect(ticks).toEqual([20.37, 40.37, 60.37].map((t) => expect.closeTo(t, 9)));
  });

  it('a non-positive or non-finite period is a FrameClockError', () => {
    const clock = new FakeClock();
    expect(() => new FrameClock(clock, 0, () => {})).toThrow(FrameClockError);
    expect(() => new FrameClock(clock, Number.NaN, () => {})).toThrow(FrameClockError);
  });
});
