import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FakeClock, type Clock, type TimerHandle } from '../../hal/clock.js';
import { HookDetector, HookTimingError, type HookDetectorOptions, type HookEvent } from '../../src/phone/hook-detector.js';
import { digitToPulses, pulsesToDigit, type PulseDigitMap } from '../../src/phone/pulse-digit-map.js';

/**
 * The detector's view of a busy event loop: its timers run `lateMs` after their deadline (the sim board's frame
 * clock blocks the loop for 1-2 ms before each tick), while edges keep the exact times the Line dated them with.
 */
class LateTimers implements Clock {
  constructor(
    private readonly fake: FakeClock,
    private readonly lateMs: number,
  ) {}
  now(): number {
    return this.fake.now();
  }
  wallTime(): Date {
    return this.fake.wallTime();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.fake.setTimeout(fn, ms + this.lateMs);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.fake.clearTimeout(handle);
  }
}

/** Drives a detector on a FakeClock with raw edges at explicit times, like a Line driver would. */
class Rig {
  readonly clock = new FakeClock();
  readonly events: HookEvent[] = [];
  readonly rejected: string[] = [];
  readonly det: HookDetector;
  constructor(opts: HookDetectorOptions = {}, timersLateMs = 0) {
    const clock = timersLateMs > 0 ? new LateTimers(this.clock, timersLateMs) : this.clock;
    this.det = new HookDetector(clock, { ...opts, onRejected: (r) => this.rejected.push(r) });
    this.det.onEvent((e) => this.events.push(e));
  }
  /** Raw edge at absolute time `at` (ms), firing every timer due before it first. */
  edge(offHook: boolean, at: number): void {
    this.clock.advance(at - this.clock.now());
    this.det.edge(offHook, at);
  }
  until(at: number): void {
    this.clock.advance(at - this.clock.now());
  }
  kinds(): string[] {
    return this.events.map((e) => (e.type === 'digit' ? `digit:${e.digit}` : e.type));
  }
}

/** Off hook at 100 ms, then one break of `breakMs` at 1000 ms, observed until 5 s. */
function singleBreak(breakMs: number, opts: HookDetectorOptions = {}): Rig {
  const rig = new Rig(opts);
  rig.edge(true, 100);
  rig.edge(false, 1000);
  rig.edge(true, 1000 + breakMs);
  rig.until(5000);
  return rig;
}

describe('HookDetector: off hook, hang-up and flash', () => {
  test('lifting and replacing the handset gives off-hook then on-hook, dated at the edges', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    expect(rig.det.state).toBe('on-hook'); // not yet debounced
    rig.until(200);
    expect(rig.det.state).toBe('off-hook');
    rig.edge(false, 3000);
    rig.until(5000);
    expect(rig.events).toEqual([
      { type: 'off-hook', atMs: 100 },
      { type: 'on-hook', atMs: 3000 },
    ]);
    expect(rig.det.state).toBe('on-hook');
  });

  test('hang-up is reported as soon as the break outlasts the 900 ms flash window plus debounce, without waiting for a lift', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    rig.edge(false, 1000);
    rig.until(1000 + 900 + 9);
    expect(rig.kinds()).toEqual(['off-hook']);
    rig.until(1000 + 900 + 10);
    expect(rig.kinds()).toEqual(['off-hook', 'on-hook']);
  });

  test('North America flash window: breaks of 201, 500 and 900 ms are flashes; 901 ms is a hang-up followed by a new off-hook', () => {
    for (const ms of [201, 500, 900]) {
      const rig = singleBreak(ms);
      expect(rig.kinds()).toEqual(['off-hook', 'flash']);
      expect(rig.events[1]).toMatchObject({ type: 'flash', durationMs: ms });
      expect(rig.det.state).toBe('off-hook');
    }
    expect(singleBreak(901).kinds()).toEqual(['off-hook', 'on-hook', 'off-hook']);
  });

  test("preset 'eu': 70 and 125 ms breaks are flashes, 126 ms is a hang-up, 60 ms is the digit 1", () => {
    expect(singleBreak(70, { preset: 'eu' }).kinds()).toEqual(['off-hook', 'flash']);
    expect(singleBreak(125, { preset: 'eu' }).kinds()).toEqual(['off-hook', 'flash']);
    expect(singleBreak(126, { preset: 'eu' }).kinds()).toEqual(['off-hook', 'on-hook', 'off-hook']);
    expect(singleBreak(60, { preset: 'eu' }).kinds()).toEqual(['off-hook', 'digit:1']);
  });

  test('a break inside the pulse window (150 ms) is a pulse, not a flash, even where the flash window overlaps it', () => {
    expect(singleBreak(150).kinds()).toEqual(['off-hook', 'digit:1']);
  });

  test('breaks between the pulse and flash windows, and sub-pulse breaks, are ignored as line noise', () => {
    expect(singleBreak(80, { pulseBreakMaxMs: 50, flashMinMs: 100 }).kinds()).toEqual(['off-hook']);
    expect(singleBreak(12).kinds()).toEqual(['off-hook']);
  });

  test('contact chatter shorter than the debounce time produces no event at all', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    for (let t = 500; t < 600; t += 20) {
      rig.edge(false, t);
      rig.edge(true, t + 6);
    }
    rig.until(3000);
    expect(rig.kinds()).toEqual(['off-hook']);
  });

  test('a bounce whose edge is delivered after the debounce deadline it predates is still a bounce (GPIO read late)', () => {
    const rig = new Rig();
    // Up at 100 ms, back down at 106 ms: 6 ms, shorter than the 10 ms debounce. The down edge reaches the detector
    // only at 125 ms, after its debounce timer was due (110 ms), as when the event loop ran the timer first.
    rig.edge(true, 100);
    rig.until(125);
    rig.det.edge(false, 106);
    rig.until(3000);
    expect(rig.kinds()).toEqual([]);
    // A lift that really holds is reported, dated at its edge.
    rig.edge(true, 3000);
    rig.until(4000);
    expect(rig.events).toEqual([{ type: 'off-hook', atMs: 3000 }]);
  });

  test('a lift that bounces back down while the hang-up decision is pending still ends as a hang-up', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    rig.edge(false, 1000);
    rig.edge(true, 1000 + 895);
    rig.edge(false, 1000 + 903);
    rig.until(4000);
    expect(rig.kinds()).toEqual(['off-hook', 'on-hook']);
    expect(rig.det.state).toBe('on-hook');
  });
});

