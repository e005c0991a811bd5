/**
 * An RtpSession run on a thread of its own (worker_threads), for when no sound card paces the audio: the packet
 * clock, the sockets, the jitter buffer and concealment all live in the media thread (rtp-stream-worker.ts), with a
 * V8 heap of their own. On the main thread, where the agent's SIP, HTTP and state machines allocate freely, a major
 * garbage collection pauses everything for 10-20 ms; a packet clock there cannot keep its 1 ms p99 however precisely
 * it sleeps (scripts/bench/media-clock.bench.mjs measures both).
 *
 * It runs on one of two engines (rtp-stream-worker.ts): 'native', its own loop on hal/media-io.ts (one wake-up per
 * tick, and no Buffer, rinfo or send request per packet), the default when that module is built; or 'event-loop',
 * Node's sockets and timers, at two to two and a half times the media thread's CPU (media-call.bench.mjs).
 *
 * Audio crosses in two FrameRings over SharedArrayBuffers: the caller writes mouth frames (keep one or two queued
 * ahead so a main-thread pause does not starve the clock) and reads earpiece frames at its own pace. Control and
 * statistics go by message; they are rare. The same checks as RtpSession's are made here, before anything is sent
 * across, so a bad address or digit is a typed error in the caller's thread, never a dead media thread.
 *
 * A heap of its own keeps the clock clear of the main thread's pauses, but not of the scheduler: on a machine whose
 * cores are busy (the main thread collecting garbage with V8's helper threads, another process), a thread that
 * wakes for its tick may wait a scheduler slice (1-5 ms) for a core. So the media thread raises its own priority
 * (`nice`, default -10; Linux keeps a nice value per thread, so nothing else in the process is raised). On this
 * project's 2-core development VM that alone took the wire p99 from 0.9-3.8 ms to 0.1-0.8 ms beside the garbage
 * maker (scripts/bench/media-clock.bench.mjs measures both, in one run). Raising needs CAP_SYS_NICE (root, or the
 * systemd unit's AmbientCapabilities); without it the thread keeps the process's priority and `nice` says so.
 * It also asks for a short scheduler slice (hal/wakeup-slice.ts), which needs no privilege: a prompt turn on wake-up
 * rather than a larger share; `slice` says what the kernel granted.
 */
import { isIP } from 'node:net';
import { Worker } from 'node:worker_threads';
import { mediaIo, mediaIoMissing } from '../../hal/media-io.js';
import { PACKET_CLOCK_SLICE_US, SLICE_MAX_US, SLICE_MIN_US, type WakeupSlice } from '../../hal/wakeup-slice.js';
import { FrameRing } from './frame-ring.js';
import type { RtpSessionStats } from './media-stats.js';
import { checkDtmfDuration, checkPtime, RtpSessionError, type RtpSessionOptions } from './rtp-session.js';
import { dtmfEventCode, TelephoneEventError } from './telephone-event.js';

/** RtpSessionOptions without what cannot cross a thread boundary: the media thread uses the system clock. */
export type RtpStreamThreadOptions = Omit<RtpSessionOptions, 'clock' | 'random'> & {
  /** Frames each ring holds (default 8: 160 ms at 20 ms ptime). */
  ringFrames?: number;
  /**
   * The media thread's nice value, -20 (first) to 19 (last); default MEDIA_THREAD_NICE. Pass the process's own
   * (os.getPriority()) to leave it as it is.
   */
  nice?: number;
  /** Default 'native' when hal/media-io.ts is built, else 'event-loop' (see rtp-stream-worker.ts). */
  engine?: MediaEngine;
  /**
   * The media thread's scheduler slice in microseconds (hal/wakeup-slice.ts), default PACKET_CLOCK_SLICE_US; 0
   * leaves the kernel's default.
   */
  sliceUs?: number;
};

/** How the media thread waits, sends and receives: its own loop on hal/media-io.ts, or Node's event loop. */
export type MediaEngine = 'native' | 'event-loop';

/** Earpiece frames a reader may find queued, beyond which the oldest are dropped as stale (see readFrame). */
const EAR_BACKLOG_FRAMES = 2;

/** How long close() waits for the media thread's BYE and confirmation before terminating it. */
const CLOSE_WAIT_MS = 1000;

/** Ahead of ordinary processes and of the agent's own main thread, short of what the kernel's own threads use. */
export const MEDIA_THREAD_NICE = -10;

export interface ThreadStart {
  options: Omit<RtpStreamThreadOptions, 'ringFrames' | 'nice' | 'engine' | 'sliceUs'>;
  nice: number;
  sliceUs: number;
  engine: MediaEngine;
  mouth: SharedArrayBuffer;
  ear: SharedArrayBuffer;
  /** One Int32 counting the control messages posted: the native loop looks at the port only when it has moved. */
  posted: SharedArrayBuffer;
}

