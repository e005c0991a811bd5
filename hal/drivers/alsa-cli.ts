import { spawn, type ChildProcess } from 'node:child_process';
import { AUDIO_FRAME_MS, type AudioPort } from '../audio-port.js';
import type { Clock, TimerHandle } from '../clock.js';
import { DeviceUnavailableError, type HalLog } from '../errors.js';
import { mediaIo } from '../media-io.js';
import { PACKET_CLOCK_SLICE_US, setWakeupSlice, type WakeupSlice } from '../wakeup-slice.js';
import { nativeCardPipes, streamCardPipes, type CapturePipe, type CardPipes, type PlaybackPipe } from './card-pipe.js';
import { CapturePipeline, PlaybackPipeline } from './pcm-pipeline.js';

export interface AlsaCliOptions {
  /** ALSA PCM for the mouthpiece (capture), e.g. `plughw:1,0`; config key `board.audio_in_device`. */
  captureDevice: string;
  /** ALSA PCM for the earpiece (playback); config key `board.audio_out_device`. */
  playbackDevice: string;
  /** The card's sample rate; not 8000 means we resample (config key `board.audio_rate`). */
  cardRate?: number;
  periodUs?: number;
  bufferUs?: number;
  clock: Clock;
  log: HalLog;
  /** Environment for the child processes (tests point ALSA_CONFIG_PATH at a file-plugin config). */
  env?: NodeJS.ProcessEnv;
  captureConfigKey?: string;
  playbackConfigKey?: string;
  /** How the audio crosses to the children: hal/native's pipes when the module is built (card-pipe.ts says why). */
  pipes?: CardPipes;
  /**
   * The scheduler slice asked for arecord and aplay (hal/wakeup-slice.ts), in microseconds; default
   * PACKET_CLOCK_SLICE_US, 0 leaves them the kernel's default.
   */
  wakeupSliceUs?: number;
}

type AlsaPortState = 'idle' | 'starting' | 'running' | 'restarting' | 'closed';

/** Frames queued to aplay beyond this are dropped: a late earpiece is worse than a gap. */
const MAX_PLAYBACK_BACKLOG_FRAMES = 6;

/**
 * Audio through `arecord`/`aplay` child processes in raw format with small periods (one 20 ms frame per period, 40 ms
 * buffer by default), so the card's clock paces capture and the added latency stays near one buffer. A period of one
 * frame adds nothing on top of the framing (the frame waits for its last sample either way) and wakes the agent, arecord
 * and aplay 50 times a second each; 10 ms periods cost twice the wake-ups for no latency gain. If a process dies
 * (USB card unplugged), one warning is logged and both are restarted with back-off.
 *
 * arecord's wake-up at each period is what paces a call on a card, so both children get the short scheduler slice
 * the agent's own packet-clock thread has (hal/wakeup-slice.ts): on a Pi whose cores are busy, arecord hands over
 * its frame when the card has it, and aplay refills the card's buffer in time.
 */
export class AlsaCliAudioPort implements AudioPort {
  readonly sampleRate = 8000 as const;
  readonly frameSamples = 160 as const;
  readonly addedLatencyMs: number;
  private state: AlsaPortState = 'idle';
  private arecord: ChildProcess | undefined;
  private aplay: ChildProcess | undefined;
  private capturePipe: CapturePipe | undefined;
  private playbackPipe: PlaybackPipe | undefined;
  private readonly listeners: Array<(pcm: Int16Array) => void> = [];
  private readonly capture: CapturePipeline;
  private readonly playback: PlaybackPipeline;
  /** One frame for the card, reused: the pipe copies it. */
  private readonly playBytes: Uint8Array;
  /** Bytes of a 20 ms frame at the card's rate. */
  private readonly frameBytes: number;
  readonly pipes: CardPipes;
  private readonly cardRate: number;
  private readonly periodUs: number;
  private readonly bufferUs: number;
  private restartTimer: TimerHandle | undefined;
  private backoffMs = 500;
  /** Frames dropped because aplay fell behind. */
  playbackDropped = 0;
  /** What the kernel granted arecord at its last start (aplay is asked the same); undefined before a start. */
  childSlice: WakeupSlice | undefined;

  constructor(private readonly opts: AlsaCliOptions) {
    this.cardRate = opts.cardRate ?? 8000;
    this.periodUs = opts.periodUs ?? AUDIO_FRAME_MS * 1000;
    this.bufferUs = opts.bufferUs ?? 40_000;
    this.capture = new CapturePipeline(this.cardRate, (f) => this.deliver(f));
    this.playback = new PlaybackPipeline(this.cardRate, 0);
    this.playBytes = new Uint8Array(this.playback.frameBytes);
    this.frameBytes = ((this.cardRate * 2) / 1000) * AUDIO_FRAME_MS;
    this.pipes = opts.pipes ?? (mediaIo ? nativeCardPipes(mediaIo) : streamCardPipes);
    // Capture hands data over a period at a time, which adds only what a period has beyond the 20 ms frame; playback
    // sits behind up to a full buffer.
    this.addedLatencyMs = Math.max(0, this.periodUs / 1000 - AUDIO_FRAME_MS) + this.bufferUs / 1000 + this.capture.delayMs + this.playback.delayMs;
  }

  onFrame(cb: (pcm: Int16Array) => void): void {
    this.listeners.push(cb);
  }

  play(pcm: Int16Array): void {
    const pipe = this.playbackPipe;
    if (this.state !== 'running' || !pipe) return;
    if (pipe.queuedBytes() > MAX_PLAYBACK_BACKLOG_FRAMES * this.frameBytes || !pipe.write(this.playBytes, this.playback.convertInto(pcm, this.playBytes))) {
      this.playbackDropped++;
    }
  }

