/**
 * What the phone's earpiece hears, one 20 ms frame at a time, pulled by the audio port's capture clock. In order
 * of precedence: a one-shot signal (caller ID, the ETSI alert tone) that must go out whole and on time, then a
 * call-progress tone, then the far end's audio, then silence. Early media (a 183 with SDP before the answer) puts
 * the far end's audio before the tone: the caller hears the network's ringback or announcement whenever packets
 * arrive, and our own ringback when none do (a far end that signals early media and sends nothing). Filling allocates nothing: tone generators are built
 * once per line from its tone plan and the frame buffer is reused.
 */
import { ToneGenerator } from '../media/tone-generator.js';
import type { TonePlan, ToneName } from '../media/tone-plan.js';
import type { LineTone } from './line-seams.js';

const TONE_OF: Record<LineTone, ToneName> = {
  dial: 'dial',
  stutter: 'stutterDial',
  ringback: 'ringback',
  busy: 'busy',
  congestion: 'congestion',
  'off-hook-warning': 'offHookWarning',
  'call-waiting': 'callWaiting',
};

/** Fills `out` with the far end's audio; returns false when it has none (then the earpiece gets silence). */
export type RemoteAudio = (out: Int16Array) => boolean;

export class Earpiece {
  private readonly generators = new Map<LineTone, ToneGenerator>();
  private tone: ToneGenerator | null = null;
  private toneName: LineTone | null = null;
  private signal: Int16Array | null = null;
  private signalPos = 0;
  private remote: RemoteAudio | null = null;
  private remoteFirst = false;
  /** A tone mixed over whatever plays (the call-waiting beep over the call), and its scratch frame. */
  private overlay: ToneGenerator | null = null;
  private overlayFrame = new Int16Array(160);
  /** Name of what is playing now, for logs and tests. */
  playing: LineTone | 'signal' | 'remote' | null = null;

  constructor(plan: TonePlan) {
    for (const [lineTone, name] of Object.entries(TONE_OF) as Array<[LineTone, ToneName]>) {
      this.generators.set(lineTone, new ToneGenerator(plan[name]));
    }
  }

  /** Starts a tone from the beginning of its cadence, or stops tones with null. */
  setTone(tone: LineTone | null): void {
    this.tone = tone ? this.generators.get(tone) ?? null : null;
    this.toneName = this.tone ? tone : null;
    this.tone?.reset();
  }

  /** Mixes a tone over everything else (call waiting: the beep is heard over the call), or stops it with null. */
  setOverlay(tone: LineTone | null): void {
    this.overlay = tone ? this.generators.get(tone) ?? null : null;
    this.overlay?.reset();
  }

  /** Queues a one-shot signal; it replaces one still playing. */
  playSignal(samples: Int16Array): void {
    this.signal = samples;
    this.signalPos = 0;
  }

  cancelSignal(): void {
    this.signal = null;
  }

  /** True while a one-shot signal is still being played. */
  get signalPlaying(): boolean {
    return this.signal !== null;
  }

  /** The far end's audio, or null; `early` puts it before call-progress tones (early media). */
  setRemote(remote: RemoteAudio | null, early = false): void {
    this.remote = remote;
    this.remoteFirst = remote !== null && early;
  }

  /** Writes the next frame into `out`. */
  fill(out: Int16Array): void {
    this.fillBase(out);
    if (!this.overlay) return;
    if (this.overlayFrame.length !== out.length) this.overlayFrame = new Int16Array(out.length);
    const o = this.overlayFrame;
    this.overlay.fill(o);
    for (let i = 0; i < out.length; i++) {
      const v = out[i] + o[i];
      out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
  }

  private fillBase(out: Int16Array): void {
    if (this.signal) {
      const n = Math.min(out.length, this.signal.length - this.signalPos);
      out.set(this.signal.subarray(this.signalPos, this.signalPos + n));
      if (n < out.length) out.fill(0, n);
      this.signalPos += n;
      if (this.signalPos >= this.signal.length) this.signal = null;
      this.playing = 'signal';
      return;
    }
    // The remote source is pulled at most once per frame: each pull takes a frame from the jitter buffer.
    if (this.remoteFirst && this.remote!(out)) {
      this.playing = 'remote';
      return;
    }
    if (this.tone) {
      this.tone.fill(out);
      this.playing = this.toneName;
      return;
    }
    if (!this.remoteFirst && this.remote && this.remote(out)) {
      this.playing = 'remote';
      return;
    }
    out.fill(0);
    this.playing = null;
  }
}
