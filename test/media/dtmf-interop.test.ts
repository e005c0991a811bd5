// DTMF against independent implementations (Debian packages): multimon-ng decodes what we generate, and our
// detector decodes DTMF pairs synthesised by sox.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { detectDtmf } from '../../src/media/dtmf-detector.js';
import { generateDtmf } from '../../src/media/dtmf-generator.js';
import { dtmfFrequencies } from '../../src/media/dtmf-keypad.js';
import { concat, readRaw, run, tempDir, toBuffer } from './tone-test-helpers.js';

const ALL = '0123456789*#ABCD';
const S16 = ['-e', 'signed', '-b', '16', '-c', '1'];

function multimonDigits(pcm8k: Int16Array): string {
  const dir = tempDir();
  const up = join(dir, 'up.raw');
  const r1 = run('sox', ['-t', 'raw', '-r', '8000', ...S16, '-', '-t', 'raw', '-r', '22050', ...S16, up], toBuffer(pcm8k));
  expect(r1.status, r1.stderr).toBe(0);
  const r2 = run('multimon-ng', ['-q', '-c', '-a', 'DTMF', '-t', 'raw', up]);
  expect(r2.status, r2.stderr).toBe(0);
  return [...r2.stdout.matchAll(/^DTMF: (.)$/gm)].map((m) => m[1]).join('');
}

describe('DTMF interoperability', () => {
  it('multimon-ng decodes our generated DTMF (100 ms / 100 ms, -10 dBm0)', () => {
    expect(multimonDigits(generateDtmf(ALL))).toBe(ALL);
  });

  it('multimon-ng decodes our generated DTMF at 50 ms / 50 ms and -25 dBm0', () => {
    expect(multimonDigits(generateDtmf(ALL, { onMs: 50, offMs: 50, levelDbm0: -25 }))).toBe(ALL);
  });

  it('our detector decodes sox-synthesised DTMF pairs (100 ms and 45 ms tones)', () => {
    const dir = tempDir();
    for (const dur of [0.1, 0.045]) {
      const parts: Int16Array[] = [];
      for (const d of ALL) {
        const [lo, hi] = dtmfFrequencies(d);
        const f = join(dir, `${d === '*' ? 'star' : d === '#' ? 'hash' : d}.raw`);
        const r = run('sox', ['-n', '-r', '8000', ...S16, '-t', 'raw', f, 'synth', String(dur), 'sine', String(lo), 'sine', String(hi), 'channels', '1', 'gain', '-12', 'pad', '0', '0.06']);
        expect(r.status, r.stderr).toBe(0);
        parts.push(readRaw(f));
      }
      expect(detectDtmf(concat(...parts)), `${dur} s`).toBe(ALL);
    }
  });
});
