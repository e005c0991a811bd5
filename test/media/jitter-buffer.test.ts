import { describe, expect, test } from 'vitest';
import { decodeMuLaw } from '../../src/media/g711.js';
import { JitterBuffer, JitterBufferConfigError } from '../../src/media/jitter-buffer.js';
import { FRAME, bestLag, packet, lagOf, play, sine, snrDb, voiced, worstToneGlitch, type StreamPlan } from './jitter-buffer-stream.js';

const TONE_AMP = 8000;
// Mu-law noise alone gives a predictor residual of about 5 % of the amplitude; a click or phase jump gives > 20 %.
const CLICK = 0.1;

function concealedBefore(results: string[], pulls: number): number {
  return results.slice(0, pulls).filter((r) => r === 'concealed').length;
}

describe('JitterBuffer: loss and concealment', () => {
  test('5 % random loss of a voiced signal: concealment scores >= 25 dB SNR against the sent signal, silence insertion about 12 dB', () => {
    const p = play({ packets: 1500, signal: voiced, lost: (k, r) => k > 50 && r() < 0.05 }, { minMs: 40 });
    expect(p.lostPackets.size).toBeGreaterThan(50);
    const lag = bestLag(p.out, p.reference, 8000, 1600, 1200);
    const zeroFilled = Int16Array.from(p.reference);
    for (const k of p.lostPackets) zeroFilled.fill(0, k * FRAME, (k + 1) * FRAME);
    const end = 1400 * FRAME;
    const concealedSnr = snrDb(p.out, p.reference, lag, 8000, end);
    const silenceSnr = snrDb(zeroFilled, p.reference, 0, 8000, end);
    expect(silenceSnr).toBeLessThan(15);
    expect(concealedSnr).toBeGreaterThan(25);
    expect(p.jb.stats.lost).toBe(p.lostPackets.size);
    // Fixed network delay: the buffer never needed to time-scale, so the lag found once holds everywhere.
    expect(p.jb.stats.samplesDropped + p.jb.stats.samplesInserted).toBe(0);
  });

  test('a 400 Hz tone with 5 % random loss plays without a click at any concealment boundary', () => {
    const p = play({ packets: 1500, signal: sine(400, TONE_AMP), lost: (k, r) => k > 50 && r() < 0.05 }, { minMs: 40 });
    expect(concealedBefore(p.results, 1500)).toBeGreaterThan(50);
    expect(worstToneGlitch(p.out, 400, TONE_AMP, 30 * FRAME, 1450 * FRAME)).toBeLessThan(CLICK);
  });

  test('bursts of 4-10 lost packets: the fill fades to exact silence after 60 ms and returning audio fades in without a click', () => {
    const bursts = [
      [200, 4],
      [400, 7],
      [700, 10],
    ];
    const lost = (k: number) => bursts.some(([s, n]) => k >= s && k < s + n);
    const plan: StreamPlan = { packets: 1000, signal: sine(400, TONE_AMP), lost };
    const p = play(plan, { minMs: 40 });
    const lag = lagOf(plan, { minMs: 40 });
    for (const [s, n] of bursts) {
      const lossStart = s * FRAME + lag; // output index where the first missing sample would have played
      const lossEnd = (s + n) * FRAME + lag;
      // 60 ms into the loss, everything up to its end is silence.
      for (let i = lossStart + 480 + 1; i < lossEnd; i++) expect(p.out[i]).toBe(0);
      // The first 10 ms are a full-level repetition of the tone (within mu-law noise).
      expect(snrDb(p.out, p.reference, lag, s * FRAME, s * FRAME + 80)).toBeGreaterThan(20);
      expect(worstToneGlitch(p.out, 400, TONE_AMP, lossStart - 200, lossEnd + 400)).toBeLessThan(CLICK);
      // Once the fade-in is over the output is the sent signal again.
      expect(snrDb(p.out, p.reference, lag, (s + n) * FRAME + 160, (s + n + 20) * FRAME)).toBeGreaterThan(30);
    }
    expect(p.results.filter((r) => r === 'silence').length).toBeGreaterThanOrEqual(4);
  });
});

