import type { Clock } from '../clock.js';
import { AUDIO_FRAME_MS, AUDIO_FRAME_SAMPLES, type AudioPort } from '../audio-port.js';
import { FrameClock } from '../frame-clock.js';
import { SampleRing } from './sample-ring.js';
import { StreamingWavWriter } from './wav-file.js';

export interface SimAudioOptions {
  /** Samples the mouthpiece sends, looped, while off hook (the `audio_in` WAV); none means silence. */
  mouthpiece?: Int16Array;
  /** Where the earpiece recording goes (the `audio_out` WAV); none means it is not recorded. */
  earpiecePath?: string;
  earpieceConfigKey?: string;
}

/**
 * The simulated phone's audio. A FrameClock on the injected Clock stands in for a sound card's clock: every 20 ms
 * it delivers one capture frame (the looped `audio_in` plus anything injected, while off hook) and moves one frame
 * of what was played to the earpiece recording, silence included, so the WAV's timeline is the line's.
 */
export class SimAudioPort implements AudioPort {
  readonly sampleRate = 8000 as const;
  readonly frameSamples = AUDIO_FRAME_SAMPLES;
  readonly addedLatencyMs = AUDIO_FRAME_MS;

  private readonly captureFrame = new Int16Array(AUDIO_FRAME_SAMPLES);
  private readonly earFrame = new Int16Array(AUDIO_FRAME_SAMPLES);
  // Ten seconds of earpiece: a whole caller-ID burst or tone cadence can be handed over at once.
  private readonly earpiece = new SampleRing(8000 * 10);
  private readonly injected = new SampleRing(8000 * 30);
  private readonly listeners: Array<(pcm: Int16Array) => void> = [];
  private readonly frameClock: FrameClock;
  private readonly wav: StreamingWavWriter | undefined;
  private loopPos = 0;
  private offHook = false;
  private state: 'idle' | 'running' | 'closed' = 'idle';
  /** Injected samples thrown away because the phone was on hook. */
  injectedDiscarded = 0;

  constructor(
    clock: Clock,
    private readonly opts: SimAudioOptions = {},
    private readonly onListenerError: (err: unknown) => void = () => {},
  ) {
    this.frameClock = new FrameClock(clock, AUDIO_FRAME_MS, () => this.tick());
    this.wav = opts.earpiecePath
      ? new StreamingWavWriter(opts.earpiecePath, opts.earpieceConfigKey ?? 'board.audio_out')
      : undefined;
  }

  /** Samples written to the earpiece recording so far. */
  get earpieceSamples(): number {
    return this.wav?.samplesWritten ?? 0;
  }
  get earpieceOverflow(): number {
    return this.earpiece.dropped;
  }

  setOffHook(offHook: boolean): void {
    if (offHook && !this.offHook) this.loopPos = 0;
    if (!offHook) this.injected.clear();
    this.offHook = offHook;
  }

  injectMouthpiece(pcm: Int16Array): void {
    if (!this.offHook) {
      this.injectedDiscarded += pcm.length;
      return;
    }
    this.injected.push(pcm);
  }

  onFrame(cb: (pcm: Int16Array) => void): void {
    this.listeners.push(cb);
  }

  play(pcm: Int16Array): void {
    if (this.state === 'closed') return;
    this.earpiece.push(pcm);
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'running';
    this.frameClock.start();
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.frameClock.stop();
    this.wav?.close();
  }

  private tick(): void {
    if (this.state !== 'running') return;
    const frame = this.captureFrame;
    const loop = this.opts.mouthpiece;
    if (this.offHook && loop && loop.length > 0) {
      for (let i = 0; i < frame.length; i++) {
        frame[i] = loop[this.loopPos];
        this.loopPos = this.loopPos + 1 === loop.length ? 0 : this.loopPos + 1;
      }
    } else {
      frame.fill(0);
    }
    if (this.offHook) this.injected.mixInto(frame);
    for (const cb of this.listeners) {
      try {
        cb(frame);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    this.earpiece.pullInto(this.earFrame);
    this.wav?.write(this.earFrame);
  }
}