export type ThreadRequest =
  | { type: 'set-remote'; address: string; port: number; rtcpPort: number }
  | { type: 'send-dtmf'; digit: string; durationMs: number }
  | { type: 'stats'; id: number }
  | { type: 'close' };

export type ThreadReply =
  | { type: 'opened'; localPort: number; ssrc: number; frameSize: number; nice: number; slice: WakeupSlice }
  | { type: 'failed'; name: string; reason: string; message: string }
  | { type: 'dtmf'; digit: string }
  | { type: 'stats'; id: number; stats: RtpSessionStats; underruns: number; skippedFrames: number; heapBytes: number }
  | { type: 'closed' };

export interface RtpStreamThreadStats extends RtpSessionStats {
  /** Ticks at which no mouth frame was queued and silence was sent. */
  underruns: number;
  /** Frames the media thread's clock skipped after a stall of its own. */
  skippedFrames: number;
  /** Earpiece frames dropped because the caller did not read them in time. */
  earOverflows: number;
  /** The media thread's V8 heap in use: it has a heap of its own, and it should stay flat through a call. */
  heapBytes: number;
}

export type RtpStreamThreadState = 'open' | 'closing' | 'closed';

export class RtpStreamThreadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RtpStreamThreadError';
  }
}

export class RtpStreamThread {
  state: RtpStreamThreadState = 'open';
  /** Earpiece frames dropped unread because the reader fell more than EAR_BACKLOG_FRAMES behind. */
  staleEarFrames = 0;
  private dtmfListener: ((digit: string) => void) | undefined;
  private endedListener: ((cause: Error | null) => void) | undefined;
  private nextStatsId = 1;
  private readonly pendingStats = new Map<number, { resolve: (s: RtpStreamThreadStats) => void; reject: (e: Error) => void }>();
  private closed: (() => void) | undefined;

  /** Starts the media thread, which binds the ports and starts its packet clock; resolves once it streams. */
  static async open(options: RtpStreamThreadOptions): Promise<RtpStreamThread> {
    if (!isIP(options.remoteAddress)) throw new RtpSessionError('remote-address', `remote address must be an IP literal, got ${options.remoteAddress}`);
    checkPtime(options.ptimeMs ?? 20);
    const frameSamples = ((options.ptimeMs ?? 20) * 8000) / 1000;
    const ringFrames = options.ringFrames ?? 8;
    const mouth = FrameRing.create(frameSamples, ringFrames);
    const ear = FrameRing.create(frameSamples, ringFrames);
    const { ringFrames: _unused, nice = MEDIA_THREAD_NICE, engine = mediaIo ? 'native' : 'event-loop', sliceUs = PACKET_CLOCK_SLICE_US, ...sessionOptions } = options;
    if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new RtpStreamThreadError(`nice must be an integer from -20 to 19, got ${nice}`);
    if (!Number.isInteger(sliceUs) || (sliceUs !== 0 && (sliceUs < SLICE_MIN_US || sliceUs > SLICE_MAX_US))) throw new RtpStreamThreadError(`sliceUs must be 0 or an integer from ${SLICE_MIN_US} to ${SLICE_MAX_US}, got ${sliceUs}`);
    if (engine !== 'native' && engine !== 'event-loop') throw new RtpStreamThreadError(`engine must be 'native' or 'event-loop', got ${String(engine)}`);
    if (engine === 'native' && !mediaIo) throw new RtpStreamThreadError(`the native media engine is not available: ${mediaIoMissing}`);
    const posted = new SharedArrayBuffer(4);
    const start: ThreadStart = { options: sessionOptions, nice, sliceUs, engine, mouth: mouth.buffer, ear: ear.buffer, posted };
    const worker = new Worker(new URL('./rtp-stream-worker.js', import.meta.url), { workerData: start });
    const first = await new Promise<ThreadReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (first.type !== 'opened') {
      await worker.terminate();
      if (first.type === 'failed' && first.reason === 'engine') throw new RtpStreamThreadError(first.message);
      const reason = first.type === 'failed' ? first.reason : 'no-free-port';
      throw new RtpSessionError(reason as RtpSessionError['reason'], first.type === 'failed' ? first.message : 'media thread did not open');
    }
    return new RtpStreamThread(worker, options, mouth, ear, new Int32Array(posted), first.localPort, first.ssrc, first.nice, first.slice, engine);
  }