describe('JitterBuffer: reordering, duplication, jitter', () => {
  test('adjacent reordering and 10 % duplicates: nothing concealed, duplicates counted, output bit-exact at one delay', () => {
    const p = play(
      {
        packets: 1000,
        signal: voiced,
        // every 7th packet is overtaken by the next one
        jitter: (k) => (k % 7 === 3 ? 25 : 0),
        duplicated: (_k, r) => r() < 0.1,
      },
      { minMs: 40 },
    );
    expect(p.jb.stats.duplicate).toBeGreaterThan(60);
    expect(p.jb.stats.late).toBe(0);
    expect(p.jb.stats.lost).toBe(0);
    expect(concealedBefore(p.results, 1000)).toBe(0);
    const lag = bestLag(p.out, p.reference, 4000, 1600, 1200);
    expect(snrDb(p.out, p.reference, lag, 4000, 990 * FRAME)).toBe(Infinity);
  });

  test('uniform 0-60 ms jitter: the delay grows to cover it, no late packets after the first seconds, no clicks', () => {
    const p = play({ packets: 3000, signal: sine(440, TONE_AMP), jitter: (_k, r) => r() * 60 });
    expect(p.jb.stats.late).toBe(0);
    // Only the first second, before the window has measured the jitter, may need concealment.
    expect(p.results.slice(50, 3000).filter((r) => r === 'concealed').length).toBe(0);
    const settled = p.delayTrace.slice(500, 3000);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...settled)).toBeLessThanOrEqual(90);
    expect(p.jb.stats.jitterMs).toBeGreaterThan(50);
    expect(worstToneGlitch(p.out, 440, TONE_AMP, 50 * FRAME, 2990 * FRAME)).toBeLessThan(CLICK);
  });

  test('a 200 ms network stall: late packets are dropped and counted, the delay grows within maxMs and falls back to under 40 ms once the window forgets it', () => {
    const p = play({
      packets: 1500,
      signal: sine(440, TONE_AMP),
      // packets 300..309 are held back and released together
      jitter: (k) => (k >= 300 && k < 310 ? 200 - (k - 300) * 20 : 0),
    });
    expect(p.jb.stats.late).toBeGreaterThan(0);
    expect(Math.max(...p.delayTrace)).toBeGreaterThan(100);
    expect(Math.max(...p.delayTrace)).toBeLessThanOrEqual(200 + 4);
    expect(p.delayTrace[1450]).toBeLessThan(40);
    expect(worstToneGlitch(p.out, 440, TONE_AMP, 290 * FRAME, 1450 * FRAME)).toBeLessThan(CLICK); // from before the audio returns (pull 311)
  });
});

describe('JitterBuffer: arrivals straddling the pull instant', () => {
  // baresip's sender timer, as captured from a real call: five gaps of about 20.6 ms and one of 16.6 ms, so each
  // packet lands 0.6 ms later than the one before, for 3 ms, then jumps back. Where that 3 ms sweep covers the
  // instant our clock pulls a frame, packets alternate between just before and just after the pull, and their
  // margins (measured against the read position, which moves a whole frame per pull) differ by a frame although
  // the network delivered them 1 ms apart.
  // The stream's first gap is the short one, as in the capture: the first packet lands just after a pull, the
  // second just before the next, so the very first margins already differ by a frame.
  const sawtooth = (offset: number) => (k: number) => offset + 0.6 * ((k + 5) % 6);

  for (const offset of [12.5, 13, 14]) {
    test(`a 1000 Hz tone whose packets straddle the pull (arrivals ${offset + 5}-${offset + 8} ms into the frame): no time-scaling once the start delay has settled`, () => {
      const p = play({ packets: 500, signal: sine(1000, TONE_AMP), jitter: sawtooth(offset) });
      expect(p.jb.stats.late).toBe(0);
      expect(concealedBefore(p.results, 500)).toBe(0);
      // The start delay (40 ms) comes down to the 20 ms floor within the first frames; after that the tone plays
      // untouched: a frame-sized step in a quantised margin is no reason to resample audible audio.
      expect(p.scaledTrace[499] - p.scaledTrace[10]).toBeLessThanOrEqual(4);
      expect(p.delayTrace[499]).toBeLessThanOrEqual(45);
    });
  }
});

