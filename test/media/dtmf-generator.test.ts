import { describe, expect, it } from 'vitest';
import { DtmfOptionsError, DtmfSender, generateDtmf } from '../../src/media/dtmf-generator.js';
import { DtmfDigitError, dtmfFrequencies } from '../../src/media/dtmf-keypad.js';
import { amplitudeToDbm0 } from '../../src/media/signal-level.js';
import { sineAmplitude } from './tone-test-helpers.js';

describe('generateDtmf', () => {
  it('puts both frequencies at the asked level (within 0.5 dB) and nothing in the pause', () => {
    for (const d of '159#D') {
      const x = generateDtmf(d, { onMs: 100, offMs: 50, levelDbm0: -13 });
      expect(x.length).toBe(1200);
      const [lo, hi] = dtmfFrequencies(d);
      expect(Math.abs(amplitudeToDbm0(sineAmplitude(x, lo, 8000, 0, 800)) + 13)).toBeLessThan(0.5);
      expect(Math.abs(amplitudeToDbm0(sineAmplitude(x, hi, 8000, 0, 800)) + 13)).toBeLessThan(0.5);
      expect(x.subarray(800).every((v) => v === 0)).toBe(true);
    }
  });

  it('applies twist as high group minus low group', () => {
    const x = generateDtmf('1', { twistDb: -6, levelDbm0: -10 });
    const diff = amplitudeToDbm0(sineAmplitude(x, 1209, 8000, 0, 800)) - amplitudeToDbm0(sineAmplitude(x, 697, 8000, 0, 800));
    expect(Math.abs(diff + 6)).toBeLessThan(0.5);
  });

  it('names the bad digit or option', () => {
    expect(() => generateDtmf('12x')).toThrow(DtmfDigitError);
    expect(() => generateDtmf('1', { onMs: -1 })).toThrow(DtmfOptionsError);
    expect(() => generateDtmf('1', { levelDbm0: Number.NaN })).toThrow(/levelDbm0/);
  });
});

describe('DtmfSender (streaming)', () => {
  it('fills 20 ms frames with exactly the samples generateDtmf returns, then silence', () => {
    const want = generateDtmf('42*', { onMs: 70, offMs: 30 });
    const s = new DtmfSender({ onMs: 70, offMs: 30 });
    s.send('4');
    s.send('2*');
    const got = new Int16Array(want.length + 320);
    const frame = new Int16Array(160);
    let more = true;
    for (let o = 0; o < got.length; o += 160) {
      more = s.fill(frame);
      got.set(frame, o);
    }
    expect(more).toBe(false);
    expect(s.state).toBe('idle');
    expect(Array.from(got.subarray(0, want.length))).toEqual(Array.from(want));
    expect(got.subarray(want.length).every((v) => v === 0)).toBe(true);
  });

  it('cancel stops at once', () => {
    const s = new DtmfSender();
    s.send('123');
    const frame = new Int16Array(160);
    s.fill(frame);
    s.cancel();
    expect(s.fill(frame)).toBe(false);
    expect(frame.every((v) => v === 0)).toBe(true);
  });
});
