// A whole call's media cost: two RtpSessions on loopback, full duplex 20 ms G.711 both ways (encode, send,
// receive, parse, jitter buffer, decode), paced by one FrameClock. Reports CPU seconds per call-minute (both ends
// counted, so one end's cost is about half), heap growth and GC counts (perf_hooks) beside the packet count.
// MEDIA_CALL_SECONDS shortens the run (default 30 s). The clock's own cost is included; MEDIA_CALL_PRECISE_MS=0
// runs it on timers only (one wake-up per tick, no Atomics.wait) to show what the precise sleep adds.
import { PerformanceObserver } from 'node:perf_hooks';
import { systemClock, seededRandom } from '../../dist/hal/clock.js';
import { FrameClock } from '../../dist/hal/frame-clock.js';
import { RtpSession } from '../../dist/src/media/rtp-session.js';

const SECONDS = Number(process.env.MEDIA_CALL_SECONDS ?? 30);
const preciseMs = process.env.MEDIA_CALL_PRECISE_MS === undefined ? undefined : Number(process.env.MEDIA_CALL_PRECISE_MS);
const frames = Math.round((SECONDS * 1000) / 20);
const open = (port) => RtpSession.open({ clock: systemClock, random: seededRandom(port), localAddress: '127.0.0.1', ports: { min: 40000, max: 49999 }, remoteAddress: '127.0.0.1', remotePort: port, codec: 'PCMU' });
const a = await open(9);
const b = await open(a.localPort);
a.setRemote('127.0.0.1', b.localPort);
const mouthA = new Int16Array(160);
const mouthB = new Int16Array(160);
for (let i = 0; i < 160; i++) (mouthA[i] = Math.round(6000 * Math.sin(i / 3)), (mouthB[i] = Math.round(6000 * Math.cos(i / 5))));
const earA = new Int16Array(160);
const earB = new Int16Array(160);

let gcs = 0;
let gcMs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) (gcs++, (gcMs += e.duration));
});
obs.observe({ entryTypes: ['gc'] });

// Warm up 2 s so that JIT compilation is not counted, then measure.
async function run(n) {
  await new Promise((resolve) => {
    const clock = new FrameClock(systemClock, 20, (i) => {
      a.sendFrame(mouthA);
      b.sendFrame(mouthB);
      a.readFrame(earA);
      b.readFrame(earB);
      if (i + 1 >= n) (clock.stop(), resolve());
    }, preciseMs === undefined ? {} : { preciseMs });
    clock.start();
  });
}
await run(100);
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const gcs0 = gcs;
const gcMs0 = gcMs;
const sent0 = a.stats().packetsSent + b.stats().packetsSent;
const recv0 = a.stats().packetsReceived + b.stats().packetsReceived;
const cpu0 = process.cpuUsage();
await run(frames);
const cpu = process.cpuUsage(cpu0);
const heap1 = process.memoryUsage().heapUsed;
await new Promise((r) => setTimeout(r, 50));
const packets = a.stats().packetsSent + b.stats().packetsSent - sent0;
const received = a.stats().packetsReceived + b.stats().packetsReceived - recv0;
const perMin = ((cpu.user + cpu.system) / 1e6 / SECONDS) * 60;
console.log(`media call CPU: ${perMin.toFixed(3)} s per call-minute (both ends, preciseMs ${preciseMs ?? 'default'}, ${SECONDS} s) | goal 0.3 s`);
console.log(`media call heap growth: ${((heap1 - heap0) / 1024).toFixed(1)} KiB, GCs ${gcs - gcs0} (${(gcMs - gcMs0).toFixed(1)} ms) for ${packets} packets sent, ${received} received | no peer figure`);
console.log(`media call loss: ${a.stats().lost + b.stats().lost} packets, playout delay ${a.stats().playoutDelayMs.toFixed(1)} / ${b.stats().playoutDelayMs.toFixed(1)} ms | no peer figure`);
obs.disconnect();
await a.close();
await b.close();
