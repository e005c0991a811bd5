import { describe, expect, it } from 'vitest';
import { Resampler } from '../../hal/drivers/resampler.js';

function tone(freq: number, rate: number, seconds: number, amp = 10000): Int16Array {
  const n = Math.round(rate * seconds);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

/** Runs the converter in 20 ms chunks, as the audio drivers do. */
function convert(r: Resampler, x: Int16Array, chunk: number): Int16Array {
  const out: number[] = [];
  const buf = new Int16Array(r.maxOutput(chunk));
  for (let i = 0; i < x.length; i += chunk) {
    const n = r.process(x.subarray(i, Math.min(x.length, i + chunk)), buf);
    for (let k = 0; k < n; k++) out.push(buf[k]);
  }
  return Int16Array.from(out);
}

function rms(x: Int16Array, skip: number): number {
  let s = 0;
  for (let i = skip; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / (x.length - skip));
}

const db = (ratio: number): number => 20 * Math.log10(ratio);

describe('Resampler (polyphase windowed sinc)', () => {
  it('48 kHz -> 8 kHz rejects a 5 kHz tone (it would alias to 3 kHz) by more than 70 dB', () => {
    const r = new Resampler(48000, 8000);
    const x = tone(5000, 48000, 1);
    const y = convert(r, x, 960);
    expect(y.length).toBe(8000);
    const rejection = db(rms(y, 400) / rms(x, 0));
    expect(rejection).toBeLessThan(-70);
  });

  it('48 kHz -> 8 kHz passes 1 kHz and 3.3 kHz within 0.5 dB, with the same frequency', () => {
    for (const f of [1000, 3300]) {
      const r = new Resampler(48000, 8000);
      const x = tone(f, 48000, 1);
      const y = convert(r, x, 960);
      expect(Math.abs(db(rms(y, 400) / rms(x, 0)))).toBeLessThan(0.5);
      // zero crossings over the steady part give the frequency: no sample dropping or repeating
      let crossings = 0;
      for (let i = 401; i < y.length; i++) if ((y[i - 1] < 0) !== (y[i] < 0)) crossings++;
      const measured = crossings / 2 / ((y.length - 401) / 8000);
      expect(Math.abs(measured - f) / f).toBeLessThan(0.01);
    }
  });

  it('8 kHz -> 48 kHz keeps a 1 kHz tone and suppresses its 7 kHz image by more than 70 dB', () => {
    const r = new Resampler(8000, 48000);
    const x = tone(1000, 8000, 1);
    const y = convert(r, x, 160);
    expect(y.length).toBe(48000);
    // Goertzel at 7 kHz vs 1 kHz on the steady part
    const power = (f: number): number => {
      const w = (2 * Math.PI * f) / 48000;
      let s1 = 0;
      let s2 = 0;
      for (let i = 2400; i < y.length; i++) {
        const s = y[i] + 2 * Math.cos(w) * s1 - s2;
        s2 = s1;
        s1 = s;
      }
      return s1 * s1 + s2 * s2 - 2 * Math.cos(w) * s1 * s2;
    };
    expect(10 * Math.log10(power(7000) / power(1000))).toBeLessThan(-70);
    expect(Math.abs(db(rms(y, 2400) / rms(x, 0)))).toBeLessThan(0.5);
  });

  it('chunk size does not change the output (history is carried between calls)', () => {
    const x = tone(700, 44100, 0.3);
    const a = convert(new Resampler(44100, 8000), x, 882);
    const b = convert(new Resampler(44100, 8000), x, 97);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a.length).toBe(Math.round(0.3 * 8000));
  });
});
