// The packet clock under load: an RTP stream of G.711 to a loopback sink while garbage is allocated beside it on the
// main thread, as a busy agent does. Reports |interval - 20 ms| p99 (measured at the receiving socket's arrival
// times, i.e. what the far end sees) and drift per minute (the least-squares slope of arrival time against frame
// index versus a perfect 20 ms).
// Two placements of the same clock (FrameClock on systemClock: a whole-millisecond timer, then Atomics.wait):
//  - media thread: RtpStreamThread, the session and its clock in a worker; the main thread only queues frames.
//    This is the design's figure.
//  - main thread: FrameClock and RtpSession on the thread that makes the garbage, for comparison (a third as long).
// The sink runs in a worker thread: the far end is another machine and does not share our garbage collector, so
// its arrival times must not be delayed by our pauses. MEDIA_CLOCK_SECONDS shortens the run (default 60 s).
// Peer: baresip's send clock, quoted (not measured in this run) from issue 3: p99 3.8 ms, drift 4-12 ms/min.
import { Worker } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
import { systemClock, seededRandom } from '../../dist/hal/clock.js';
import { FrameClock } from '../../dist/hal/frame-clock.js';
import { RtpSession } from '../../dist/src/media/rtp-session.js';
import { RtpStreamThread } from '../../dist/src/media/rtp-stream-thread.js';

const SECONDS = Number(process.env.MEDIA_CLOCK_SECONDS ?? 60);
const frames = Math.round((SECONDS * 1000) / 20);

// The sink stamps arrivals with performance.timeOrigin + now(), one time line for every thread of the process.
const sink = new Worker(`
const { parentPort, workerData } = require('node:worker_threads');
const sock = require('node:dgram').createSocket('udp4');
const arrivals = new Float64Array(workerData.capacity);
let count = 0;
sock.on('message', () => { if (count < arrivals.length) arrivals[count++] = performance.timeOrigin + performance.now(); });
sock.bind(0, '127.0.0.1', () => parentPort.postMessage(sock.address().port));
parentPort.on('message', () => { parentPort.postMessage(arrivals.slice(0, count)); count = 0; });
`, { eval: true, workerData: { capacity: frames + 10 } });
const sinkPort = await new Promise((r) => sink.once('message', r));
const pcm = new Int16Array(160);
for (let i = 0; i < 160; i++) pcm[i] = Math.round(8000 * Math.sin((i * 2 * Math.PI) / 20));

// Garbage beside the stream: short-lived objects and arrays every millisecond, as a busy agent would make.
let keep = [];
const garbage = setInterval(() => {
  for (let i = 0; i < 200; i++) keep.push({ i, s: 'x' + i, a: [i, i + 1] });
  if (keep.length > 50000) keep = [];
}, 1);
const pauses = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) pauses.push(e.duration);
});
gcObserver.observe({ entryTypes: ['gc'] });

async function report(label, n, cpu, skipped, extra) {
  await new Promise((r) => setTimeout(r, 100));
  sink.postMessage('report');
  const arrivals = await new Promise((r) => sink.once('message', r));
  const count = arrivals.length;
  // With no frames skipped and loopback keeping order, the k-th arrival is frame k.
  const dev = [];
  for (let i = 1; i < count; i++) dev.push(Math.abs(arrivals[i] - arrivals[i - 1] - 20));
  dev.sort((a, b) => a - b);
  const p99 = dev[Math.floor(dev.length * 0.99)];
  const p50 = dev[Math.floor(dev.length * 0.5)];
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let k = 0; k < count; k++) {
    const y = arrivals[k] - arrivals[0];
    sx += k; sy += y; sxx += k * k; sxy += k * y;
  }
  const slope = (count * sxy - sx * sy) / (count * sxx - sx * sx);
  const driftPerMin = ((slope - 20) / 20) * 60000;
  const seconds = n / 50;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(`media clock (${label}) |interval-20ms| p99: ${p99.toFixed(3)} ms (p50 ${p50.toFixed(3)}, max ${dev.at(-1).toFixed(3)}, ${count} of ${n} packets, ${seconds} s) | baresip 3.8 ms (quoted, not measured here)`);
  console.log(`media clock (${label}) drift: ${driftPerMin.toFixed(3)} ms/min (skipped frames ${skipped}${extra}) | baresip 4-12 ms/min (quoted, not measured here)`);
  console.log(`media clock (${label}) process CPU incl. garbage maker: ${((cpuS / seconds) * 60).toFixed(2)} s per minute | no peer figure`);
}

// The media thread: the main thread keeps three or four frames queued, from a timer that GC pauses may delay.
{
  const stream = await RtpStreamThread.open({ localAddress: '127.0.0.1', ports: { min: 30000, max: 39999 }, remoteAddress: '127.0.0.1', remotePort: sinkPort, codec: 'PCMU' });
  const pauses0 = pauses.length;
  const cpu0 = process.cpuUsage();
  let queued = 0;
  const feed = () => {
    while (queued < frames && stream.queuedFrames < 4 && stream.writeFrame(pcm)) queued++;
  };
  feed();
  const feeder = setInterval(feed, 10);
  // Ends when the media thread has sent every queued frame; what it sends after that is silence, not measured.
  await new Promise((resolve) => {
    const check = setInterval(() => {
      if (queued >= frames && stream.queuedFrames === 0) (clearInterval(check), resolve());
    }, 5);
  });
  clearInterval(feeder);
  const stats = await stream.stats();
  await stream.close();
  const cpu = process.cpuUsage(cpu0);
  const sent = stats.packetsSent;
  await report('media thread', frames, cpu, stats.skippedFrames, `, silence for ${stats.underruns} empty ticks, ${sent - frames} after the end`);
  const own = pauses.slice(pauses0).sort((a, b) => a - b);
  console.log(`media clock garbage beside it: ${own.length} GC pauses on the main thread, longest ${(own.at(-1) ?? 0).toFixed(1)} ms, p90 ${(own[Math.floor(own.length * 0.9)] ?? 0).toFixed(1)} ms | no peer figure`);
}

// The same clock on the main thread, beside the garbage.
{
  const n = Math.max(100, Math.round(frames / 3));
  const session = await RtpSession.open({ clock: systemClock, random: seededRandom(1), localAddress: '127.0.0.1', ports: { min: 30000, max: 39999 }, remoteAddress: '127.0.0.1', remotePort: sinkPort, codec: 'PCMU' });
  const cpu0 = process.cpuUsage();
  const fc = await new Promise((resolve) => {
    const clock = new FrameClock(systemClock, 20, (i) => {
      session.sendFrame(pcm);
      if (i + 1 >= n) (clock.stop(), resolve(clock));
    });
    clock.start();
  });
  const cpu = process.cpuUsage(cpu0);
  await report('main thread', n, cpu, fc.skippedFrames, '');
  await session.close();
}
clearInterval(garbage);
gcObserver.disconnect();
await sink.terminate();
