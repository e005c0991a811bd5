// One end of a full-duplex 20 ms G.711 call, alone in its own process, so that media-call.bench.mjs can read what it
// costs from /proc exactly as it reads baresip's. argv: mode, remote port. It prints its RTP port on the first line,
// takes `remote <port>` on stdin (the far end's port, once known), and on `report` prints one JSON line of its own
// heap and GC figures and exits.
//   main:        RtpSession on node:dgram + FrameClock on the main thread waking by a timer then Atomics.wait: the
//                agent's placement as it runs where hal/native did not build
//   main-timers: the same with preciseMs 0 (timers only: one wake-up per tick, up to 1 ms late)
//   main-native: the agent's placement as the agent runs it when hal/native is built: RtpSession on NativeUdpSockets
//                read once per frame (no wake-up per packet received), FrameClock on the main thread waking by a
//                timerfd on the event loop (one wake-up per tick)
//   main-native-futex: main-native with the FrameClock waking as in `main` (what the timerfd saves)
//   thread:      RtpStreamThread on its native engine (session, clock and hal/media-io sockets in a worker), fed and
//                drained by a main-thread timer every 20 ms (timers only: the media thread's clock paces the wire, and
//                its ring absorbs the timer's lateness)
//   thread-event-loop: the same on its event-loop engine (dgram sockets and Node's timers in the worker)
//   floor-dgram: no media code: a bare node:dgram socket sending 172-byte datagrams on the same 20 ms timer and
//                receiving the far end's
//   floor-sync:  no media code and no event loop: a thread paced by Atomics.wait that sends each datagram with
//                fs.writeSync on a connected socket and reads what came with fs.readSync until EAGAIN, the least
//                any Node design that sends and receives 50 packets a second can cost here
//   floor-native: no media code, no event loop: a thread on hal/media-io.ts sleeping to each deadline, sending one
//                datagram and draining its socket (lib/native-floor-worker.mjs), the native engine's own floor
//   floor-sleep: no media code and no socket: a thread that wakes 50 times a second and does nothing (Atomics.wait),
//                the least any Node process with a 20 ms packet clock can cost on this machine
//   card-native: the agent's placement on a board with a sound card, hal/native built: RtpSession on NativeUdpSockets,
//                paced by the card's capture, with no clock of its own: each frame from arecord (AlsaCliAudioPort on
//                hal/native pipes) is sent, and a frame read from the jitter buffer is played through aplay. The
//                card is ALSA's file plugin reading a FIFO that the bench fills at real time (card-fifo.mjs).
//   card-streams: the same without hal/native: node:dgram sockets and the children's pipes as Node streams
//   card-loop-native, card-loop-streams: the card's path alone, no RTP: each captured frame is played straight back
//   clock-only:  a FrameClock on the main thread, waking as in main-native, whose ticks do nothing: the allocation
//                floor of this harness (its clock, stdin and GC observer) for the per-packet allocation figure
import dgram from 'node:dgram';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { createInterface } from 'node:readline';
import { systemClock, seededRandom } from '../../../dist/hal/clock.js';
import { FrameClock } from '../../../dist/hal/frame-clock.js';
import { RtpSession } from '../../../dist/src/media/rtp-session.js';
import { RtpStreamThread } from '../../../dist/src/media/rtp-stream-thread.js';
import { nativeBinder } from '../../../dist/src/media/rtp-port-pair.js';
import { mediaIo } from '../../../dist/hal/media-io.js';

const [mode, remoteArg] = process.argv.slice(2);
const remotePort = Number(remoteArg ?? 9);
const mouth = new Int16Array(160);
for (let i = 0; i < 160; i++) mouth[i] = Math.round(6000 * Math.sin(i / 3));
const ear = new Int16Array(160);
let gcs = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) (gcs++, (gcMs += e.duration));
}).observe({ entryTypes: ['gc'] });