  /** Resolves once arecord delivers audio; rejects with DeviceUnavailableError if either process fails first. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'starting';
    try {
      await this.spawnBoth();
      this.state = 'running';
    } catch (err) {
      this.state = 'closed';
      this.killBoth();
      throw err;
    }
  }

  /** Stops capture at once; lets aplay drain what it was given (ending its input), killing it if it lingers. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.opts.clock.clearTimeout(this.restartTimer);
    const ply = this.aplay;
    const plyPipe = this.playbackPipe;
    this.aplay = undefined;
    this.playbackPipe = undefined;
    this.killBoth();
    if (ply && ply.exitCode === null && ply.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = this.opts.clock.setTimeout(() => ply.kill('SIGKILL'), 2000);
        ply.once('exit', () => {
          this.opts.clock.clearTimeout(t);
          resolve();
        });
        plyPipe?.end();
      });
    } else plyPipe?.end();
  }

  private args(device: string): string[] {
    const r = String(this.cardRate);
    return ['-D', device, '-t', 'raw', '-f', 'S16_LE', '-r', r, '-c', '1', `--period-time=${this.periodUs}`, `--buffer-time=${this.bufferUs}`, '-q'];
  }

  private spawnBoth(): Promise<void> {
    const capKey = this.opts.captureConfigKey ?? 'board.audio_in_device';
    const playKey = this.opts.playbackConfigKey ?? 'board.audio_out_device';
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const capture = (this.capturePipe = this.pipes.capture());
      const playback = (this.playbackPipe = this.pipes.playback());
      const env = this.opts.env ?? process.env;
      // Should spawn itself throw, the caller's killBoth closes both pipes and stops a child already started.
      const rec = (this.arecord = spawn('arecord', this.args(this.opts.captureDevice), { env, stdio: ['ignore', capture.childEnd, 'pipe'] }));
      capture.attach(rec, (bytes, length) => {
        if (!settled) {
          settled = true;
          this.backoffMs = 500;
          resolve();
        }
        this.capture.push(bytes, length);
      });
      const ply = (this.aplay = spawn('aplay', this.args(this.opts.playbackDevice), { env, stdio: [playback.childEnd, 'ignore', 'pipe'] }));
      playback.attach(ply);
      this.shortenChildSlices(rec, ply);
      const recErr = collectStderr(rec);
      const plyErr = collectStderr(ply);
      rec.on('error', (e) => fail(new DeviceUnavailableError(this.opts.captureDevice, capKey, `cannot run arecord (alsa-utils): ${e.message}`)));
      ply.on('error', (e) => fail(new DeviceUnavailableError(this.opts.playbackDevice, playKey, `cannot run aplay (alsa-utils): ${e.message}`)));
      rec.on('exit', (code, sig) => {
        if (!settled) fail(new DeviceUnavailableError(this.opts.captureDevice, capKey, recErr().trim() || `arecord exited (${code ?? sig})`));
        else this.lost(rec, 'arecord', this.opts.captureDevice, code ?? sig, recErr());
      });
      ply.on('exit', (code, sig) => {
        if (!settled) fail(new DeviceUnavailableError(this.opts.playbackDevice, playKey, plyErr().trim() || `aplay exited (${code ?? sig})`));
        else this.lost(ply, 'aplay', this.opts.playbackDevice, code ?? sig, plyErr());
      });
    });
  }

  private shortenChildSlices(rec: ChildProcess, ply: ChildProcess): void {
    const us = this.opts.wakeupSliceUs ?? PACKET_CLOCK_SLICE_US;
    if (us === 0 || rec.pid === undefined) return; // no pid: the spawn failed, and its 'error' says so
    this.childSlice = setWakeupSlice(us, mediaIo ?? null, rec.pid);
    if (ply.pid !== undefined) setWakeupSlice(us, mediaIo ?? null, ply.pid);
  }

  private lost(proc: ChildProcess, tool: string, device: string, how: number | string | null, stderr: string): void {
    if (this.state !== 'running' || (proc !== this.arecord && proc !== this.aplay)) return;
    this.state = 'restarting';
    this.opts.log.warn({ device, tool, exit: how, stderr: stderr.trim().slice(-200) }, `audio device ${device} lost; retrying in ${this.backoffMs} ms`);
    this.killBoth();
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    this.restartTimer = this.opts.clock.setTimeout(() => {
      if (this.state !== 'restarting') return;
      this.spawnBoth().then(
        () => {
          if (this.state !== 'restarting') return this.killBoth();
          this.state = 'running';
          this.opts.log.info({ device: this.opts.captureDevice }, 'audio device back');
        },
        () => {
          if (this.state !== 'restarting') return;
          this.killBoth();
          this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
          this.scheduleRestart();
        },
      );
    }, this.backoffMs);
  }

  private killBoth(): void {
    this.capturePipe?.close();
    this.playbackPipe?.end();
    this.capturePipe = undefined;
    this.playbackPipe = undefined;
    for (const p of [this.arecord, this.aplay]) {
      if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    }
    this.arecord = undefined;
    this.aplay = undefined;
  }

  private deliver(frame: Int16Array): void {
    if (this.state !== 'running' && this.state !== 'starting') return;
    for (const cb of this.listeners) {
      try {
        cb(frame);
      } catch (err) {
        this.opts.log.error({ err }, 'audio frame listener threw');
      }
    }
  }
}

function collectStderr(p: ChildProcess): () => string {
  let text = '';
  p.stderr?.on('data', (d: Buffer) => {
    if (text.length < 4000) text += d.toString();
  });
  return () => text;
}
