/**
 * Entry point of the media thread (started by rtp-stream-thread.ts, never imported). It owns the RTP and RTCP
 * sockets, the jitter buffer and the packet clock, in a V8 isolate of its own: the agent's garbage and its
 * collector's pauses (10-20 ms for a busy heap) happen on the main thread's heap and cannot delay a packet here.
 */
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../hal/clock.js';
import { FrameRing } from './frame-ring.js';
import { RtpStreamPump } from './rtp-stream-pump.js';
import { RtpSession, type RtpSessionOptions } from './rtp-session.js';
import type { ThreadReply, ThreadRequest, ThreadStart } from './rtp-stream-thread.js';

async function main(port: NonNullable<typeof parentPort>, start: ThreadStart): Promise<void> {
  const reply = (m: ThreadReply): void => port.postMessage(m);
  const options: RtpSessionOptions = { ...start.options, clock: systemClock, random: Math.random };
  let session: RtpSession;
  try {
    session = await RtpSession.open(options);
  } catch (err) {
    const e = err as Error & { reason?: string };
    reply({ type: 'failed', name: e.name, reason: e.reason ?? 'open', message: e.message });
    return;
  }
  const ptime = options.ptimeMs ?? 20;
  const mouth = new FrameRing(start.mouth, session.frameSize);
  const ear = new FrameRing(start.ear, session.frameSize);
  const pump = new RtpStreamPump(systemClock, ptime, session, mouth, ear);
  session.onDtmf((digit) => reply({ type: 'dtmf', digit }));
  const handle = (m: ThreadRequest): void => {
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
  };
  port.on('message', (m: ThreadRequest) => {
    try {
      handle(m);
    } catch {
      // The caller's side checks addresses and digits before posting; nothing sent here may end the call.
    }
  });
  reply({ type: 'opened', localPort: session.localPort, ssrc: session.ssrc, frameSize: session.frameSize, nice: setOwnNice(start.nice) });
  pump.start();
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
