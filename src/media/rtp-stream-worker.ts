/**
 * Entry point of the media thread (started by rtp-stream-thread.ts, never imported). It owns the RTP and RTCP
 * sockets, the jitter buffer and the packet clock, in a V8 isolate of its own: the agent's garbage and its
 * collector's pauses (10-20 ms for a busy heap) happen on the main thread's heap and cannot delay a packet here.
 *
 * Two engines, one behaviour. 'native' (when hal/media-io.ts is built): the thread runs its own loop instead of
 * libuv's, sleeping in the kernel until the next timer (the packet clock, a DTMF step, an RTCP report), then
 * taking control messages and firing what is due (the tick reads the sockets): one wake-up per tick and no
 * allocation per packet. 'event-loop': Node's dgram sockets and timers, for a machine where the module did not build.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { systemClock, type Clock } from '../../hal/clock.js';
import { LoopClock } from '../../hal/loop-clock.js';
import { mediaIo, type MediaIo } from '../../hal/media-io.js';
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
  const pump = new RtpStreamPump(clock, ptime, session, mouth, ear);
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
          reply({ type: 'stats', id: m.id, stats: session.stats(), underruns: pump.underruns, skippedFrames: pump.skippedFrames });
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
  reply({ type: 'opened', localPort: session.localPort, ssrc: session.ssrc, frameSize: session.frameSize, nice: setOwnNice(start.nice) });
  pump.start();
  if (io && loopClock) {
    runOwnLoop(io, loopClock, port, ptime);
    // Out of the loop only for 'close': from here libuv's loop runs again, and the close finishes on it.
  }
  port.on('message', handle);

  /**
   * The native engine's loop, until a 'close' has been handled. The sockets are drained by the session itself, at
   * each tick's readFrame; a control message waits at most one poll interval (they are rare, and a wake-up of their
   * own would cost more).
   */
  function runOwnLoop(io: MediaIo, clock: LoopClock, port: MessagePort, pollMs: number): void {
    for (;;) {
      io.sleepUntilMs(Math.min(clock.nextDeadline(), io.monotonicMs() + pollMs));
      clock.runDue(); // first, so that a tick's packet leaves as close to its deadline as the wake-up allows
      for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
        const request = m.message as ThreadRequest;
        handle(request);
        if (request.type === 'close') return;
      }
    }
  }
}

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

if (parentPort) void main(parentPort, workerData as ThreadStart);