describe('JitterBuffer: clock skew', () => {
  for (const ppm of [300, -300]) {
    test(`${ppm > 0 ? '+' : ''}${ppm} ppm far-end clock for 10 minutes: delay does not grow (stays under 50 ms, last minute like the first), nothing late or concealed, no clicks`, () => {
      const packets = 30_000;
      const p = play({ packets, signal: sine(440, TONE_AMP), skewPpm: ppm });
      expect(p.jb.stats.late).toBe(0);
      expect(concealedBefore(p.results, packets - 10)).toBe(0);
      const settled = p.delayTrace.slice(500, packets - 10);
      expect(Math.max(...settled)).toBeLessThanOrEqual(50);
      // The measured delay is quantised to frames: with skew it saw-tooths by one frame, and may read below the
      // 20 ms floor for the moment it takes to correct (never late: see above).
      expect(Math.min(...settled)).toBeGreaterThan(0);
      expect(settled.filter((d) => d < 20).length / settled.length).toBeLessThan(0.05);
      const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
      expect(Math.abs(mean(settled.slice(-3000)) - mean(settled.slice(0, 3000)))).toBeLessThan(10);
      // 300 ppm of 10 minutes is 180 ms: the buffer must have time-scaled about that much.
      const moved = ppm > 0 ? p.jb.stats.samplesDropped : p.jb.stats.samplesInserted;
      expect(moved).toBeGreaterThan(0.18 * 8000 * 0.9);
      expect(worstToneGlitch(p.out, 440, TONE_AMP, 50 * FRAME, (packets - 10) * FRAME)).toBeLessThan(CLICK);
    });
  }
});

describe('JitterBuffer: stream identity', () => {
  test('sequence number wrap at 65535 and timestamp wrap at 2^32: nothing lost or concealed, output bit-exact', () => {
    const p = play(
      { packets: 600, signal: voiced, seqStart: 65_400, tsStart: 0xffffffff - 40_000, lost: (k) => k === 250 },
      { minMs: 40 },
    );
    expect(p.jb.stats.lost).toBe(1);
    expect(p.jb.stats.resyncs).toBe(0);
    const lag = bestLag(p.out, p.reference, 4000, 1600, 1200);
    expect(snrDb(p.out, p.reference, lag, 4000, 245 * FRAME)).toBe(Infinity);
    expect(snrDb(p.out, p.reference, lag, 256 * FRAME, 590 * FRAME)).toBe(Infinity);
  });

  test('SSRC change (the new stream\'s timestamps overlapping the old one\'s): it goes on where the old stream\'s queued audio ends, nothing dropped or concealed, bit-exact', () => {
    const plan: StreamPlan = {
      packets: 1000,
      signal: sine(400, TONE_AMP),
      ssrc: (k) => (k < 500 ? 0x1111 : 0x2222),
      // The new stream's timestamps run 10 frames behind the old one's: as one timeline, every packet would be late.
      tsOf: (k) => (k < 500 ? k * FRAME : (k - 10) * FRAME),
      seqStart: 10,
    };
    for (const minMs of [40, 100]) {
      const p = play(plan, { minMs });
      expect(p.jb.stats.resyncs).toBe(1);
      expect(p.jb.stats.lost).toBe(0);
      expect(p.jb.stats.late).toBe(0);
      expect(p.jb.stats.dropped).toBe(0);
      expect(concealedBefore(p.results, 1000)).toBe(0);
      expect(p.results.slice(20, 1000).filter((r) => r === 'silence').length).toBe(0);
      expect(worstToneGlitch(p.out, 400, TONE_AMP, 400 * FRAME, 700 * FRAME)).toBeLessThan(CLICK);
      const q = play({ ...plan, signal: voiced }, { minMs });
      const lag = bestLag(q.out, q.reference, 400 * FRAME, 1600, 1200);
      expect(snrDb(q.out, q.reference, lag, 400 * FRAME, 990 * FRAME)).toBe(Infinity);
    }
  });

  for (const jumpMs of [500, -500, 300, -900]) {
    test(`a ${jumpMs > 0 ? '+' : ''}${jumpMs} ms timestamp jump inside one SSRC, packets on time: one packet held, then the audio goes on at the same delay, nothing late, no click`, () => {
      const jump = jumpMs * 8;
      const plan: StreamPlan = { packets: 800, signal: sine(440, TONE_AMP), tsOf: (k) => k * FRAME + (k >= 400 ? jump : 0) };
      const p = play(plan);
      expect(p.jb.stats.resyncs).toBe(1);
      expect(p.jb.stats.late).toBe(0);
      expect(p.jb.stats.dropped).toBe(0);
      // The held packet waits one frame for its confirmation: at most that frame is concealed.
      expect(concealedBefore(p.results, 800)).toBeLessThanOrEqual(1);
      expect(Math.max(...p.delayTrace.slice(50, 800))).toBeLessThan(50);
      expect(Math.min(...p.delayTrace.slice(50, 800))).toBeGreaterThan(0);
      expect(worstToneGlitch(p.out, 440, TONE_AMP, 50 * FRAME, 790 * FRAME)).toBeLessThan(CLICK);
    });
  }

  test('the network path gets 500 ms slower for good (more than maxMs): the stream re-anchors and plays again within 100 ms instead of going silent', () => {
    const p = play({ packets: 800, signal: voiced, jitter: (k) => (k >= 400 ? 500 : 0) });
    expect(p.jb.stats.resyncs).toBe(1);
    // The path change leaves a 500 ms hole in arrivals (silence and concealment there); after it, all audio.
    const firstBack = p.results.findIndex((r, m) => m > 425 && r === 'audio');
    expect(firstBack).toBeGreaterThan(0);
    expect(firstBack).toBeLessThan(425 + 5);
    expect(p.results.slice(firstBack, 800).every((r) => r === 'audio')).toBe(true);
    expect(Math.max(...p.delayTrace.slice(firstBack + 10, 800))).toBeLessThan(50);
  });

  test('reset() forgets the stream: silence until the next packet, which plays after the start delay', () => {
    const p = play({ packets: 100, signal: voiced });
    p.jb.reset();
    const frame = new Int16Array(FRAME);
    expect(p.jb.pull(frame)).toBe('silence');
    expect(frame.every((v) => v === 0)).toBe(true);
    expect(p.jb.stats.received).toBe(0);
  });
});

