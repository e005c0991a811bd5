// The Ringer's timing of caller ID against the ring cadence, on a fake clock: Bell 202 in the first silence, ETSI
// before the first ring after a polarity reversal (and the dual-tone alert for FSK).
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import type { Line } from '../../hal/line.js';
import { BELL_CALLER_ID_DELAY_MS, Ringer } from '../../src/phone/ringer.js';

type Happening = { at: number; what: string; samples?: number };

/** A Line and a signal path that write down what the Ringer asks of them, and when. */
function rig(): { clock: FakeClock; log: Happening[]; ringer: Ringer } {
  const clock = new FakeClock();
  const log: Happening[] = [];
  const note = (what: string, samples?: number): void => void log.push({ at: clock.now(), what, ...(samples !== undefined ? { samples } : {}) });
  const line: Line = {
    id: 0,
    onHookEdge: () => undefined,
    setRinging: (on) => note(on ? 'ring-on' : 'ring-off'),
    setPolarity: (reversed) => note(reversed ? 'reverse' : 'normal'),
    disconnect: () => undefined,
    close: async () => undefined,
  };
  const ringer = new Ringer({ clock, line, playSignal: (s) => note('signal', s.length), cancelSignal: () => note('cancel') });
  return { clock, log, ringer };
}

const clip = new Int16Array(8000 * 0.6); // 600 ms, about an MDMF message's length
const alert = new Int16Array(800); // 100 ms

describe('Ringer: Bell 202 timing (GR-30)', () => {
  it('sends caller ID 500 ms into the first silence and finishes at least 200 ms before the second ring', () => {
    const { clock, log, ringer } = rig();
    ringer.start([2000, 4000], 'bell', clip);
    clock.advance(12_000);
    const firstOff = log.find((h) => h.what === 'ring-off')!.at;
    const sig = log.find((h) => h.what === 'signal')!;
    const secondOn = log.filter((h) => h.what === 'ring-on')[1].at;
    expect(log[0]).toEqual({ at: 0, what: 'ring-on' });
    expect(sig.at - firstOff).toBe(BELL_CALLER_ID_DELAY_MS);
    expect(secondOn - (sig.at + (sig.samples! * 1000) / 8000)).toBeGreaterThanOrEqual(200);
    expect(log.filter((h) => h.what === 'signal')).toHaveLength(1); // once per call, not every silence
    expect(log.some((h) => h.what === 'reverse')).toBe(false);
  });
});

describe('Ringer: ETSI timing (EN 300 659-1)', () => {
  it('reverses polarity, waits at least 100 ms, sends alert + FSK, and rings at least 200 ms after the FSK ends', () => {
    const { clock, log, ringer } = rig();
    ringer.start([1000, 4000], 'etsi', clip, alert);
    expect(ringer.state).toBe('pre-ring-clip');
    clock.advance(5000);
    expect(log.map((h) => h.what).slice(0, 4)).toEqual(['reverse', 'signal', 'ring-on', 'ring-off']);
    const [rev, sig, ring] = log;
    expect(sig.at - rev.at).toBeGreaterThanOrEqual(100);
    // The signal is the alert, a gap, then the FSK: the FSK starts 45-500 ms after the alert ends.
    const gapMs = (sig.samples! - alert.length - clip.length) / 8;
    expect(gapMs).toBeGreaterThanOrEqual(45);
    expect(gapMs).toBeLessThanOrEqual(500);
    expect(ring.at - (sig.at + sig.samples! / 8)).toBeGreaterThanOrEqual(200);
    expect(ringer.state).toBe('ringing');
  });

  it('DTMF caller ID (no alert) is the clip alone, still after the reversal and before the ring', () => {
    const { clock, log, ringer } = rig();
    ringer.start([1000, 4000], 'etsi', clip, null);
    clock.advance(2000);
    expect(log.map((h) => h.what).slice(0, 3)).toEqual(['reverse', 'signal', 'ring-on']);
    expect(log[1].samples).toBe(clip.length);
  });

  it('answered (stopped) before the first ring: the caller ID is cut, polarity restored, and it never rings', () => {
    const { clock, log, ringer } = rig();
    ringer.start([1000, 4000], 'etsi', clip, alert);
    clock.advance(300);
    ringer.stop();
    clock.advance(10_000);
    expect(log.map((h) => h.what)).toEqual(['reverse', 'signal', 'cancel', 'normal']);
    expect(ringer.state).toBe('idle');
  });

  it('no caller ID: rings at once, no reversal', () => {
    const { clock, log, ringer } = rig();
    ringer.start([1000, 4000], 'etsi', null);
    clock.advance(100);
    expect(log.map((h) => h.what)).toEqual(['ring-on']);
  });
});