  private constructor(
    private readonly worker: Worker,
    private readonly options: RtpStreamThreadOptions,
    private readonly mouth: FrameRing,
    private readonly ear: FrameRing,
    private readonly posted: Int32Array,
    readonly localPort: number,
    readonly ssrc: number,
    /** The nice value the media thread runs at: the one asked for, or the process's when raising was refused. */
    readonly nice: number,
    /** The media thread's scheduler slice as the kernel granted it, or why it keeps the default. */
    readonly slice: WakeupSlice,
    readonly engine: MediaEngine,
  ) {
    worker.on('message', (m: ThreadReply) => this.onReply(m));
    worker.on('error', (err) => this.onExit(err));
    worker.on('exit', (code) => this.onExit(code === 0 || this.state === 'closing' ? null : new RtpStreamThreadError(`the media thread exited with code ${code}`)));
  }

  get frameSize(): number {
    return this.mouth.frameSamples;
  }

  /** Queues one mouth frame for the media thread's clock; false when the queue is full (the frame is dropped). */
  writeFrame(pcm: Int16Array): boolean {
    if (this.state !== 'open') return false;
    return this.mouth.write(pcm);
  }

  /** Mouth frames queued and not yet sent. */
  get queuedFrames(): number {
    return this.mouth.available;
  }

  /** The next earpiece frame, if the media thread has produced one since the last read. */
  readFrame(out: Int16Array): boolean {
    // After a stall of the reader the ring holds several frames, and playing them all would keep that much delay for
    // the rest of the call (the media thread writes one a tick, the reader takes one a tick): the oldest go.
    while (this.ear.available > EAR_BACKLOG_FRAMES) {
      this.ear.read(out);
      this.staleEarFrames++;
    }
    return this.ear.read(out);
  }

  /** Earpiece frames produced and not yet read. */
  get queuedEarFrames(): number {
    return this.ear.available;
  }

  onDtmf(listener: (digit: string) => void): void {
    this.dtmfListener = listener;
  }

  /**
   * Called once when the media thread has ended: with null after close(), or with what ended it (an error thrown in
   * the thread). After that the rings are not served: writeFrame and readFrame return false.
   */
  onEnded(listener: (cause: Error | null) => void): void {
    this.endedListener = listener;
  }

  setRemote(address: string, port: number, rtcpPort = port + 1): void {
    if (!isIP(address)) throw new RtpSessionError('remote-address', `remote address must be an IP literal, got ${address}`);
    this.post({ type: 'set-remote', address, port, rtcpPort });
  }

  sendDtmf(digit: string, durationMs = 100): void {
    if (this.options.telephoneEventPayloadType === undefined) throw new RtpSessionError('no-telephone-event', 'telephone-event was not negotiated: send DTMF in-band');
    if (dtmfEventCode(digit) < 0) throw new TelephoneEventError(digit);
    checkDtmfDuration(durationMs);
    this.post({ type: 'send-dtmf', digit, durationMs });
  }

  stats(): Promise<RtpStreamThreadStats> {
    if (this.state !== 'open') return Promise.reject(new RtpStreamThreadError('the media thread has ended'));
    const id = this.nextStatsId++;
    return new Promise((resolve, reject) => {
      this.pendingStats.set(id, { resolve, reject });
      this.post({ type: 'stats', id });
    });
  }

  /**
   * RTCP BYE from the media thread, then the thread ends. A thread that does not confirm within CLOSE_WAIT_MS (it
   * is stuck) is terminated anyway, so that close() always settles.
   */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.closed = resolve;
      timer = setTimeout(resolve, CLOSE_WAIT_MS);
      this.post({ type: 'close' });
    });
    clearTimeout(timer);
    await this.worker.terminate();
    this.onExit(null);
  }

  private post(m: ThreadRequest): void {
    if (this.state !== 'open' && m.type !== 'close') return;
    this.worker.postMessage(m);
    Atomics.add(this.posted, 0, 1); // after the post: a loop that sees the count move finds the message queued
  }

  private onReply(m: ThreadReply): void {
    switch (m.type) {
      case 'dtmf':
        this.dtmfListener?.(m.digit);
        return;
      case 'stats': {
        const pending = this.pendingStats.get(m.id);
        this.pendingStats.delete(m.id);
        pending?.resolve({ ...m.stats, underruns: m.underruns, skippedFrames: m.skippedFrames, earOverflows: this.ear.overflows, heapBytes: m.heapBytes });
        return;
      }
      case 'closed':
        this.onExit(null);
        return;
      default:
        return;
    }
  }

  private onExit(cause: Error | null): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const p of this.pendingStats.values()) p.reject(new RtpStreamThreadError('the media thread has ended'));
    this.pendingStats.clear();
    this.closed?.();
    this.closed = undefined;
    this.endedListener?.(cause);
  }
}
