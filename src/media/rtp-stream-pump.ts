/**
 * The media thread's heartbeat when no sound card paces the audio: a FrameClock that, every ptime, takes the next
 * mouth frame from its ring and sends it as RTP, and puts the next earpiece frame from the jitter buffer into the
 * other ring. Kept apart from the thread plumbing (rtp-stream-thread.ts) so that it runs on fake time in tests.
 *
 * When the mouth ring is empty at a tick (the producing thread stalled longer than the ring's prefill), a frame of
 * silence is sent instead and counted: RTP timestamps stay on real time and the far end hears a gap, not a skip.
 * When the ear ring is full (the consuming thread stalled), the new frame is dropped and the ring counts it.
 */
import { FrameClock, type FrameClockOptions } from '../../hal/frame-clock.js';
import type { Clock } from '../../hal/clock.js';
import type { FrameRing } from './frame-ring.js';

/** What the pump needs of an RtpSession. */
export interface PumpedStream {
  readonly frameSize: number;
  sendFrame(pcm: Int16Array): void;
  /** A frame not sent: the RTP timestamp still moves on by one (RtpSession.skipFrame). */
  skipFrame(): void;
  readFrame(out: Int16Array): unknown;
}

export type RtpStreamPumpState = 'stopped' | 'pumping';

export class RtpStreamPump {
  state: RtpStreamPumpState = 'stopped';
  /** Ticks at which the mouth ring was empty and silence went out instead. */
  underruns = 0;
  private readonly clock: FrameClock;
  private readonly mouthFrame: Int16Array;
  private readonly silence: Int16Array;
  private readonly earFrame: Int16Array;
  /** The frame index the next tick should have: a larger one means the clock skipped frames after a stall. */
  private expectedIndex = 0;

  constructor(
    time: Clock,
    ptimeMs: number,
    private readonly stream: PumpedStream,
    private readonly mouth: FrameRing,
    private readonly ear: FrameRing,
    clockOptions: FrameClockOptions = {},
  ) {
    this.mouthFrame = new Int16Array(stream.frameSize);
    this.silence = new Int16Array(stream.frameSize);
    this.earFrame = new Int16Array(stream.frameSize);
    this.clock = new FrameClock(time, ptimeMs, this.onTick, clockOptions);
  }

  get skippedFrames(): number {
    return this.clock.skippedFrames;
  }

  start(): void {
    if (this.state === 'pumping') return;
    this.state = 'pumping';
    this.expectedIndex = 0;
    this.clock.start();
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.clock.stop();
  }

  private readonly onTick = (frameIndex: number): void => {
    // Frames the clock skipped after a stall of this thread were never sent: the timestamp moves on past them, so
    // it stays on real time, and the next packet starts a talkspurt.
    for (; this.expectedIndex < frameIndex; this.expectedIndex++) this.stream.skipFrame();
    this.expectedIndex = frameIndex + 1;
    if (this.mouth.read(this.mouthFrame)) this.stream.sendFrame(this.mouthFrame);
    else {
      this.underruns++;
      this.stream.sendFrame(this.silence);
    }
    this.stream.readFrame(this.earFrame);
    this.ear.write(this.earFrame);
  };
}
