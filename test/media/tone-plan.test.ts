import { describe, expect, it } from 'vitest';
import { COUNTRIES, TONE_NAMES, ToneSyntaxError, UnknownCountryError, parseTone, tonePlan } from '../../src/media/tone-plan.js';

describe('tone plans', () => {
  it('has every tone for every country, parsed', () => {
    for (const c of COUNTRIES) {
      const plan = tonePlan(c);
      for (const t of TONE_NAMES) expect(plan[t].segments.length, `${c} ${t}`).toBeGreaterThan(0);
      expect(plan.busy.levelDbm0).toBe(-19);
      expect(plan.offHookWarning.levelDbm0).toBe(-10);
    }
  });

  it('knows the reference values (REFERENCE.md)', () => {
    expect(tonePlan('us').dial.segments).toEqual([{ freqs: [350, 440], modulated: false, durationMs: null, once: false }]);
    expect(tonePlan('de').busy.segments.map((s) => [s.freqs, s.durationMs])).toEqual([[[425], 480], [[], 480]]);
    expect(tonePlan('uk').congestion.segments.map((s) => s.durationMs)).toEqual([400, 350, 225, 525]);
  });

  it('applies overrides and rejects unknown countries and tone names', () => {
    expect(tonePlan('us', { dial: '425' }).dial.segments[0].freqs).toEqual([425]);
    expect(() => tonePlan('xx')).toThrow(UnknownCountryError);
    expect(() => tonePlan('__proto__')).toThrow(UnknownCountryError);
    expect(() => tonePlan('us', { dialtone: '425' } as never)).toThrow(/unknown tone name/);
  });

  it('parses the indications.conf forms', () => {
    expect(parseTone('!480+620/500,0/500').segments).toEqual([
      { freqs: [480, 620], modulated: false, durationMs: 500, once: true },
      { freqs: [], modulated: false, durationMs: 500, once: false },
    ]);
    expect(parseTone('440/300,0/9700').segments.map((s) => s.durationMs)).toEqual([300, 9700]);
    expect(parseTone('400*16/1000,0/2000').segments[0]).toEqual({ freqs: [400, 16], modulated: true, durationMs: 1000, once: false });
  });

  it('names what is wrong in a bad tone', () => {
    const cases: [string, number, RegExp][] = [
      ['350+abc', 0, /frequency "abc"/],
      ['350/500,,0/500', 1, /empty item/],
      ['350,0/500', 1, /never ends/],
      ['350/0', 0, /duration 0 ms/],
      ['350/-5', 0, /duration "-5"/],
      ['5000', 0, /outside 10\.\.4000/],
      ['1+2+3+4+5', 0, /frequency 1 Hz|more than 4/],
      ['400*16*2', 0, /exactly two/],
      ['0*16', 0, /modulate silence/],
    ];
    for (const [text, item, re] of cases) {
      let err: unknown;
      try {
        parseTone(text);
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(ToneSyntaxError);
      expect((err as ToneSyntaxError).item, text).toBe(item);
      expect((err as Error).message, text).toMatch(re);
    }
    expect(() => parseTone('x'.repeat(2000))).toThrow(/longer than/);
    expect(() => parseTone('440', Number.NaN)).toThrow(/level/);
  });
});
