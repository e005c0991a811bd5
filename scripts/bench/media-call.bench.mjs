// A whole call's media cost: two RtpSessions on loopback, full duplex 20 ms G.711 both ways (encode, send,
// receive, parse, jitter buffer, decode), paced by one FrameClock. Reports CPU seconds per call-minute (both ends
// counted, so one end's cost is about half), heap growth and GC counts (perf_hooks) beside the packet count.
// MEDIA_CALL_SECONDS shortens the run (default 30 s). The clock's own cost is included; MEDIA_CALL_PRECISE_MS=0
// runs it on timers only (one wake-up per tick, no Atomics.wait) to show what the precise sleep adds.
// The floor line runs the same packets with no media code at all (two bare node:dgram sockets sending 172-byte
// datagrams to each other on a 20 ms timer, for a third of the run): what Node's event loop and dgram cost on this
// machine, which no media code in this process can go below.
// The media-thread line runs the same call with each end an RtpStreamThread (session and clock in a worker), fed
// and drained every 20 ms by a FrameClock on the main thread as an audio device would, for a third of the run: what
// moving the clock off the main thread costs in CPU.
import dgram from 'node:dgram';
import { PerformanceObserver } from 'node:perf_hooks';
import { systemClock, seededRandom } from '../../dist/hal/clock.js';
import { FrameClock } from '../../dist/hal/frame-clock.js';
import { RtpSession } from '../../dist/src/media/rtp-session.js';
import { RtpStreamThread } from '../../dist/src/media/rtp-stream-thread.js';

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

{
  const n = Math.max(100, Math.round(frames / 3));
  const open2 = (port) => RtpStreamThread.open({ localAddress: '127.0.0.1', ports: { min: 40000, max: 49999 }, remoteAddress: '127.0.0.1', remotePort: port, codec: 'PCMU' });
  const ta = await open2(9);
  const tb = await open2(ta.localPort);
  ta.setRemote('127.0.0.1', tb.localPort);
  const tick = (i) => {
    ta.writeFrame(mouthA);
    tb.writeFrame(mouthB);
    ta.readFrame(earA);
    tb.readFrame(earB);
    return i;
  };
  const go = (count) => new Promise((resolve) => {
    const clock = new FrameClock(systemClock, 20, (i) => {
      tick(i);
      if (i + 1 >= count) (clock.stop(), resolve());
    });
    clock.start();
  });
  await go(50);
  const c0 = process.cpuUsage();
  await go(n);
  const c = process.cpuUsage(c0);
  const sa = await ta.stats();
  const sb = await tb.stats();
  console.log(`media call CPU, each end on its media thread: ${(((c.user + c.system) / 1e6 / (n / 50)) * 60).toFixed(3)} s per call-minute (${n / 50} s, ${sa.packetsReceived + sb.packetsReceived} received, lost ${sa.lost + sb.lost}, silence ticks ${sa.underruns + sb.underruns}) | goal 0.3 s`);
  await ta.close();
  await tb.close();
}

const bare = () => new Promise((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
const x = await bare();
const y = await bare();
const noop = () => {};
x.on('message', noop);
y.on('message', noop);
const datagram = Buffer.alloc(172);
const floorTicks = Math.max(50, Math.round(frames / 3));
const floorCpu0 = process.cpuUsage();
const floorStart = performance.now();
await new Promise((resolve) => {
  let n = 0;
  const tick = () => {
    x.send(datagram, y.address().port, '127.0.0.1');
    y.send(datagram, x.address().port, '127.0.0.1');
    if (++n >= floorTicks) return resolve();
    setTimeout(tick, Math.ceil(floorStart + (n + 1) * 20 - performance.now()));
  };
  setTimeout(tick, 20);
});
const floorCpu = process.cpuUsage(floorCpu0);
console.log(`media call CPU floor, bare node:dgram with the same packets and timer: ${(((floorCpu.user + floorCpu.system) / 1e6 / (floorTicks / 50)) * 60).toFixed(3)} s per call-minute | goal 0.3 s`);
x.close();
y.close();
