/**
 * The pipes between the agent and the arecord/aplay children that carry a sound card's audio.
 *
 * Through Node's streams, every chunk arecord writes arrives as a new Buffer (the stream reads into fresh memory),
 * every frame to aplay is a write request and a view, and a 'data' event runs through the stream machinery: on a
 * real card that is per-packet allocation and work on the media path, 50 times a second each way, which the design
 * rules out. And a stream's own backlog says nothing of the pipe's 64 KiB (two seconds at 8 kHz) that aplay may
 * fall behind by before the stream notices.
 *
 * With hal/native (hal/native/pcm-pipe.c), the agent makes each pipe itself and gives the child its end as a plain
 * descriptor in spawn's stdio. It reads its capture end, watched by the event loop, into one reused buffer, writes
 * frames to its playback end whole or not at all, and asks the pipe itself how much aplay has not yet taken.
 * Without the module (or if a pipe cannot be made) the streams remain: the same behaviour at a higher cost.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { EAGAIN, type MediaIo, type NativePipeWatch } from '../media-io.js';

export type CardPipeKind = 'native' | 'streams';

/** arecord's stdout, as the agent reads it. */
export interface CapturePipe {
  readonly kind: CardPipeKind;
  /** What spawn's stdio takes for the child's stdout. */
  readonly childEnd: 'pipe' | number;
  /**
   * Call once, right after spawn (whether or not the child started): delivers what the child writes. `bytes` is
   * reused: only its first `length` bytes are new, and only until the callback returns.
   */
  attach(child: ChildProcess, onBytes: (bytes: Uint8Array, length: number) => void): void;
  /** Stops delivering; the child is the caller's to stop. */
  close(): void;
}

/** aplay's stdin, as the agent writes it. */
export interface PlaybackPipe {
  readonly kind: CardPipeKind;
  readonly childEnd: 'pipe' | number;
  /** Call once, right after spawn. */
  attach(child: ChildProcess): void;
  /** Bytes given to the pipe that the child has not taken yet. */
  queuedBytes(): number;
  /** Writes bytes[0, length); false when the pipe did not take them all (full, or the child is gone). */
  write(bytes: Uint8Array, length: number): boolean;
  /** Ends the child's input: it plays what it was given, then exits. */
  end(): void;
}

/** Makes a pair of pipes for each start of the children. */
export interface CardPipes {
  readonly kind: CardPipeKind;
  capture(): CapturePipe;
  playback(): PlaybackPipe;
}

export const streamCardPipes: CardPipes = {
  kind: 'streams',
  capture: () => new StreamCapturePipe(),
  playback: () => new StreamPlaybackPipe(),
};

/** Pipes on hal/native; a pipe that cannot be made (out of descriptors) falls back to a stream for that start. */
export function nativeCardPipes(io: MediaIo): CardPipes {
  return {
    kind: 'native',
    capture: () => {
      const fds = new Int32Array(2);
      return io.pipeOpen(true, fds) === 0 ? new NativeCapturePipe(io, fds[0], fds[1]) : new StreamCapturePipe();
    },
    playback: () => {
      const fds = new Int32Array(2);
      return io.pipeOpen(false, fds) === 0 ? new NativePlaybackPipe(io, fds[0], fds[1]) : new StreamPlaybackPipe();
    },
  };
}

/** Large enough for a period of any card rate the config allows (192 kHz: 7680 bytes per 20 ms). */
const READ_BYTES = 16384;

type NativePipeState = 'made' | 'open' | 'closed';

class NativeCapturePipe implements CapturePipe {
  readonly kind = 'native';
  state: NativePipeState = 'made';
  private watch: NativePipeWatch | undefined;
  private readonly bytes = new Uint8Array(READ_BYTES);
  private onBytes: (bytes: Uint8Array, length: number) => void = () => {};

  constructor(
    private readonly io: MediaIo,
    private readonly fd: number,
    readonly childEnd: number,
  ) {}

