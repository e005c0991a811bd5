/**
 * What the earpiece plays, by precedence: signal, call-progress tone, far-end audio, silence; and early media, where
 * the far end's audio goes before our ringback whenever it has any.
 */
import { describe, expect, it } from 'vitest';
import { Earpiece } from '../../src/phone/earpiece.js';
import { tonePlan } from '../../src/media/tone-plan.js';

/** A far end whose frames are a constant 1234, or nothing, as `has()` says; counts its pulls. */
function farEnd(has: () => boolean) {
  const f = { pulls: 0, audio: (out: Int16Array) => (f.pulls++, has() ? (out.fill(1234), true) : false) };
  return f;
}

describe('Earpiece', () => {
  it('in a call, a call-progress tone goes before the far end, which is then not pulled at all', () => {
    const ear = new Earpiece(tonePlan('us'));
    const far = farEnd(() => true);
    ear.setRemote(far.audio);
    ear.setTone('ringback');
    const out = new Int16Array(160);
    ear.fill(out);
    expect(ear.playing).toBe('ringback');
    expect(far.pulls).toBe(0);
    ear.setTone(null);
    ear.fill(out);
    expect(ear.playing).toBe('remote');
    expect(out[0]).toBe(1234);
  });

  it('early media: the far end\'s audio plays over our ringback while it has some, ringback when it has none, one pull per frame', () => {
    const ear = new Earpiece(tonePlan('us'));
    let sending = false;
    const far = farEnd(() => sending);
    ear.setTone('ringback');
    ear.setRemote(far.audio, true);
    const out = new Int16Array(160);
    ear.fill(out);
    expect(ear.playing).toBe('ringback'); // signalled early media, no packets yet
    sending = true;
    ear.fill(out);
    expect(ear.playing).toBe('remote');
    expect(out.every((s) => s === 1234)).toBe(true);
    sending = false;
    ear.fill(out);
    expect(ear.playing).toBe('ringback');
    expect(far.pulls).toBe(3);
    // The far end gone (call failed), the tone is what is left; no remote-first state lingers.
    ear.setRemote(null, true);
    ear.fill(out);
    expect(ear.playing).toBe('ringback');
  });

  it('a one-shot signal goes before early media too', () => {
    const ear = new Earpiece(tonePlan('us'));
    const far = farEnd(() => true);
    ear.setRemote(far.audio, true);
    ear.playSignal(new Int16Array(160).fill(7));
    const out = new Int16Array(160);
    ear.fill(out);
    expect(ear.playing).toBe('signal');
    expect(out[0]).toBe(7);
    expect(far.pulls).toBe(0);
  });

  it('the call-waiting beep is mixed over the far end: 300 ms of 440 Hz added to the call, then the call alone', () => {
    const ear = new Earpiece(tonePlan('us'));
    const far = farEnd(() => true);
    ear.setRemote(far.audio);
    ear.setOverlay('call-waiting');
    const out = new Int16Array(160);
    const frames: Int16Array[] = [];
    for (let i = 0; i < 20; i++) (ear.fill(out), frames.push(out.slice()));
    expect(far.pulls).toBe(20); // the call is never cut while the beep sounds
    expect(ear.playing).toBe('remote');
    // First 15 frames (300 ms): the far end's 1234 plus a sine; after that, exactly the far end.
    const beep = frames.slice(0, 15).flatMap((f) => Array.from(f, (v) => v - 1234));
    expect(Math.max(...beep)).toBeGreaterThan(1000);
    expect(Math.min(...beep)).toBeLessThan(-1000);
    expect(frames.slice(15).every((f) => f.every((v) => v === 1234))).toBe(true);
    ear.setOverlay(null);
    ear.fill(out);
    expect(out.every((v) => v === 1234)).toBe(true);
  });
});