describe('HookDetector: rotary dialling', () => {
  function dial(rig: Rig, pulses: number, start: number, breakMs = 60, makeMs = 40): number {
    let t = start;
    for (let i = 0; i < pulses; i++) {
      rig.edge(false, t);
      rig.edge(true, t + breakMs);
      t += breakMs + makeMs;
    }
    return t;
  }

  test('10 pps dialling of 5, 0 and 3 gives those digits, each once the 300 ms make has passed', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    let t = dial(rig, 5, 1000);
    t = dial(rig, 10, t + 700);
    const last = dial(rig, 3, t + 700);
    rig.until(last - 40 + 299);
    expect(rig.kinds()).toEqual(['off-hook', 'digit:5', 'digit:0']);
    rig.until(last + 1000);
    expect(rig.kinds()).toEqual(['off-hook', 'digit:5', 'digit:0', 'digit:3']);
    expect(rig.events[3]).toMatchObject({ pulses: 3 });
  });

  test('eleven pulses are no digit: rejected, nothing emitted, and the next digit still decodes', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    const t = dial(rig, 11, 1000);
    dial(rig, 2, t + 700);
    rig.until(6000);
    expect(rig.kinds()).toEqual(['off-hook', 'digit:2']);
    expect(rig.rejected).toHaveLength(1);
  });

  test('hanging up in the middle of a digit reports the hang-up and drops the unfinished digit', () => {
    const rig = new Rig();
    rig.edge(true, 100);
    const t = dial(rig, 3, 1000);
    rig.edge(false, t);
    rig.until(t + 2000);
    expect(rig.kinds()).toEqual(['off-hook', 'on-hook']);
  });

  /** Random pulse trains at 10 pps (60/40) with the given jitter and sub-debounce chatter, decoded with `preset`. */
  function pulseTrainProperty(preset: 'na' | 'eu', loneBreakMax: number): void {
    const bounce = fc.array(fc.double({ min: 0.2, max: 6, noNaN: true }), { maxLength: 4 });
    const pulse = fc.record({
      breakJ: fc.double({ min: 0.8, max: 1.2, noNaN: true }),
      makeJ: fc.double({ min: 0.8, max: 1.2, noNaN: true }),
      bounceDown: bounce,
      bounceUp: bounce,
    });
    const digit = fc.record({
      digit: fc.integer({ min: 0, max: 9 }).map(String),
      pauseMs: fc.integer({ min: 400, max: 1500 }),
      pulses: fc.array(pulse, { minLength: 10, maxLength: 10 }),
    });
    fc.assert(
      fc.property(fc.constantFrom<PulseDigitMap>('standard', 'nz', 'se'), fc.array(digit, { minLength: 1, maxLength: 6 }), (map, digits) => {
        const rig = new Rig({ pulseMap: map, preset });
        rig.edge(true, 100);
        let t = 600;
        // A raw edge to `level` at `at`, preceded by chatter: toggles at sorted offsets, ending on `level`.
        const bouncyEdge = (level: boolean, at: number, chatter: number[]): number => {
          const offs = [...chatter].sort((a, b) => a - b);
          if (offs.length % 2 === 1) offs.pop();
          rig.edge(level, at);
          let cur = level;
          for (const o of offs) {
            cur = !cur;
            rig.edge(cur, at + o);
          }
          return at + (offs.at(-1) ?? 0);
        };
        for (const d of digits) {
          const n = digitToPulses(d.digit, map);
          for (let i = 0; i < n; i++) {
            const p = d.pulses[i];
            const breakAt = t;
            bouncyEdge(false, breakAt, p.bounceDown);
            // A digit of one pulse is a lone break: where the flash window overlaps, it must end, chatter (up to
            // 6 ms) included, below the flash minimum.
            const makeAt = breakAt + Math.min(60 * p.breakJ, n === 1 ? loneBreakMax - 6 : Infinity);
            bouncyEdge(true, makeAt, p.bounceUp);
            t = makeAt + 40 * p.makeJ;
          }
          t += d.pauseMs;
        }
        rig.until(t + 1000);
        expect(rig.kinds()).toEqual(['off-hook', ...digits.map((d) => `digit:${d.digit}`)]);
        expect(rig.det.state).toBe('off-hook');
      }),
      { numRuns: 300 },
    );
  }

  test('property: any 10 pps pulse train with +-20 % timing jitter and sub-debounce contact bounce decodes to its digits (all pulse maps)', () => {
    pulseTrainProperty('na', Infinity);
  });

  test("property, preset 'eu': the same +-20 % trains decode too; only a one-pulse digit must end its break, chatter included, under the 70 ms flash minimum", () => {
    pulseTrainProperty('eu', 69);
  });

  test("preset 'eu': a slow dial (9 pps, 74 ms breaks) gives its digit, not a flash per pulse", () => {
    const rig = new Rig({ preset: 'eu' });
    rig.edge(true, 100);
    const t = dial(rig, 5, 1000, 74, 37);
    rig.until(t + 1000);
    expect(rig.kinds()).toEqual(['off-hook', 'digit:5']);
  });

  test("preset 'eu': a lone 80 ms break is a flash, reported once the make after it has lasted 300 ms", () => {
    const rig = singleBreak(80, { preset: 'eu' });
    expect(rig.kinds()).toEqual(['off-hook', 'flash']);
    expect(rig.events[1]).toEqual({ type: 'flash', atMs: 1080, durationMs: 80 });
    const early = new Rig({ preset: 'eu' });
    early.edge(true, 100);
    early.edge(false, 1000);
    early.edge(true, 1080);
    early.until(1080 + 299);
    expect(early.kinds()).toEqual(['off-hook']);
  });
});