  attach(_child: ChildProcess, onBytes: (bytes: Uint8Array, length: number) => void): void {
    if (this.state !== 'made') return;
    this.state = 'open';
    this.onBytes = onBytes;
    this.io.pipeClose(this.childEnd); // the child has its copy; ours would keep the pipe from ever ending
    this.watch = this.io.pipeWatch(this.fd, () => this.drain());
  }

  close(): void {
    if (this.state === 'closed') return;
    if (this.state === 'made') {
      this.io.pipeClose(this.childEnd);
      this.io.pipeClose(this.fd);
    } else if (this.watch) this.io.pipeWatchClose(this.watch);
    this.state = 'closed';
  }

  /** Everything the pipe holds, in as many reads as it takes; at its end or on an error, the pipe is closed. */
  private drain(): void {
    while (this.state === 'open') {
      const n = this.io.pipeRead(this.fd, this.bytes, 0, this.bytes.length);
      if (n > 0) this.onBytes(this.bytes, n);
      else if (n === -EAGAIN) return;
      else this.close(); // 0: arecord closed its stdout (it exited; its exit handler tells why)
    }
  }
}

class NativePlaybackPipe implements PlaybackPipe {
  readonly kind = 'native';
  state: NativePipeState = 'made';

  constructor(
    private readonly io: MediaIo,
    private readonly fd: number,
    readonly childEnd: number,
  ) {}

  attach(): void {
    if (this.state !== 'made') return;
    this.state = 'open';
    this.io.pipeClose(this.childEnd);
  }

  queuedBytes(): number {
    if (this.state === 'closed') return 0;
    const n = this.io.pipeQueued(this.fd);
    return n < 0 ? 0 : n;
  }

  /**
   * A pipe takes a write of up to PIPE_BUF (4 KiB: a 20 ms frame up to 96 kHz) whole or not at all. A larger frame
   * (a 192 kHz card) may be taken in part, always in whole pages, so the samples after it stay aligned.
   */
  write(bytes: Uint8Array, length: number): boolean {
    if (this.state !== 'open') return false;
    return this.io.pipeWrite(this.fd, bytes, 0, length) === length;
  }

  end(): void {
    if (this.state === 'closed') return;
    if (this.state === 'made') this.io.pipeClose(this.childEnd);
    this.state = 'closed';
    this.io.pipeClose(this.fd);
  }
}

class StreamCapturePipe implements CapturePipe {
  readonly kind = 'streams';
  readonly childEnd = 'pipe';
  private stdout: Readable | null = null;

  attach(child: ChildProcess, onBytes: (bytes: Uint8Array, length: number) => void): void {
    this.stdout = child.stdout;
    this.stdout?.on('data', (chunk: Buffer) => onBytes(chunk, chunk.length));
  }

  close(): void {
    this.stdout?.destroy();
    this.stdout = null;
  }
}

/** A stream keeps a written buffer until it is flushed, so frames are copied into a rotating pool first. */
const STREAM_POOL = 32;

class StreamPlaybackPipe implements PlaybackPipe {
  readonly kind = 'streams';
  readonly childEnd = 'pipe';
  private stdin: Writable | null = null;
  private pool: Buffer[] = [];
  private next = 0;

  attach(child: ChildProcess): void {
    this.stdin = child.stdin;
    this.stdin?.on('error', () => {
      // EPIPE when aplay died: its exit handler reports it.
    });
  }

  /** What the stream holds beyond what the pipe took: the pipe's own 64 KiB is not seen from here. */
  queuedBytes(): number {
    return this.stdin?.writableLength ?? 0;
  }

  write(bytes: Uint8Array, length: number): boolean {
    const stdin = this.stdin;
    if (!stdin || !stdin.writable) return false;
    if (this.pool.length === 0) this.pool = Array.from({ length: STREAM_POOL }, () => Buffer.alloc(bytes.length));
    const buf = this.pool[this.next];
    this.next = (this.next + 1) % STREAM_POOL;
    buf.set(bytes.subarray(0, length));
    stdin.write(buf.subarray(0, length));
    return true;
  }

  end(): void {
    this.stdin?.end();
    this.stdin = null;
  }
}
