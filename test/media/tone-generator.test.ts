import { describe, expect, it } from 'vitest';
import { ToneGenerator } from '../../src/media/tone-generator.js';
import { COUNTRIES, parseTone, tonePlan } from '../../src/media/tone-plan.js';
import { amplitudeToDbm0, dbm0ToAmplitude, meanSquareToDbm0 } from '../../src/media/signal-level.js';
import { meanSquare, sineAmplitude } from './tone-test-helpers.js';

function render(gen: ToneGenerator, ms: number, frameSize = 160): Int16Array {
  const out = new Int16Array((ms * 8) | 0);
  const frame = new Int16Array(frameSize);
  for (let o = 0; o < out.length; o += frameSize) {
    gen.fill(frame);
    out.set(frame.subarray(0, Math.min(frameSize, out.length - o)), o);
  }
  return out;
}

/** On/off runs measured from the samples: [on?, ms] with 1 ms resolution. */
function cadence(x: Int16Array): [boolean, number][] {
  const runs: [boolean, number][] = [];
  for (let o = 0; o + 8 <= x.length; o += 8) {
    let e = 0;
    for (let i = o; i < o + 8; i++) e += Math.abs(x[i]);
    const on = e > 0;
    if (runs.length && runs[runs.length - 1][0] === on) runs[runs.length - 1][1]++;
    else runs.push([on, 1]);
  }
  return runs;
}

describe('ToneGenerator', () => {
  it('plays each country\'s tones with the right frequencies at the plan level (within 0.5 dB)', () => {
    for (const c of COUNTRIES) {
      const plan = tonePlan(c);
      for (const name of ['dial', 'ringback', 'busy', 'congestion'] as const) {
        const spec = plan[name];
        const seg = spec.segments[0];
        if (seg.modulated) continue;
        const n = Math.min(seg.durationMs ?? 1000, 1000) * 8;
        const x = render(new ToneGenerator(spec), n / 8);
        for (const f of seg.freqs) {
          expect(Math.abs(amplitudeToDbm0(sineAmplitude(x, f, 8000, 0, n)) - spec.levelDbm0), `${c} ${name} ${f}`).toBeLessThan(0.5);
        }
        // Nothing else: the listed frequencies hold the whole power.
        const expected = spec.levelDbm0 + 10 * Math.log10(seg.freqs.length);
        expect(Math.abs(meanSquareToDbm0(meanSquare(x, 0, n)) - expected), `${c} ${name} power`).toBeLessThan(0.5);
      }
    }
  });

  it('plays call waiting, the off-hook warning (louder) and stutter dial tone of every country at their frequencies and level', () => {
    for (const c of COUNTRIES) {
      const plan = tonePlan(c);
      for (const name of ['callWaiting', 'offHookWarning', 'stutterDial'] as const) {
        const spec = plan[name];
        const seg = spec.segments[0];
        const n = (seg.durationMs ?? 1000) * 8;
        const x = render(new ToneGenerator(spec), n / 8);
        if (seg.modulated) {
          // carrier*modulator (jp): the carrier and its two sidebands, as for the jp ringback below.
          const carrier = sineAmplitude(x, seg.freqs[0], 8000, 0, n);
          const side = sineAmplitude(x, seg.freqs[0] + seg.freqs[1], 8000, 0, n);
          expect(carrier, `${c} ${name}`).toBeGreaterThan(dbm0ToAmplitude(spec.levelDbm0) / 2);
          expect(side / carrier, `${c} ${name}`).toBeGreaterThan(0.4);
          expect(side / carrier, `${c} ${name}`).toBeLessThan(0.5);
          continue;
        }
        for (const f of seg.freqs) {
          expect(Math.abs(amplitudeToDbm0(sineAmplitude(x, f, 8000, 0, n)) - spec.levelDbm0), `${c} ${name} ${f}`).toBeLessThan(0.5);
        }
      }
      expect(plan.offHookWarning.levelDbm0, c).toBeGreaterThan(plan.dial.levelDbm0);
      expect(plan.offHookWarning.segments[0].freqs, c).toEqual([1400, 2060, 2450, 2600]);
    }
  });

  it('keeps the cadence measured from the samples (us busy, uk ringback, it dial, de call waiting)', () => {
    const us = cadence(render(new ToneGenerator(tonePlan('us').busy), 3000));
    expect(us).toEqual([[true, 500], [false, 500], [true, 500], [false, 500], [true, 500], [false, 500]]);
    const uk = cadence(render(new ToneGenerator(tonePlan('uk').ringback), 6000));
    expect(uk).toEqual([[true, 400], [false, 200], [true, 400], [false, 2000], [true, 400], [false, 200], [true, 400], [false, 2000]]);
    const it_ = cadence(render(new ToneGenerator(tonePlan('it').dial), 2000));
    expect(it_).toEqual([[true, 200], [false, 200], [true, 600], [false, 1000]]);
    const de = cadence(render(new ToneGenerator(tonePlan('de').callWaiting), 5600));
    expect(de).toEqual([[true, 200], [false, 200], [true, 200], [false, 5000]]);
  });

  it('plays `!` items once: stutter dial tone then steady tone', () => {
    const x = render(new ToneGenerator(tonePlan('us').stutterDial), 4000);
    const runs = cadence(x);
    expect(runs.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => [i % 2 === 0, 100]));
    expect(runs[20]).toEqual([true, 2000]);
    const once = new ToneGenerator(parseTone('!440/100,!0/100'));
    render(once, 300);
    expect(once.state).toBe('finished');
  });

  it('is phase continuous across frames of any size and across segments sharing a frequency', () => {
    const spec = tonePlan('uk').stutterDial; // 350+440/750,440/750: 440 Hz carries on
    const whole = render(new ToneGenerator(spec), 3000, 24000);
    for (const size of [160, 80, 37]) expect(render(new ToneGenerator(spec), 3000, size)).toEqual(whole);
    // In the 440-only segment the samples are the same 440 Hz sine that started at sample 0: no phase jump.
    const amp = dbm0ToAmplitude(-19);
    for (let n = 6000; n < 12000; n++) expect(Math.abs(whole[n] - amp * Math.sin((2 * Math.PI * 440 * n) / 8000)), `${n}`).toBeLessThan(1.5);
    // Continuous dial tone: no step between samples larger than the two sines allow, frame joins included.
    const dial = render(new ToneGenerator(tonePlan('us').dial), 2000, 160);
    const maxStep = 2 * amp * Math.sin((Math.PI * 350) / 8000) + 2 * amp * Math.sin((Math.PI * 440) / 8000) + 2;
    for (let i = 1; i < dial.length; i++) expect(Math.abs(dial[i] - dial[i - 1])).toBeLessThanOrEqual(maxStep);
  });

  it('modulates (jp ringback 400*16): sidebands at 384 and 416 Hz', () => {
    const x = render(new ToneGenerator(tonePlan('jp').ringback), 1000);
    const carrier = sineAmplitude(x, 400, 8000, 0, 8000);
    const side = sineAmplitude(x, 416, 8000, 0, 8000);
    expect(side / carrier).toBeGreaterThan(0.4);
    expect(side / carrier).toBeLessThan(0.5);
  });
});
