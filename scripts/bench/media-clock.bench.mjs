// The packet clock under load: FrameClock on the system clock paces a real RtpSession streaming G.711 to a
// loopback socket while garbage is allocated beside it. Reports |interval - 20 ms| p99 (measured at the receiving
// socket's arrival times, i.e. what the far end sees) and drift per minute (where the last packet arrived versus
// where a perfect clock would put it). MEDIA_CLOCK_SECONDS shortens the run (default 60 s).
// Peer: baresip's send clock, quoted (not measured in this run) from issue 3: p99 3.8 ms, drift 4-12 ms/min.
import dgram from 'node:dgram';
import { systemClock, seededRandom } from '../../dist/hal/clock.js';
import { FrameClock } from '../../dist/hal/frame-clock.js';
import { RtpSession } from '../../dist/src/media/rtp-session.js';

const SECONDS = Number(process.env.MEDIA_CLOCK_SECONDS ?? 60);
const spinMs = process.env.MEDIA_CLOCK_SPIN_MS === undefined ? undefined : Number(process.env.MEDIA_CLOCK_SPIN_MS);
const frames = Math.round((SECONDS * 1000) / 20);

const sink = dgram.createSocket('udp4');
await new Promise((r) => sink.bind(0, '127.0.0.1', r));
const arrivals = new Float64Array(frames + 10);
const frameOf = new Float64Array(frames + 10);
let count = 0;
sink.on('message', () => {
  if (count < arrivals.length) arrivals[count++] = systemClock.now();
});
const session = await RtpSession.open({ clock: systemClock, random: seededRandom(1), localAddress: '127.0.0.1', ports: { min: 30000, max: 39999 }, remoteAddress: '127.0.0.1', remotePort: sink.address().port, codec: 'PCMU' });
const pcm = new Int16Array(160);
for (let i = 0; i < 160; i++) pcm[i] = Math.round(8000 * Math.sin((i * 2 * Math.PI) / 20));

// Garbage beside the stream: short-lived objects and arrays every millisecond, as a busy agent would make.
let keep = [];
const garbage = setInterval(() => {
  for (let i = 0; i < 200; i++) keep.push({ i, s: 'x' + i, a: [i, i + 1] });
  if (keep.length > 50000) keep = [];
}, 1);

const cpu0 = process.cpuUsage();
const done = new Promise((resolve) => {
  let sent = 0;
  const clock = new FrameClock(systemClock, 20, (n) => {
    frameOf[sent++] = n; // loopback keeps order, so the k-th arrival is the k-th frame sent
    session.sendFrame(pcm);
    if (n + 1 >= frames) {
      clock.stop();
      resolve(clock);
    }
  }, spinMs === undefined ? {} : { spinMs });
  clock.start();
});
const fc = await done;
await new Promise((r) => setTimeout(r, 100));
const cpu = process.cpuUsage(cpu0);
clearInterval(garbage);

const dev = [];
for (let i = 1; i < count; i++) if (frameOf[i] === frameOf[i - 1] + 1) dev.push(Math.abs(arrivals[i] - arrivals[i - 1] - 20));
dev.sort((a, b) => a - b);
const p99 = dev[Math.floor(dev.length * 0.99)];
const p50 = dev[Math.floor(dev.length * 0.5)];
// Drift: the least-squares slope of arrival time against packet index, so one late last packet is not read as
// drift; a perfect clock has a slope of exactly 20 ms.
let sx = 0, sy = 0, sxx = 0, sxy = 0;
for (let k = 0; k < count; k++) {
  const i = frameOf[k];
  const y = arrivals[k] - arrivals[0];
  sx += i; sy += y; sxx += i * i; sxy += i * y;
}
const slope = (count * sxy - sx * sy) / (count * sxx - sx * sx);
const driftPerMin = ((slope - 20) / 20) * 60000;
const cpuS = (cpu.user + cpu.system) / 1e6;
console.log(`media clock |interval-20ms| p99: ${p99.toFixed(3)} ms (p50 ${p50.toFixed(3)}, ${count} packets, ${SECONDS} s, spin ${spinMs ?? 'default'}) | baresip 3.8 ms (quoted, not measured here)`);
console.log(`media clock drift: ${driftPerMin.toFixed(3)} ms/min (skipped frames ${fc.skippedFrames}) | baresip 4-12 ms/min (quoted, not measured here)`);
console.log(`media clock process CPU incl. garbage maker: ${((cpuS / SECONDS) * 60).toFixed(2)} s per minute | no peer figure`);
await session.close();
sink.close();