describe('JitterBuffer: hostile input', () => {
  const decode = (codes: Uint8Array, out: Int16Array) => void decodeMuLaw(codes, out);
  test('empty, oversized and NaN-timed packets are dropped and counted, never played', () => {
    const jb = new JitterBuffer({ minMs: 20, maxMs: 200, clockRate: 8000, frameSamples: FRAME, decode });
    jb.push(packet(1, 0, 1, 0), new Uint8Array(0));
    jb.push(packet(2, 160, 1, 0), new Uint8Array(5000));
    jb.push(packet(3, 320, 1, Number.NaN), new Uint8Array(160));
    expect(jb.stats.dropped).toBe(3);
    expect(jb.stats.received).toBe(0);
    const out = new Int16Array(FRAME);
    expect(jb.pull(out)).toBe('silence');
  });

  test('a wild timestamp jump inside one SSRC: the first packet is held, the second confirms the new timeline, both play', () => {
    const jb = new JitterBuffer({ minMs: 20, maxMs: 200, clockRate: 8000, frameSamples: FRAME, decode });
    const pay = new Uint8Array(FRAME).fill(0x80); // mu-law code 0x80 decodes to +32124: unmistakable
    const out = new Int16Array(FRAME);
    for (let i = 0; i < 5; i++) jb.push(packet(1 + i, 1000 + i * FRAME, 7, i * 20), new Uint8Array(FRAME).fill(0xff));
    for (let i = 0; i < 2; i++) jb.push(packet(6 + i, 2_000_000_000 + i * FRAME, 7, 100 + i * 20), pay);
    expect(jb.stats.dropped).toBe(0);
    expect(jb.stats.resyncs).toBe(1);
    let loud = 0;
    for (let i = 0; i < 12; i++) if (jb.pull(out) === 'audio' && Math.max(...out) > 30_000) loud++;
    expect(loud).toBe(2);
  });

  test('one stray packet off the timeline (a wild timestamp) is dropped and counted; the stream plays on untouched', () => {
    const plan: StreamPlan = { packets: 300, signal: voiced, tsOf: (k) => (k === 150 ? 77_000_000 : k * FRAME) };
    const p = play(plan);
    expect(p.jb.stats.dropped).toBe(1);
    expect(p.jb.stats.resyncs).toBe(0);
    const clean = play({ ...plan, lost: (k) => k === 150, tsOf: undefined });
    expect(Array.from(p.out)).toEqual(Array.from(clean.out));
  });

  test('impossible options are refused with a typed error naming the option', () => {
    expect(() => new JitterBuffer({ minMs: 100, maxMs: 50, clockRate: 8000, frameSamples: FRAME, decode })).toThrow(JitterBufferConfigError);
    expect(() => new JitterBuffer({ minMs: 20, maxMs: 50, clockRate: 8000, frameSamples: 0, decode })).toThrow(JitterBufferConfigError);
  });
});
