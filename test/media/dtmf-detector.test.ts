import { describe, expect, it } from 'vitest';
import { DtmfDetector, detectDtmf } from '../../src/media/dtmf-detector.js';
import { generateDtmf } from '../../src/media/dtmf-generator.js';
import { dbm0ToAmplitude } from '../../src/media/signal-level.js';
import { concat, meanSquare, mix, noise, readRaw, run, tempDir } from './tone-test-helpers.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ALL = '0123456789*#ABCD';
const silence = (ms: number): Int16Array => new Int16Array(ms * 8);

describe('DtmfDetector (ITU-T Q.24, generated signals)', () => {
  it('decodes all 16 digits', () => {
    expect(detectDtmf(generateDtmf(ALL))).toBe(ALL);
  });

  it('accepts +-1.5 % frequency error and rejects +-3.5 %', () => {
    for (const digit of ALL) {
      for (const err of [-0.015, 0.015]) expect(detectDtmf(generateDtmf(digit, { frequencyError: err })), `${digit} ${err}`).toBe(digit);
      for (const err of [-0.035, 0.035]) expect(detectDtmf(generateDtmf(digit, { frequencyError: err })), `${digit} ${err}`).toBe('');
    }
  });

  it('detects 40 ms tones with 40 ms pauses at every alignment', () => {
    for (let lead = 0; lead < 80; lead += 7) {
      const x = concat(new Int16Array(lead), generateDtmf(ALL, { onMs: 40, offMs: 40 }));
      expect(detectDtmf(x), `lead ${lead}`).toBe(ALL);
    }
  });

  it('detects the same digit repeated with 40 ms pauses', () => {
    expect(detectDtmf(generateDtmf('5555', { onMs: 40, offMs: 40 }))).toBe('5555');
  });

  it('rejects 20 ms tones at every alignment', () => {
    for (let lead = 0; lead < 80; lead += 5) {
      const x = concat(new Int16Array(lead), generateDtmf(ALL, { onMs: 20, offMs: 60 }));
      expect(detectDtmf(x), `lead ${lead}`).toBe('');
    }
  });

  it('accepts 8 dB normal twist and 4 dB reverse twist, also with 1.5 % frequency error', () => {
    for (const err of [0, -0.015, 0.015]) {
      expect(detectDtmf(generateDtmf(ALL, { twistDb: -8, frequencyError: err }))).toBe(ALL);
      expect(detectDtmf(generateDtmf(ALL, { twistDb: 4, frequencyError: err }))).toBe(ALL);
    }
  });

  it('rejects twist far beyond the limits (14 dB normal, 10 dB reverse)', () => {
    expect(detectDtmf(generateDtmf(ALL, { twistDb: -14 }))).toBe('');
    expect(detectDtmf(generateDtmf(ALL, { twistDb: 10 }))).toBe('');
  });

  it('works at -25 dBm0 per frequency and ignores -45 dBm0', () => {
    expect(detectDtmf(generateDtmf(ALL, { levelDbm0: -25, onMs: 40, offMs: 40 }))).toBe(ALL);
    expect(detectDtmf(generateDtmf(ALL, { levelDbm0: -45 }))).toBe('');
  });

  it('works at 15 dB SNR (white noise), 40 ms tones with 40 ms pauses', () => {
    const tones = generateDtmf(ALL, { onMs: 40, offMs: 40, levelDbm0: -20 });
    const signalMs = meanSquare(tones) * 2; // tones occupy half the time
    for (let seed = 1; seed <= 5; seed++) {
      const noisy = mix(tones, noise(tones.length, Math.sqrt(signalMs / 10 ** 1.5), seed));
      expect(detectDtmf(noisy), `seed ${seed}`).toBe(ALL);
    }
  });

  it('streams 20 ms frames, reporting starts and ends with durations', () => {
    const det = new DtmfDetector();
    const seen: string[] = [];
    det.onDigit((d) => seen.push(`+${d}`));
    det.onDigitEnd((d, ms) => seen.push(`-${d}:${ms}`));
    const x = concat(generateDtmf('1#', { onMs: 200, offMs: 100 }), silence(100));
    const frame = new Int16Array(160);
    for (let o = 0; o + 160 <= x.length; o += 160) {
      frame.set(x.subarray(o, o + 160));
      det.process(frame);
    }
    expect(seen).toEqual(['+1', '-1:200', '+#', '-#:200']);
    expect(det.state).toBe('silent');
  });

  it('adapts to other sample rates', () => {
    for (const rate of [16000, 22050, 48000]) expect(detectDtmf(generateDtmf(ALL, { sampleRate: rate }), rate), `${rate}`).toBe(ALL);
  });
});

/** A voiced, speech-like signal: a glottal pulse train with wandering pitch through vowel formant resonators. */
function syntheticSpeech(seconds: number, seed: number): Int16Array {
  const vowels = [
    [730, 1090, 2440], [270, 2290, 3010], [300, 870, 2240], [530, 1840, 2480], [570, 840, 2410], [660, 1720, 2410],
  ];
  const n = seconds * 8000;
  const out = new Float64Array(n);
  let phase = 0;
  const state = new Float64Array(6);
  let rnd = seed;
  const next = (): number => ((rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648);
  let vowel = vowels[0];
  let f0 = 120;
  for (let i = 0; i < n; i++) {
    if (i % 1200 === 0) {
      vowel = vowels[Math.floor(next() * vowels.length)];
      f0 = 85 + next() * 200;
    }
    const f = f0 * (1 + 0.05 * Math.sin((2 * Math.PI * 5 * i) / 8000));
    phase += f / 8000;
    let src = 0;
    if (phase >= 1) {
      phase -= 1;
      src = 1;
    }
    let y = 0;
    for (let k = 0; k < 3; k++) {
      const r = 0.97 - 0.02 * k;
      const c = 2 * r * Math.cos((2 * Math.PI * vowel[k]) / 8000);
      const v = src + c * state[2 * k] - r * r * state[2 * k + 1];
      state[2 * k + 1] = state[2 * k];
      state[2 * k] = v;
      y += v / (k + 1);
    }
    out[i] = y;
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  const scale = dbm0ToAmplitude(0) / peak;
  return Int16Array.from(out, (v) => Math.round(v * scale));
}

describe('DtmfDetector talk-off', () => {
  it('hears no digits in 60 s of synthetic voiced speech', () => {
    for (let seed = 1; seed <= 6; seed++) expect(detectDtmf(syntheticSpeech(10, seed)), `seed ${seed}`).toBe('');
  });

  it('hears no digits in real synthetic speech (espeak-ng, 10 voices, G.711 mu-law fixture)', () => {
    const dir = tempDir();
    const fixture = fileURLToPath(new URL('./dtmf-talkoff-speech.ul', import.meta.url));
    const raw = join(dir, 'speech.raw');
    const r = run('sox', ['-t', 'ul', '-r', '8000', '-c', '1', fixture, '-t', 'raw', '-e', 'signed', '-b', '16', raw]);
    expect(r.status, r.stderr).toBe(0);
    const speech = readRaw(raw);
    expect(speech.length).toBeGreaterThan(8000 * 60);
    expect(detectDtmf(speech)).toBe('');
  });

  it('still hears digits spoken over (DTMF at -10 dBm0 mixed with speech 10 dB lower)', () => {
    const tones = generateDtmf('159#', { onMs: 100, offMs: 100 });
    const speech = syntheticSpeech(1, 3);
    const quiet = Float64Array.from(speech.subarray(0, tones.length), (v) => v * 10 ** (-13 / 20));
    expect(detectDtmf(mix(tones, quiet))).toBe('159#');
  });
});
