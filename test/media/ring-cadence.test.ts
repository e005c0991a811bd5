import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import {
  BELLCORE_CADENCES, COUNTRY_RING_CADENCES, CadenceError, RingCadence, chooseRing, distinctiveRingFromAlertInfo,
} from '../../src/media/ring-cadence.js';
import { COUNTRIES, tonePlan } from '../../src/media/tone-plan.js';

function record(clock: FakeClock): { log: string[]; ring: RingCadence } {
  const log: string[] = [];
  const ring = new RingCadence(clock, {
    ringOn: () => log.push(`on@${clock.now()}`),
    ringOff: () => log.push(`off@${clock.now()}`),
    firstSilence: (ms) => log.push(`silence@${clock.now()}+${ms}`),
  });
  return { log, ring };
}

describe('ring cadences', () => {
  it('has the reference cadences', () => {
    expect(COUNTRY_RING_CADENCES.us).toEqual([2000, 4000]);
    expect(COUNTRY_RING_CADENCES.uk).toEqual([400, 200, 400, 2000]);
    expect(COUNTRY_RING_CADENCES.de).toEqual([1000, 4000]);
    expect(COUNTRY_RING_CADENCES.fr).toEqual([1500, 3500]);
    expect(COUNTRY_RING_CADENCES.au).toEqual([400, 200, 400, 2000]);
    expect(COUNTRY_RING_CADENCES.jp).toEqual([1000, 2000]);
  });

  it('every tone-plan country has a ring cadence, and it is the cadence of that country\'s ringback tone', () => {
    // Two tables written separately (tone-plans/countries.ts and ring-cadence.ts): the caller hears ringback in
    // step with the ringing, so they must agree.
    for (const c of COUNTRIES) {
      const ringback = tonePlan(c).ringback.segments.map((seg) => seg.durationMs);
      expect(COUNTRY_RING_CADENCES[c], c).toEqual(ringback);
      expect(chooseRing(c).cadence, c).toEqual(ringback);
    }
  });

  it('picks distinctive ring from Alert-Info', () => {
    expect(distinctiveRingFromAlertInfo('<http://127.0.0.1/Bellcore-dr2>')).toBe('Bellcore-dr2');
    expect(distinctiveRingFromAlertInfo('<http://pbx.example/x>;info=alert-internal')).toBe('Bellcore-dr2');
    expect(distinctiveRingFromAlertInfo('info=alert-internal')).toBe('Bellcore-dr2');
    expect(distinctiveRingFromAlertInfo('<urn:alert:source:internal>')).toBe('Bellcore-dr2');
    expect(distinctiveRingFromAlertInfo('<http://x/bellcore-DR4>')).toBe('Bellcore-dr4');
    expect(distinctiveRingFromAlertInfo('<http://x/Bellcore-dr9>')).toBeNull();
    expect(distinctiveRingFromAlertInfo('<http://x/Bellcore-dr12>')).toBeNull();
    expect(distinctiveRingFromAlertInfo(';info=alert-external')).toBeNull();
    expect(distinctiveRingFromAlertInfo(undefined)).toBeNull();
    expect(distinctiveRingFromAlertInfo('x'.repeat(100000) + 'Bellcore-dr3')).toBeNull();
    expect(chooseRing('de', '<http://127.0.0.1/Bellcore-dr3>')).toEqual({ name: 'Bellcore-dr3', cadence: BELLCORE_CADENCES['Bellcore-dr3'] });
    expect(chooseRing('de')).toEqual({ name: 'normal', cadence: [1000, 4000] });
    expect(chooseRing('__proto__').cadence).toEqual([2000, 4000]);
  });

  it('rejects bad cadences with a named reason', () => {
    const clock = new FakeClock();
    const { ring } = record(clock);
    expect(() => ring.start([1000])).toThrow(CadenceError);
    expect(() => ring.start([1000, -1])).toThrow(/-1/);
    expect(() => ring.start([1000, Number.NaN])).toThrow(CadenceError);
    expect(ring.state).toBe('idle');
  });
});

describe('RingCadence (FakeClock)', () => {
  it('rings us 2/4 and tells when the first silence begins', () => {
    const clock = new FakeClock();
    const { log, ring } = record(clock);
    ring.start(chooseRing('us').cadence);
    clock.advance(11999);
    expect(log).toEqual(['on@0', 'off@2000', 'silence@2000+4000', 'on@6000', 'off@8000']);
    expect(ring.cycles).toBe(1);
    expect(ring.state).toBe('off');
  });

  it('uk double ring: the first silence for caller ID is the 2 s gap, not the 0.2 s one', () => {
    const clock = new FakeClock();
    const { log, ring } = record(clock);
    ring.start(chooseRing('uk').cadence);
    clock.advance(3000);
    expect(log).toEqual(['on@0', 'off@400', 'on@600', 'off@1000', 'silence@1000+2000', 'on@3000']);
  });

  it('plays Bellcore-dr4 and stops at once, switching the ringer off', () => {
    const clock = new FakeClock();
    const { log, ring } = record(clock);
    ring.start(chooseRing('us', '<http://127.0.0.1/Bellcore-dr4>').cadence);
    clock.advance(1600);
    ring.stop();
    clock.advance(10000);
    expect(log).toEqual(['on@0', 'off@300', 'on@500', 'off@1500']);
    expect(ring.state).toBe('idle');
    expect(clock.pending).toBe(0);
  });

  it('stop during silence does not send a second ring-off', () => {
    const clock = new FakeClock();
    const { log, ring } = record(clock);
    ring.start([1000, 4000]);
    clock.advance(1500);
    ring.stop();
    expect(log).toEqual(['on@0', 'off@1000', 'silence@1000+4000']);
  });
});