let port = 0;
let setRemote = () => {};
let counts = () => ({});
let clock;
if (mode === 'main' || mode === 'main-timers' || mode === 'main-native' || mode === 'main-native-futex') {
  const bind = mode.startsWith('main-native') ? nativeBinder(mediaIo, systemClock) : undefined;
  const clockOptions = { main: { wake: 'timer-and-futex' }, 'main-timers': { preciseMs: 0 }, 'main-native': { wake: 'timerfd' }, 'main-native-futex': { wake: 'timer-and-futex' } }[mode];
  const s = await RtpSession.open({ clock: systemClock, random: seededRandom(remotePort), localAddress: '127.0.0.1', ports: { min: 40000, max: 49999 }, remoteAddress: '127.0.0.1', remotePort, codec: 'PCMU' }, bind);
  port = s.localPort;
  setRemote = (p) => s.setRemote('127.0.0.1', p);
  counts = () => ({ sent: s.stats().packetsSent, received: s.stats().packetsReceived, lost: s.stats().lost });
  clock = new FrameClock(systemClock, 20, () => (s.sendFrame(mouth), s.readFrame(ear)), clockOptions);
} else if (mode.startsWith('card-')) {
  const native = mode.endsWith('-native');
  const { AlsaCliAudioPort } = await import('../../../dist/hal/drivers/alsa-cli.js');
  const { nativeCardPipes, streamCardPipes } = await import('../../../dist/hal/drivers/card-pipe.js');
  const { silentLog } = await import('../../../dist/hal/errors.js');
  const card = new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, pipes: native ? nativeCardPipes(mediaIo) : streamCardPipes });
  if (mode.startsWith('card-loop-')) {
    let frames = 0;
    counts = () => ({ sent: frames, received: frames, lost: card.playbackDropped, pipes: card.pipes.kind });
    card.onFrame((pcm) => (frames++, card.play(pcm)));
  } else {
    const bind = native ? nativeBinder(mediaIo, systemClock) : undefined;
    const s = await RtpSession.open({ clock: systemClock, random: seededRandom(remotePort), localAddress: '127.0.0.1', ports: { min: 40000, max: 49999 }, remoteAddress: '127.0.0.1', remotePort, codec: 'PCMU' }, bind);
    port = s.localPort;
    setRemote = (p) => s.setRemote('127.0.0.1', p);
    counts = () => ({ sent: s.stats().packetsSent, received: s.stats().packetsReceived, lost: s.stats().lost, pipes: card.pipes.kind });
    card.onFrame((pcm) => {
      s.sendFrame(pcm);
      s.readFrame(ear);
      card.play(ear);
    });
  }
  card.start(); // resolves at the first frame, once the bench fills the FIFO
} else if (mode === 'thread' || mode === 'thread-event-loop') {
  const engine = mode === 'thread' ? 'native' : 'event-loop';
  const t = await RtpStreamThread.open({ localAddress: '127.0.0.1', ports: { min: 40000, max: 49999 }, remoteAddress: '127.0.0.1', remotePort, codec: 'PCMU', engine });
  port = t.localPort;
  setRemote = (p) => t.setRemote('127.0.0.1', p);
  counts = async () => {
    const st = await t.stats();
    return { sent: st.packetsSent, received: st.packetsReceived, lost: st.lost };
  };
  clock = new FrameClock(systemClock, 20, () => (t.writeFrame(mouth), t.readFrame(ear)), { preciseMs: 0 });
} else if (mode === 'floor-dgram') {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  port = s.address().port;
  let to = remotePort;
  let received = 0;
  let sent = 0;
  s.on('message', () => received++);
  setRemote = (p) => (to = p);
  counts = () => ({ sent, received });
  const datagram = Buffer.alloc(172);
  clock = new FrameClock(systemClock, 20, () => (s.send(datagram, to, '127.0.0.1'), sent++), { preciseMs: 0 });
} else if (mode === 'floor-sync') {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  await new Promise((r) => s.connect(remotePort, '127.0.0.1', r));
  port = s.address().port;
  // The socket's fd, taken from Node's internals (a measurement only): the event loop stops reading it.
  process.noDeprecation = true;
  s._handle.recvStop();
  const { Worker } = await import('node:worker_threads');
  const tally = new Int32Array(new SharedArrayBuffer(8)); // sent, received
  new Worker(`const fs = require('node:fs'); const { workerData: tally } = require('node:worker_threads'); const fd = ${s._handle.fd};
    const wait = new Int32Array(new SharedArrayBuffer(4)); const out = Buffer.alloc(172); const inb = Buffer.alloc(1500);
    const t0 = performance.now();
    for (let n = 1; ; n++) {
      const d = t0 + n * 20 - performance.now(); if (d > 0) Atomics.wait(wait, 0, 0, d);
      try { fs.writeSync(fd, out); tally[0]++; } catch {}
      for (;;) { try { fs.readSync(fd, inb, 0, 1500, null); tally[1]++; } catch { break; } }
    }`, { eval: true, workerData: tally });
  counts = () => ({ sent: tally[0], received: tally[1] });
} else if (mode === 'floor-native') {
  const { mediaIo: io } = await import('../../../dist/hal/media-io.js');
  const fd = io.udpOpen('127.0.0.1', 0);
  port = io.udpLocalPort(fd);
  const { Worker } = await import('node:worker_threads');
  const tally = new Int32Array(new SharedArrayBuffer(8)); // sent, received
  counts = () => ({ sent: tally[0], received: tally[1] });
  const to = new Uint8Array(io.SOCKADDR_BYTES);
  const toLength = io.socketAddress('127.0.0.1', remotePort, to);
  new Worker(new URL('./native-floor-worker.mjs', import.meta.url), { workerData: { fd, to, toLength, tally } });
} else if (mode === 'floor-sleep') {
  // Its own thread so that stdin can still be read; the main thread sleeps in the event loop meanwhile.
  const { Worker } = await import('node:worker_threads');
  new Worker(`const s = new Int32Array(new SharedArrayBuffer(4)); const t0 = performance.now();
    for (let n = 1; ; n++) { const w = t0 + n * 20 - performance.now(); if (w > 0) Atomics.wait(s, 0, 0, w); }`, { eval: true });
} else if (mode === 'clock-only') {
  let ticks = 0;
  counts = () => ({ sent: ticks, received: 0 });
  clock = new FrameClock(systemClock, 20, () => ticks++);
} else throw new Error(`unknown mode ${mode}`);
clock?.start();
console.log(port);

let heap0 = 0;
let gcs0 = 0;
let marked = {}; // the counts at `mark`, so the report can say how many packets its window held
let young0 = 0;
// Bytes in the young generation, where every short-lived object is made; compiled code and feedback, which V8 adds
// as it optimizes, go to other spaces and would blur a per-packet figure.
const youngBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;
let gcMs0 = 0;
createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'remote') setRemote(Number(arg));
  if (cmd === 'mark') {
    global.gc?.();
    await new Promise((r) => setTimeout(r, 100)); // the observer hears of that collection on a later turn
    (heap0 = process.memoryUsage().heapUsed), (gcs0 = gcs), (gcMs0 = gcMs);
    marked = await counts();
    young0 = youngBytes();
  }
  if (cmd === 'report') {
    const heap = process.memoryUsage().heapUsed;
    const youngGrowth = youngBytes() - young0;
    const now = await counts();
    console.log(JSON.stringify({ heapGrowthKiB: (heap - heap0) / 1024, youngGrowthBytes: youngGrowth, gcs: gcs - gcs0, gcMs: gcMs - gcMs0, ...now, sentInWindow: now.sent - (marked.sent ?? 0), receivedInWindow: now.received - (marked.received ?? 0) }));
    process.exit(0);
  }
});
