/**
 * The media path's system calls, from the small C module in hal/native (built by `npm run build`; see
 * scripts/build-native.mjs). It exists for the cost of a call, not for features:
 *
 * On a 20 ms packet clock a Node thread pays, every tick, libuv's loop turn and timer list, a send request per
 * datagram, a Buffer and an rinfo object per datagram received, or on the synchronous path (fs.readSync) a thrown
 * exception for every EAGAIN that ends a read. Measured on the development VM (scripts/bench/media-call.bench.mjs),
 * those floors came to 0.6-1.1 s of CPU per call-minute against the goal of 0.3 s; a thread that sleeps,
 * sends and drains its socket 50 times a second with these calls costs about 0.3 s, what merely waking costs.
 *
 * Each function is one system call returning a number: a negative errno on failure, never an exception, and it
 * allocates nothing; buffers are the caller's and are filled in place. Everything else (RTP, the jitter buffer,
 * G.711) stays in TypeScript. Three users: the agent's call media on the main thread (NativeUdpSockets read once per
 * frame), the media thread's native engine (src/media/rtp-stream-worker.ts), FrameClock's precise timer on an
 * event loop (hal/precise-timer.ts), which wakes a thread once per tick instead of twice, the sound card's pipes
 * to arecord and aplay (hal/drivers/card-pipe.ts), read and written without a stream's Buffer per chunk, and the
 * scheduler slice of the threads that run a packet clock (hal/wakeup-slice.ts), so they wake on time on busy cores.
 *
 * When the module did not build (no C compiler on the machine), `mediaIo` is undefined, `mediaIoMissing` says why,
 * and both use Node's own sockets and timers instead: the same behaviour at a higher CPU cost.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MediaIo {
  /** CLOCK_MONOTONIC in ms: the clock of sleepUntilMs and of arrival times. */
  monotonicMs(): number;
  /** Sleeps until monotonicMs() reaches the deadline; at once for a deadline past. */
  sleepUntilMs(deadline: number): void;
  /** Writes the sockaddr of an IP literal and port into `out` (SOCKADDR_BYTES); its length, or -EINVAL. */
  socketAddress(address: string, port: number, out: Uint8Array): number;
  /** A non-blocking UDP socket bound to an IP literal and port (0: any); its fd, or -errno. */
  udpOpen(address: string, port: number): number;
  udpLocalPort(fd: number): number;
  /** Sends bytes[offset, offset + length) to the sockaddr `to`; bytes sent, or -errno. */
  udpSend(fd: number, bytes: Uint8Array, offset: number, length: number, to: Uint8Array, toLength: number): number;
  /**
   * The next queued datagram into `bytes`, its source's sockaddr into `from`, and [source length, arrival time in
   * monotonicMs] into `meta`; the datagram's length, or -errno (-EAGAIN when nothing is queued, -EMSGSIZE for one
   * longer than `bytes`, which is dropped).
   */
  udpReceive(fd: number, bytes: Uint8Array, from: Uint8Array, meta: Float64Array): number;
  /** [address, port] of a sockaddr; allocates, so only for a source not seen before. */
  describeAddress(from: Uint8Array, length: number): [string, number];
  udpClose(fd: number): number;
  readonly SOCKADDR_BYTES: number;
  /**
   * A timer on the calling thread's event loop (hal/native/precise-timer.c: a timerfd that libuv watches), disarmed
   * at first, not keeping the loop alive. `fire` is given the expiries since its last call: 1 for a one-shot timer,
   * and for a periodic one more than 1 when the thread was late. hal/precise-timer.ts wraps it.
   */
  timerOpen(fire: (expirations: number) => void): NativeTimerHandle;
  /**
   * Arms it to fire when monotonicMs() reaches `deadline` (at once for a deadline past), and with `periodMs` every
   * period after that (the kernel's interval timer: drift-free), replacing any earlier arming and forgetting an
   * expiry not yet delivered; 0 or -errno.
   */
  timerArm(timer: NativeTimerHandle, deadline: number, periodMs?: number): number;
  /** Frees it; a closed timer is an Error to arm. Closing twice, or from its own callback, is fine. */
  timerClose(timer: NativeTimerHandle): void;
  /**
   * A pipe for a child's stdin or stdout (hal/native/pcm-pipe.c): into `fds`, [0] this process's end (non-blocking;
   * the read end when `parentReads`), [1] the child's end (blocking), both close-on-exec. 0 or -errno.
   */
  pipeOpen(parentReads: boolean, fds: Int32Array): number;
  /**
   * Calls `readable` on this thread's loop while `fd` has bytes or has ended (until pipeRead drains it or sees the
   * end). The watch owns fd: pipeWatchClose closes it. It does not keep the loop alive.
   */
  pipeWatch(fd: number, readable: () => void): NativePipeWatch;
  /** Stops the watch and closes its fd; a closed watch is an Error to use. Closing twice, or from its callback, is fine. */
  pipeWatchClose(watch: NativePipeWatch): void;
  /** Reads into bytes[offset, offset + length); the count, 0 at the end of the pipe, or -errno (-EAGAIN: none yet). */
  pipeRead(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  /** Writes bytes[offset, offset + length); the count, or -errno (-EAGAIN: full; -EPIPE: the reader is gone). */
  pipeWrite(fd: number, bytes: Uint8Array, offset: number, length: number): number;
  /** Bytes in the pipe not yet read by its other end (FIONREAD), or -errno. */
  pipeQueued(fd: number): number;
  /** Closes an fd nobody watches; 0 or -errno. */
  pipeClose(fd: number): number;
  /**
   * Asks for a scheduler slice of `us` microseconds (100 to 100000; 0: the kernel's default) for thread `tid` (0,
   * the default: the calling thread; a child's pid: its main thread), keeping its policy and nice value
   * (hal/native/wakeup-slice.c). The slice the kernel then reports, in microseconds (0 on a kernel before 6.12,
   * which keeps none per thread), or -errno (-EINVAL out of range, -EPERM for a thread on a real-time policy or not
   * ours, -ESRCH for one gone). hal/wakeup-slice.ts wraps it.
   */
  threadSlice(us: number, tid?: number): number;
}