describe('HookDetector: timers that run late (a busy event loop)', () => {
  test('a level that held for the debounce time counts even when the next edge comes before its timer ran: pulse dialling 12 ms after the lift gives both digits', () => {
    // As the sim phone does when told to dial right after lifting: 60 ms breaks, 40 ms makes, 700 ms between digits.
    const rig = new Rig({}, 2);
    rig.edge(true, 100);
    rig.edge(false, 111.7);
    rig.edge(true, 171.7);
    rig.edge(false, 871.7);
    rig.edge(true, 931.7);
    rig.until(3000);
    expect(rig.kinds()).toEqual(['off-hook', 'digit:1', 'digit:1']);
    expect(rig.events[0]).toEqual({ type: 'off-hook', atMs: 100 });
  });
});

describe('HookDetector: input hygiene', () => {
  test('non-finite edge times and repeated levels are ignored', () => {
    const rig = new Rig();
    rig.det.edge(true, Number.NaN);
    rig.edge(false, 50);
    rig.until(500);
    expect(rig.events).toEqual([]);
  });

  test('impossible timing options are refused with a typed error naming the field', () => {
    const clock = new FakeClock();
    expect(() => new HookDetector(clock, { debounceMs: -1 })).toThrow(HookTimingError);
    expect(() => new HookDetector(clock, { flashMaxMs: 150 })).toThrow(/flashMaxMs/);
  });
});

describe('pulse digit maps', () => {
  test('standard n pulses = n (10 = 0), New Zealand 10 - n, Sweden n + 1, and back', () => {
    const table: Record<PulseDigitMap, string> = { standard: '1234567890', nz: '9876543210', se: '0123456789' };
    for (const map of Object.keys(table) as PulseDigitMap[]) {
      for (let n = 1; n <= 10; n++) {
        const d = pulsesToDigit(n, map);
        expect(d).toBe(table[map][n - 1]);
        expect(digitToPulses(d!, map)).toBe(n);
      }
      expect(pulsesToDigit(0, map)).toBeUndefined();
      expect(pulsesToDigit(11, map)).toBeUndefined();
    }
  });
});
