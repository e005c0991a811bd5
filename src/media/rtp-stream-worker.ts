/**
 * Entry point of the media thread (started by rtp-stream-thread.ts, never imported). It owns the RTP and RTCP
 * sockets, the jitter buffer and the packet clock, in a V8 isolate of its own: the agent's garbage and its
 * collector's pauses (10-20 ms for a busy heap) happen on the main thread's heap and cannot delay a packet here.
 *
 * Two engines, one behaviour. 'native' (when hal/media-io.ts is built): the thread runs its own loop instead of
 * libuv's, sleeping in the kernel until the next timer (the packet clock, a DTMF step, an RTCP report), then
 * firing what is due and taking control messages (the tick reads the sockets): one wake-up per tick, and no
 * Buffer, rinfo or send request per packet. 'event-loop': Node's dgram sockets and timers, for a machine where the
 * module did not build (its FrameClock wakes by timer and futex, as it must there, even when the module is built).
 */
import { getPriority, setPriority } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock, type Clock } from '../../hal/clock.js';
import { LoopClock } from '../../hal/loop-clock.js';
import { mediaIo } from '../../hal/media-io.js';
import { setWakeupSlice, type WakeupSlice } from '../../hal/wakeup-slice.js';
import { FrameRing } from './frame-ring.js';
import { nativeBinder } from './rtp-port-pair.js';
import { RtpStreamPump } from './rtp-stream-pump.js';
import { RtpSession, type RtpSessionOptions } from './rtp-session.js';
import type { ThreadReply, ThreadRequest, ThreadStart } from './rtp-stream-thread.js';

async function main(port: MessagePort, start: ThreadStart): Promise<void> {
  const reply = (m: ThreadReply): void => port.postMessage(m);
  const io = start.engine === 'native' ? mediaIo : undefined;
  if (start.engine === 'native' && !io) {
    reply({ type: 'failed', name: 'RtpStreamThreadError', reason: 'engine', message: 'the native media engine did not load in the media thread' });
    return;
  }
  const loopClock = io ? new LoopClock(io.monotonicMs) : undefined;
  const clock: Clock = loopClock ?? systemClock;
  const bindNative = io && loopClock ? nativeBinder(io, loopClock) : undefined;
  const options: RtpSessionOptions = { ...start.options, clock, random: Math.random };
  let session: RtpSession;
  try {
    session = await RtpSession.open(options, bindNative);
  } catch (err) {
    const e = err as Error & { reason?: string };
    reply({ type: 'failed', name: e.name, reason: e.reason ?? 'open', message: e.message });
    return;
  }
  const ptime = options.ptimeMs ?? 20;
  const mouth = new FrameRing(start.mouth, session.frameSize);
  const ear = new FrameRing(start.ear, session.frameSize);
  // The event-loop engine stands for a machine without hal/native, so its clock wakes the way it would there.
  const pump = new RtpStreamPump(clock, ptime, session, mouth, ear, io ? {} : { wake: 'timer-and-futex' });
  session.onDtmf((digit) => reply({ type: 'dtmf', digit }));
  const handle = (m: ThreadRequest): void => {
    try {
      switch (m.type) {
        case 'set-remote':
          session.setRemote(m.address, m.port, m.rtcpPort);
          return;
        case 'send-dtmf':
          session.sendDtmf(m.digit, m.durationMs);
          return;
        case 'stats':
          reply({ type: 'stats', id: m.id, stats: session.stats(), underruns: pump.underruns, skippedFrames: pump.skippedFrames, heapBytes: getHeapStatistics().used_heap_size });
          return;
        case 'close':
          pump.stop();
          void session.close().then(() => {
            reply({ type: 'closed' });
            port.close();
          });
          return;
      }
    } catch {
      // The caller's side checks addresses and digits before posting; nothing sent here may end the call.
    }
  };
  reply({ type: 'opened', localPort: session.localPort, ssrc: session.ssrc, frameSize: session.frameSize, nice: setOwnNice(start.nice), slice: setOwnSlice(start.sliceUs) });
  port.on('message', handle);
  pump.start();
  if (!io || !loopClock) return;

  /**
   * The native engine's loop, until a 'close' has stopped every timer. The sockets are drained by the session itself,
   * at each tick's readFrame; control messages are taken after the tick (they are rare, and a wake-up of their own
   * would cost more), so one waits at most a poll interval.
   *
   * Once a second, just after a tick, the loop returns to libuv for one turn: V8 posts work for this isolate there
   * (the end of a concurrent garbage collection, compiled code to install) and Node its own housekeeping, and a
   * thread that never turns its event loop would leave all of it waiting. A turn costs less than a millisecond, and
   * the next deadline is at least YIELD_HEADROOM_MS away when it is taken.
   */
  const posted = new Int32Array(start.posted);
  let taken = 0;
  const ownLoop = (): void => {
    const yieldAt = io.monotonicMs() + YIELD_EVERY_MS;
    for (;;) {
      const due = loopClock.nextDeadline();
      if (due === Infinity) return; // 'close' stopped every timer: the close finishes on libuv
      const now = io.monotonicMs();
      const next = Math.min(due, now + ptime);
      if (now >= yieldAt && next - now >= YIELD_HEADROOM_MS) {
        setImmediate(ownLoop);
        return;
      }
      io.sleepUntilMs(next);
      loopClock.runDue(); // first, so that a tick's packet leaves as close to its deadline as the wake-up allows
      // Asking the port costs more than the rest of a quiet tick's bookkeeping; the shared count says when to.
      const count = Atomics.load(posted, 0);
      if (count === taken) continue;
      taken = count;
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message as ThreadRequest);
    }
  };
  ownLoop();
}

/** How often the native loop hands the thread back to libuv, and how far its next deadline must be to do so. */
const YIELD_EVERY_MS = 1000;
const YIELD_HEADROOM_MS = 5;

/**
 * On Linux the nice value is per thread, and os.setPriority with no pid is setpriority(PRIO_PROCESS, 0): this
 * thread only. Returns the value the thread now has.
 */
function setOwnNice(nice: number): number {
  try {
    setPriority(nice);
  } catch {
    // EACCES: raising needs CAP_SYS_NICE. The stream runs anyway, at the priority the process has.
  }
  return getPriority();
}

/** The thread's scheduler slice (hal/wakeup-slice.ts); 0 leaves the kernel's default untouched. */
function setOwnSlice(us: number): WakeupSlice {
  return us === 0 ? { granted: false, reason: 'not asked (sliceUs 0)' } : setWakeupSlice(us);
}

if (parentPort) void main(parentPort, workerData as ThreadStart);
