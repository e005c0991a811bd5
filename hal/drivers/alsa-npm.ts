import { execFile } from 'node:child_process';
import type { Writable, Readable } from 'node:stream';
import type { AudioPort } from '../audio-port.js';
import { DeviceUnavailableError, importOptional, type HalLog } from '../errors.js';
import { CapturePipeline, PlaybackPipeline } from './pcm-pipeline.js';

export interface SpeakerMicOptions {
  captureDevice: string;
  playbackDevice: string;
  cardRate?: number;
  log: HalLog;
}

interface MicInstance {
  start(): void;
  stop(): void;
  getAudioStream(): Readable;
}
type MicFactory = (o: Record<string, string>) => MicInstance;
type SpeakerCtor = new (o: Record<string, unknown>) => Writable;

/**
 * Strips the WAV header `mic` delivers (it runs arecord without `-t raw`), chunk by chunk, since the header may
 * arrive split across reads. Returns the PCM part of each chunk once the `data` chunk has started.
 */
export class WavHeaderStripper {
  private head = Buffer.alloc(0);
  private done = false;
  malformed = false;

  push(chunk: Buffer): Buffer | undefined {
    if (this.done) return chunk;
    this.head = Buffer.concat([this.head, chunk]);
    if (this.head.length < 12) return undefined;
    if (this.head.toString('ascii', 0, 4) !== 'RIFF' || this.head.toString('ascii', 8, 12) !== 'WAVE') {
      // Not a WAV after all (a future mic that honours raw): pass everything through.
      this.malformed = true;
      this.done = true;
      return this.head;
    }
    let off = 12;
    while (off + 8 <= this.head.length) {
      const id = this.head.toString('ascii', off, off + 4);
      if (id === 'data') {
        this.done = true;
        const rest = this.head.subarray(off + 8);
        this.head = Buffer.alloc(0);
        return rest;
      }
      off += 8 + this.head.readUInt32LE(off + 4);
      if (off > 4096) {
        this.malformed = true;
        this.done = true;
        return undefined;
      }
    }
    return undefined;
  }
}

/**
 * Audio through the `speaker` (libasound in-process) and `mic` (arecord) npm packages. Kept for users who have
 * them working; slower than alsa-cli: speaker opens ALSA with a 0.5 s buffer and mic uses arecord's default
 * periods (about 125 ms). Both packages are optional and loaded on start().
 */
export class SpeakerMicAudioPort implements AudioPort {
  readonly sampleRate = 8000 as const;
  readonly frameSamples = 160 as const;
  /** arecord's default 125 ms period beyond the 20 ms frame + speaker's 500 ms buffer; the benchmark measures it. */
  readonly addedLatencyMs = 605;
  private state: 'idle' | 'running' | 'closed' = 'idle';
  private mic: MicInstance | undefined;
  private speaker: Writable | undefined;
  private readonly listeners: Array<(pcm: Int16Array) => void> = [];
  private readonly capture: CapturePipeline;
  private readonly playback: PlaybackPipeline;
  private readonly header = new WavHeaderStripper();
  playbackDropped = 0;

  constructor(private readonly opts: SpeakerMicOptions) {
    const rate = opts.cardRate ?? 8000;
    this.capture = new CapturePipeline(rate, (f) => this.deliver(f));
    this.playback = new PlaybackPipeline(rate, 64);
  }

  onFrame(cb: (pcm: Int16Array) => void): void {
    this.listeners.push(cb);
  }

  play(pcm: Int16Array): void {
    const sp = this.speaker;
    if (this.state !== 'running' || !sp || !sp.writable) return;
    if (sp.writableLength > 16 * 320 * ((this.opts.cardRate ?? 8000) / 8000)) {
      this.playbackDropped++;
      return;
    }
    sp.write(this.playback.convert(pcm));
  }

  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    // speaker asks the `default` PCM for its formats whatever device it is given, and aborts the whole process
    // (a C assert) if that PCM or the device cannot be opened: check both with aplay first.
    for (const dev of ['default', this.opts.playbackDevice]) {
      const problem = await probePlayback(dev);
      if (problem !== undefined) {
        const why = dev === this.opts.playbackDevice ? problem : `the ALSA "default" PCM (which speaker needs) is unusable: ${problem}`;
        throw new DeviceUnavailableError(this.opts.playbackDevice, 'board.audio_out_device', why);
      }
    }
    const micMod = await importOptional<{ default: MicFactory }>('mic', 'board.audio_driver');
    const speakerMod = await importOptional<{ default: SpeakerCtor }>('speaker', 'board.audio_driver');
    const rate = String(this.opts.cardRate ?? 8000);
    const speaker = new speakerMod.default({ channels: 1, bitDepth: 16, sampleRate: this.opts.cardRate ?? 8000, signed: true, device: this.opts.playbackDevice });
    const mic = micMod.default({ rate, channels: '1', bitwidth: '16', encoding: 'signed-integer', endian: 'little', device: this.opts.captureDevice });
    this.speaker = speaker;
    this.mic = mic;
    const stream = mic.getAudioStream();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      speaker.once('error', (e: Error) => fail(new DeviceUnavailableError(this.opts.playbackDevice, 'board.audio_out_device', e.message)));
      stream.once('audioProcessExitComplete', () =>
        fail(new DeviceUnavailableError(this.opts.captureDevice, 'board.audio_in_device', 'arecord exited (mic hides its error text; try `arecord -D <device>`)')),
      );
      stream.on('data', (chunk: Buffer) => {
        const pcm = this.header.push(chunk);
        if (!pcm || pcm.length === 0) return;
        if (!settled) {
          settled = true;
          this.state = 'running';
          resolve();
        }
        this.capture.push(pcm);
      });
      mic.start();
      // Speaker opens the ALSA device on its first write: a frame of silence surfaces a bad device now.
      speaker.write(Buffer.alloc(320 * ((this.opts.cardRate ?? 8000) / 8000)));
    }).catch(async (err) => {
      await this.close();
      throw err;
    });
    speaker.on('error', (e: Error) => this.opts.log.warn({ device: this.opts.playbackDevice, err: e.message }, 'speaker playback failed'));
    stream.on('audioProcessExitComplete', () => {
      if (this.state === 'running') this.opts.log.warn({ device: this.opts.captureDevice }, 'mic capture (arecord) stopped');
    });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.mic?.stop();
    const sp = this.speaker;
    this.speaker = undefined;
    if (sp && !sp.destroyed) {
      await new Promise<void>((resolve) => {
        sp.once('close', () => resolve());
        sp.once('error', () => resolve());
        sp.end();
      });
    }
  }

  private deliver(frame: Int16Array): void {
    if (this.state !== 'running') return;
    for (const cb of this.listeners) {
      try {
        cb(frame);
      } catch (err) {
        this.opts.log.error({ err }, 'audio frame listener threw');
      }
    }
  }
}

/** Opens `device` for playback with aplay and no data; undefined when it works, else aplay's complaint. */
function probePlayback(device: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const p = execFile('aplay', ['-q', '-D', device, '-t', 'raw', '-f', 'S16_LE', '-r', '8000', '-c', '1'], { timeout: 5000 }, (err, _out, stderr) => {
      if (!err) return resolve(undefined);
      const last = String(stderr).trim().split('\n').pop();
      resolve(last || err.message);
    });
    p.stdin?.end();
  });
}
