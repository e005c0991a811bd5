/**
 * The phone's audio as the line controller sees it: 8 kHz mono signed 16-bit, 20 ms frames both ways. Capture is
 * paced by the device's own clock (or the sim's FrameClock), so RTP timing follows the sound card, not a timer.
 */
export const AUDIO_SAMPLE_RATE = 8000 as const;
export const AUDIO_FRAME_SAMPLES = 160 as const;
export const AUDIO_FRAME_MS = 20;

export interface AudioPort {
  readonly sampleRate: 8000;
  readonly frameSamples: 160;
  /** Buffering this port adds on top of the 20 ms framing, capture plus playback, in ms (stated, or measured). */
  readonly addedLatencyMs: number;
  /** 20 ms capture frames. The array is reused by the port: copy it if you keep it past the callback. */
  onFrame(cb: (pcm: Int16Array) => void): void;
  /** 20 ms frames to the earpiece. The port copies what it needs before returning. */
  play(pcm: Int16Array): void;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Keeps a partial frame between chunks of arbitrary size and emits exact 160-sample frames from one buffer. */
export class FrameAssembler {
  private readonly frame = new Int16Array(AUDIO_FRAME_SAMPLES);
  private fill = 0;
  constructor(private readonly emit: (frame: Int16Array) => void) {}

  /** Takes the first `length` samples (a length, not a subarray: no view is made per chunk). */
  push(samples: Int16Array, length = samples.length): void {
    const frame = this.frame;
    let i = 0;
    while (i < length) {
      const n = Math.min(AUDIO_FRAME_SAMPLES - this.fill, length - i);
      for (let k = 0; k < n; k++) frame[this.fill + k] = samples[i + k];
      this.fill += n;
      i += n;
      if (this.fill === AUDIO_FRAME_SAMPLES) {
        this.fill = 0;
        this.emit(this.frame);
      }
    }
  }
}
