/**
 * Test support for the jitter buffer: a generated far-end stream (mu-law encoded with the real codec), explicit
 * arrival times on a simulated network, pulls every 20 ms of our own clock, and signal-quality measures.
 */
import { decodeMuLaw, encodeMuLaw } from '../../src/media/g711.js';
import { JitterBuffer, type JitterBufferOptions, type JitterPacket, type PullResult } from '../../src/media/jitter-buffer.js';
import { seededRandom } from '../../hal/clock.js';

/** A received packet's fields, as RtpSession hands them to the jitter buffer. */
export function packet(sequence: number, timestamp: number, ssrc: number, arrivalMs: number): JitterPacket {
  return { sequence, timestamp, ssrc, arrivalMs };
}

export const FRAME = 160;
export const RATE = 8000;

/** A voiced-like signal: 125 Hz fundamental (period 64 samples) with decaying harmonics up to 3 kHz. */
export function voiced(n: number): number {
  let v = 0;
  for (let h = 1; h * 125 <= 3000; h++) v += Math.sin((2 * Math.PI * 125 * h * n) / RATE + h * 0.7) / h;
  return 6000 * v;
}

export function sine(freq: number, amp = 8000): (n: number) => number {
  return (n) => amp * Math.sin((2 * Math.PI * freq * n) / RATE);
}

export interface StreamPlan {
  packets: number;
  signal: (n: number) => number;
  seed?: number;
  /** Far-end clock error: +300 means the sender's 20 ms are 300 ppm shorter than ours. */
  skewPpm?: number;
  /** Network delay beyond the base 5 ms for packet k (ms). */
  jitter?: (k: number, rnd: () => number) => number;
  lost?: (k: number, rnd: () => number) => boolean;
  duplicated?: (k: number, rnd: () => number) => boolean;
  seqStart?: number;
  tsStart?: number;
  ssrc?: (k: number) => number;
  /** Sample index of packet k's first sample (default k * FRAME); lets a new SSRC start a new signal. */
  tsOf?: (k: number) => number;
}

export interface Played {
  out: Int16Array;
  results: PullResult[];
  /** Mu-law decoded sent signal, indexed by sample number (what a perfect receiver would play). */
  reference: Int16Array;
  lostPackets: Set<number>;
  delayTrace: number[];
  /** Samples time-scaled so far (dropped + inserted), after each pull. */
  scaledTrace: number[];
  jb: JitterBuffer;
}

interface Arrival {
  at: number;
  k: number;
}

export function play(plan: StreamPlan, jbOpts: Partial<JitterBufferOptions> = {}): Played {
  const rnd = seededRandom(plan.seed ?? 1);
  const total = plan.packets * FRAME;
  const reference = new Int16Array(total);
  const pcm = new Int16Array(total);
  for (let i = 0; i < total; i++) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(plan.signal(i))));
  decodeMuLaw(encodeMuLaw(pcm), reference);
  const payloads: Uint8Array[] = [];
  for (let k = 0; k < plan.packets; k++) payloads.push(encodeMuLaw(pcm.subarray(k * FRAME, (k + 1) * FRAME)));

  const arrivals: Arrival[] = [];
  const lostPackets = new Set<number>();
  const period = 20 / (1 + (plan.skewPpm ?? 0) * 1e-6);
  for (let k = 0; k < plan.packets; k++) {
    if (plan.lost?.(k, rnd)) {
      lostPackets.add(k);
      continue;
    }
    const at = k * period + 5 + (plan.jitter?.(k, rnd) ?? 0);
    arrivals.push({ at, k });
    if (plan.duplicated?.(k, rnd)) arrivals.push({ at: at + 1 + rnd() * 30, k });
  }
  arrivals.sort((a, b) => a.at - b.at);

  const decode = (codes: Uint8Array, out: Int16Array) => void decodeMuLaw(codes, out);
  const jb = new JitterBuffer({ minMs: 20, maxMs: 200, clockRate: RATE, frameSamples: FRAME, decode, ...jbOpts });
  const pulls = Math.ceil((plan.packets * period + 400) / 20);
  const out = new Int16Array(pulls * FRAME);
  const results: PullResult[] = [];
  const delayTrace: number[] = [];
  const scaledTrace: number[] = [];
  const seq0 = plan.seqStart ?? 1000;
  const ts0 = plan.tsStart ?? 123456;
  let a = 0;
  for (let m = 0; m < pulls; m++) {
    const now = m * 20;
    while (a < arrivals.length && arrivals[a].at <= now) {
      const { k, at } = arrivals[a++];
      const ts = plan.tsOf ? plan.tsOf(k) : k * FRAME;
      jb.push(packet((seq0 + k) & 0xffff, (ts0 + ts) >>> 0, plan.ssrc?.(k) ?? 0x1234abcd, at), payloads[k]);
    }
    results.push(jb.pull(out.subarray(m * FRAME, (m + 1) * FRAME)));
    delayTrace.push(jb.delayMs);
    scaledTrace.push(jb.stats.samplesDropped + jb.stats.samplesInserted);
  }
  return { out, results, reference, lostPackets, delayTrace, scaledTrace, jb };
}

/**
 * Output index minus reference index of the playout, found by replaying the same timing plan with a
 * non-periodic signal (a tone matches itself at every period, so it cannot be aligned directly).
 */
export function lagOf(plan: StreamPlan, jbOpts: Partial<JitterBufferOptions> = {}): number {
  const noise = seededRandom(99);
  const table = new Float64Array(plan.packets * FRAME).map(() => (noise() - 0.5) * 16000);
  const p = play({ ...plan, signal: (n) => table[n] }, jbOpts);
  const from = Math.min(4000, (plan.packets * FRAME) >> 2);
  return bestLag(p.out, p.reference, from, 1600, 1200);
}

/** Lag (in samples) at which `out` best matches `ref` over `len` samples starting at ref[from]. */
export function bestLag(out: Int16Array, ref: Int16Array, from: number, len: number, maxLag: number): number {
  let best = 0;
  let bestErr = Infinity;
  for (let lag = 0; lag <= maxLag; lag++) {
    let err = 0;
    for (let i = 0; i < len; i++) {
      const d = out[from + lag + i] - ref[from + i];
      err += d * d;
    }
    if (err < bestErr) {
      bestErr = err;
      best = lag;
    }
  }
  return best;
}

/** SNR in dB of out[i + lag] against ref[i] for i in [from, to). */
export function snrDb(out: ArrayLike<number>, ref: Int16Array, lag: number, from: number, to: number): number {
  let sig = 0;
  let noise = 0;
  for (let i = from; i < to; i++) {
    sig += ref[i] * ref[i];
    const d = out[i + lag] - ref[i];
    noise += d * d;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(sig / noise);
}

/**
 * Largest deviation of a sinusoid from its own two-tap predictor x[n] = 2cos(w)x[n-1] - x[n-2], as a fraction of
 * `amp`. A pure tone gives ~0 (quantisation noise aside), a click or phase jump gives a spike; a 1 % frequency
 * change from time-scaling stays near 0.3 %.
 */
export function worstToneGlitch(out: Int16Array, freq: number, amp: number, from: number, to: number): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / RATE);
  let worst = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    const r = Math.abs(out[n] - c * out[n - 1] + out[n - 2]);
    if (r > worst) worst = r;
  }
  return worst / amp;
}