/** An opaque handle (an N-API external) from timerOpen. */
export type NativeTimerHandle = { readonly __nativeTimer: unique symbol };
/** An opaque handle (an N-API external) from pipeWatch. */
export type NativePipeWatch = { readonly __nativePipeWatch: unique symbol };

/** errno values the callers test for (Linux). */
export const EAGAIN = 11;
export const EADDRINUSE = 98;
export const EMSGSIZE = 90;
export const EPIPE = 32;
export const EPERM = 1;
export const EINVAL = 22;
export const ESRCH = 3;

// Covers the rounding of ms doubles of a large monotonic time (about 1e-7 ms).
const ROUNDING_MARGIN_MS = 1e-4;

/**
 * monotonicMs() minus `clock.now()`, for moving times between the module's clock and a Clock's (arrival times onto
 * the stream's clock, deadlines onto the kernel's). Both read CLOCK_MONOTONIC, so they differ by a constant; reading
 * the Clock first bounds it from above, so a deadline moved onto the monotonic clock with this is never early.
 */
export function monotonicOffset(io: Pick<MediaIo, 'monotonicMs'>, clock: { now(): number }): number {
  const before = clock.now();
  return io.monotonicMs() - before + ROUNDING_MARGIN_MS;
}

/** Where `npm run build` puts the module, from this file in hal/ or in dist/hal/. */
function modulePath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const inRepo = join(here, 'native', 'build', 'Release', 'media_io.node');
  return existsSync(inRepo) ? inRepo : join(here, '..', '..', 'hal', 'native', 'build', 'Release', 'media_io.node');
}

function load(): { io?: MediaIo; missing?: string } {
  if (process.env.PI_ATA_NATIVE === 'off') return { missing: 'turned off by PI_ATA_NATIVE=off' };
  const path = modulePath();
  if (!existsSync(path)) return { missing: `not built (${path} is missing: npm run build needs a C compiler)` };
  try {
    return { io: createRequire(import.meta.url)(path) as MediaIo };
  } catch (err) {
    return { missing: `${path} did not load: ${(err as Error).message}` };
  }
}

const loaded = load();
export const mediaIo: MediaIo | undefined = loaded.io;
/** Why mediaIo is undefined; undefined when it loaded. */
export const mediaIoMissing: string | undefined = loaded.missing;
