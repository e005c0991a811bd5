import { describe, expect, test } from 'vitest';
import { BLOCK_AUDIO, BLOCK_CONCEALED, BLOCK_SILENCE, PacketLossConcealer } from '../../src/media/plc.js';

const N = 80;

/** Runs `signal` through the concealer in 10 ms blocks, with samples in [lossFrom, lossTo) marked missing. */
function run(signal: (n: number) => number, total: number, lossFrom: number, lossTo: number) {
  const plc = new PacketLossConcealer({ maxBlock: N });
  const src = new Int16Array(N);
  const valid = new Uint8Array(N);
  const block = new Int16Array(N);
  const out = new Int16Array(total);
  const flags: number[] = [];
  for (let b = 0; b < total; b += N) {
    for (let i = 0; i < N; i++) {
      const n = b + i;
      const lost = n >= lossFrom && n < lossTo;
      src[i] = lost ? 12345 : Math.round(signal(n)); // a lost sample's content must never leak out
      valid[i] = lost ? 0 : 1;
    }
    flags.push(plc.process(src, valid, N, block));
    out.set(block, b);
  }
  return { plc, out, flags, d: plc.delaySamples };
}

// 125 Hz voiced-like signal: period 64 samples.
const voiced = (n: number) => {
  let v = 0;
  for (let h = 1; h <= 20; h++) v += Math.sin((2 * Math.PI * 125 * h * n) / 8000 + h) / h;
  return 5000 * v;
};

describe('PacketLossConcealer (G.711 Appendix I style)', () => {
  test('without loss the output is the input delayed by exactly 30 samples (3.75 ms)', () => {
    const { out, d, flags } = run(voiced, 1600, -1, -1);
    expect(d).toBe(30);
    for (let n = 0; n < 1600 - d; n++) expect(out[n + d]).toBe(Math.round(voiced(n)));
    expect(flags.every((f) => f === BLOCK_AUDIO)).toBe(true);
  });

  test('pitch of a 125 Hz voiced signal is estimated as its 64-sample period', () => {
    const { plc } = run(voiced, 1600, 800, 880);
    expect(plc.lastPitch).toBe(64);
  });

  test('the first 10 ms of a loss of a periodic signal are replaced at >= 25 dB SNR', () => {
    const { out, d } = run(voiced, 2400, 800, 1280);
    let sig = 0;
    let err = 0;
    for (let n = 800; n < 880; n++) {
      const x = voiced(n);
      sig += x * x;
      err += (out[n + d] - x) ** 2;
    }
    expect(10 * Math.log10(sig / err)).toBeGreaterThan(25);
  });

  test('fade: 20 % per 10 ms after the first 10 ms, exact silence from 60 ms, no lost-sample content leaks', () => {
    const amp = 8000;
    const tone = (n: number) => amp * Math.sin((2 * Math.PI * 400 * n) / 8000); // period 20: repeats exactly
    const { out, d, flags } = run(tone, 3200, 800, 1600);
    const peak = (from: number, to: number) => {
      let m = 0;
      for (let n = from; n < to; n++) m = Math.max(m, Math.abs(out[n + d]));
      return m;
    };
    expect(peak(800, 880)).toBeGreaterThan(amp * 0.95);
    expect(peak(960, 980)).toBeLessThan(amp * 0.8 + 50); // 20-22.5 ms in: gain 0.8 down to 0.75
    expect(peak(960, 980)).toBeGreaterThan(amp * 0.7);
    expect(peak(1200, 1220)).toBeLessThan(amp * 0.2 + 50);
    for (let n = 1281; n < 1600; n++) expect(out[n + d]).toBe(0);
    expect(flags[10]).toBe(BLOCK_CONCEALED);
    expect(flags[18] & BLOCK_SILENCE).toBe(BLOCK_SILENCE);
  });

  test('returning audio after a long loss fades in from silence without a step', () => {
    const tone = (n: number) => 8000 * Math.sin((2 * Math.PI * 400 * n) / 8000);
    const { out, d } = run(tone, 3200, 800, 1600);
    let worstStep = 0;
    for (let n = 1590; n < 1800; n++) worstStep = Math.max(worstStep, Math.abs(out[n + d] - out[n + d - 1]));
    // A full-scale sine at 400 Hz moves at most 2*pi*400/8000 * 8000 = 2513 per sample.
    expect(worstStep).toBeLessThan(2600);
    expect(Math.abs(out[1600 + d])).toBeLessThan(200); // starts near silence, not at full level
  });
});
