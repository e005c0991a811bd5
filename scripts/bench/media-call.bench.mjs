// A whole call's media cost, one end: a full-duplex 20 ms G.711 stream over loopback (encode, send, receive, parse,
// jitter buffer, decode, and the packet clock), in CPU seconds per call-minute. Each end runs in its own process
// (lib/media-end.mjs) and its CPU is read from /proc, every thread summed, the same way as the peer's.
// Peer, same run: baresip, the callee end of a baresip-to-baresip call with the same stream (lib/baresip-call.mjs).
// Floors, same run: what Node itself costs here with no media code (a bare dgram socket on the same timer; a thread
// that only wakes 50 times a second). On this VM every wake-up of a process costs tens of microseconds before any
// code runs, and a call needs at least 50 of them a second, so the floors say how much of a figure is ours.
// Heap growth and GC counts (perf_hooks) over the window are reported by our end itself.
// Card lines: the same call on a board with a sound card, whose capture paces it. There is no card here, so arecord
// reads ALSA's file plugin from a FIFO this script fills at real time (lib/card-fifo.mjs); hal/native's pipes to
// arecord and aplay against Node's streams, and the card's path alone (each frame played straight back, no RTP).
// MEDIA_CALL_SECONDS sets the measured window per line (default 30 s), after a 2 s warm-up.
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { mediaIo, mediaIoMissing } from '../../dist/hal/media-io.js';
import { MEDIA_THREAD_NICE } from '../../dist/src/media/rtp-stream-thread.js';
import { baresipMissing, processRunNs, startBaresipCall } from './lib/baresip-call.mjs';
import { cardFifo, paceCapture } from './lib/card-fifo.mjs';

const SECONDS = Number(process.env.MEDIA_CALL_SECONDS ?? 30);
const WARMUP_MS = 2000;
const endScript = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'media-end.mjs');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startEnd(mode, remotePort = 9, nodeFlags = [], env = process.env) {
  const proc = spawn(process.execPath, ['--expose-gc', ...nodeFlags, endScript, mode, String(remotePort)], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = [];
  let wake = () => {};
  createInterface({ input: proc.stdout }).on('line', (l) => (lines.push(l), wake()));
  const next = async () => {
    while (lines.length === 0) await new Promise((r) => (wake = r));
    return lines.shift();
  };
  return { proc, next, send: (l) => proc.stdin.write(l + '\n') };
}

/** CPU ns of each thread of `pid`, with its nice value (field 19 of its stat). */
function threadRunNs(pid) {
  const threads = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      threads.set(tid, { nice, ns: Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) });
    } catch { /* thread ended */ }
  }
  return threads;
}

/**
 * CPU seconds per minute of `pid` over the window, measured after the warm-up; and of its media thread alone, told
 * apart by its raised nice value (undefined when it could not be raised: the bench is not root).
 */
async function cpuPerMinute(pid, before = async () => {}, warmupMs = WARMUP_MS) {
  await sleep(warmupMs);
  await before();
  const ns0 = processRunNs(pid);
  const threads0 = threadRunNs(pid);
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const ns = processRunNs(pid) - ns0;
  const minutes = (performance.now() - t0) / 60000;
  const media = [...threadRunNs(pid)].filter(([tid, t]) => t.nice === MEDIA_THREAD_NICE && threads0.has(tid));
  const mediaThread = media.length === 1 ? (media[0][1].ns - threads0.get(media[0][0]).ns) / 1e9 / minutes : undefined;
  return { perMin: ns / 1e9 / minutes, mediaThread };
}
const fmt = (perMin) => (perMin === undefined ? 'not told apart (not root: the thread is not raised)' : `${perMin.toFixed(3)} s`);

/**
 * The near end in `mode`, and the far end it calls (none for the modes without RTP). A card mode's capture is paced
 * by a FIFO that this process fills (lib/card-fifo.mjs); `stop` ends all of it.
 */
async function startCall(mode, nodeFlags = []) {
  const far = mode === 'floor-sleep' || mode === 'clock-only' || mode.startsWith('card-loop-') ? undefined : startEnd('main');
  const farPort = far ? Number(await far.next()) : 9;
  const card = mode.startsWith('card-') ? cardFifo() : undefined;
  const near = startEnd(mode, farPort, nodeFlags, card?.env);
  const nearPort = Number(await near.next());
  const stopPacing = card && paceCapture(card.fifo);
  far?.send(`remote ${nearPort}`);
  return { near, stop: () => (stopPacing?.(), far?.proc.kill()) };
}

async function ours(mode, warmupMs = WARMUP_MS) {
  const { near, stop } = await startCall(mode);
  let children = [];
  let children0 = 0;
  const { perMin, mediaThread } = await cpuPerMinute(near.proc.pid, async () => {
    near.send('mark');
    children = childPids(near.proc.pid);
    children0 = children.reduce((n, pid) => n + processRunNs(pid), 0);
  }, warmupMs);
  const childrenPerMin = ((children.reduce((n, pid) => n + processRunNs(pid), 0) - children0) / 1e9 / SECONDS) * 60;
  near.send('report');
  const report = JSON.parse(await near.next());
  stop();
  return { perMin, mediaThread, report, childrenPerMin };
}

/** The pids of a process's children (arecord and aplay of a card mode). */
function childPids(pid) {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
}

/**
 * Bytes the near end allocates per 20 ms tick (one packet sent, one received) in steady state: the growth of its
 * young generation over a window in which no collection runs at all (a 128 MB young generation, V8's memory reducer
 * off), so nothing allocated is collected before it is counted. Heap growth under default settings, as the lines
 * above report it, swings with when the young generation happens to be collected, and the whole heap's growth with
 * the code V8 compiles as it optimizes; this does neither. After a 5 s warm-up. The floor is a process whose clock
 * ticks with no media code, measured the same way in the same run.
 */
async function allocation(mode, warmupMs = 5000) {
  const { near, stop } = await startCall(mode, ['--min-semi-space-size=128', '--max-semi-space-size=128', '--no-memory-reducer']);
  await sleep(warmupMs);
  near.send('mark');
  await sleep(Math.min(SECONDS, 20) * 1000);
  near.send('report');
  const r = JSON.parse(await near.next());
  stop();
  return { perTick: r.youngGrowthBytes / r.sentInWindow, ticks: r.sentInWindow, received: r.receivedInWindow, gcs: r.gcs };
}

const why = baresipMissing();
let peer;
if (why) peer = `baresip not measured: ${why}`;
else {
  const call = await startBaresipCall({ seconds: SECONDS + 10 });
  const { perMin } = await cpuPerMinute(call.pidB);
  await call.stop();
  peer = `baresip one end ${perMin.toFixed(3)} s (measured in this run)`;
}

const main = await ours('main');
const r = main.report;
console.log(`media call CPU, one end, main thread on node:dgram, clock by timer and futex (the agent's placement without hal/native): ${main.perMin.toFixed(3)} s per call-minute | ${peer} | goal 0.3 s`);
if (mediaIo) {
  const mainNative = await ours('main-native');
  console.log(`media call CPU, one end, main thread on hal/native sockets read per frame, clock by timerfd (the agent's placement when the module is built): ${mainNative.perMin.toFixed(3)} s per call-minute (${mainNative.report.received} received, ${mainNative.report.lost} lost) | ${peer} | goal 0.3 s`);
  const mainNativeFutex = await ours('main-native-futex');
  console.log(`media call CPU, one end, main thread on hal/native sockets, clock by timer and futex (two wake-ups per tick): ${mainNativeFutex.perMin.toFixed(3)} s per call-minute | main thread, clock by timerfd ${mainNative.perMin.toFixed(3)} s (measured in this run) | goal 0.3 s`);
  const n = mainNative.report;
  console.log(`media call heap growth, one end, main thread on hal/native sockets: ${n.heapGrowthKiB.toFixed(1)} KiB, GCs ${n.gcs} (${n.gcMs.toFixed(1)} ms) over ${SECONDS} s with ${n.sentInWindow} packets sent, ${n.receivedInWindow} received | main thread on node:dgram ${main.report.heapGrowthKiB.toFixed(1)} KiB, GCs ${main.report.gcs} (measured in this run)`);
}
if (mediaIo) {
  const native = await allocation('main-native');
  const floor = await allocation('clock-only');
  const gcNote = native.gcs + floor.gcs === 0 ? 'no GC in either window' : `GCs in the windows: ${native.gcs} and ${floor.gcs}, so both read low`;
  console.log(`media call allocation, one end, main thread on hal/native sockets: ${native.perTick.toFixed(0)} B per 20 ms tick (${native.ticks} packets sent and ${native.received} received in the window; ${gcNote}), ${(native.perTick - floor.perTick).toFixed(0)} B above the floor | floor, the same process with its clock ticking and no media code ${floor.perTick.toFixed(0)} B per tick (measured in this run) | goal 0 above the floor`);
}
// On a board with a sound card, the card's capture paces the call: the agent wakes when arecord has a frame, not by
// a clock of its own. arecord and aplay cost the same whichever way the agent talks to them; they are given beside.
if (mediaIo) {
  const loop = await ours('card-loop-native');
  const loopStreams = await ours('card-loop-streams');
  console.log(`card path CPU, one end, no RTP (arecord paced at real time, each frame played straight back through aplay): hal/native pipes ${loop.perMin.toFixed(3)} s per call-minute | Node streams ${loopStreams.perMin.toFixed(3)} s (measured in this run) | ${(loopStreams.perMin / loop.perMin).toFixed(2)}x`);
  const card = await ours('card-native');
  const cardStreams = await ours('card-streams');
  console.log(`media call CPU, one end paced by a sound card's capture (no clock of its own), main thread on hal/native sockets and pipes (the agent on a board with a card): ${card.perMin.toFixed(3)} s per call-minute (${card.report.received} received, ${card.report.lost} lost), arecord and aplay beside it ${card.childrenPerMin.toFixed(3)} s | without hal/native (node:dgram, the pipes as Node streams) ${cardStreams.perMin.toFixed(3)} s, arecord and aplay ${cardStreams.childrenPerMin.toFixed(3)} s | ${peer} | goal 0.3 s`);
  const a = await allocation('card-loop-native');
  const b = await allocation('card-loop-streams');
  const c = await allocation('card-native');
  const gcs = a.gcs + b.gcs + c.gcs === 0 ? 'no GC in any window' : `GCs in the windows: ${a.gcs}, ${b.gcs}, ${c.gcs}, so those read low`;
  console.log(`card path allocation per 20 ms frame, no RTP: hal/native pipes ${a.perTick.toFixed(0)} B | Node streams ${b.perTick.toFixed(0)} B (measured in this run; ${a.ticks} and ${b.ticks} frames, ${gcs}) | a whole call paced by the card, hal/native ${c.perTick.toFixed(0)} B per frame`);
}
// The lines above count from 5 s into a call, when V8 still runs the per-tick code in its baseline tier, which boxes
// every double it computes (the time values); a function called 50 times a second takes a minute or more to be
// optimized. This is the same count 90 s into the call. One after another: run at once on this 2-core VM, V8's
// concurrent compiler is starved and the code stays in the baseline tier longer (main-native read 303 B per tick
// that way against 69 alone).
if (mediaIo) {
  const n = await allocation('main-native', 90_000);
  const c = await allocation('card-native', 90_000);
  const f = await allocation('clock-only', 90_000);
  const gcNote = n.gcs + c.gcs + f.gcs === 0 ? 'no GC in any window' : `GCs in the windows: ${n.gcs}, ${c.gcs}, ${f.gcs}, so those read low`;
  console.log(`media call allocation 90 s into a call: main thread on hal/native sockets ${n.perTick.toFixed(0)} B per 20 ms tick, ${(n.perTick - f.perTick).toFixed(0)} B above the floor; paced by a card on hal/native pipes ${c.perTick.toFixed(0)} B per frame, ${(c.perTick - f.perTick).toFixed(0)} B above | floor, a clock ticking with no media code ${f.perTick.toFixed(0)} B per tick (measured in this run; ${gcNote}) | goal 0 above the floor`);
}
// The CPU lines above count from 2 s into a call, when V8 still runs the per-tick code in its baseline tier. The
// same call 90 s in, once it has optimized it: the figure of a long call, beside the same floors.
if (mediaIo) {
  const n = await ours('main-native', 90_000);
  const c = await ours('card-native', 90_000);
  const f = await ours('clock-only', 90_000);
  console.log(`media call CPU 90 s into a call, one end: main thread on hal/native sockets, clock by timerfd ${n.perMin.toFixed(3)} s per call-minute; paced by a card on hal/native pipes ${c.perMin.toFixed(3)} s (arecord and aplay beside it ${c.childrenPerMin.toFixed(3)} s) | ${peer} | floor, the same process with its clock ticking and no media code ${f.perMin.toFixed(3)} s (measured in this run) | goal 0.3 s`);
}
const timers = await ours('main-timers');
console.log(`media call CPU, one end, main thread, timers only (no precise sleep): ${timers.perMin.toFixed(3)} s per call-minute | ${peer} | goal 0.3 s`);
const thread = mediaIo ? await ours('thread') : undefined;
if (thread) console.log(`media call CPU, one end on its media thread, native engine: ${thread.perMin.toFixed(3)} s per call-minute, of which the media thread ${fmt(thread.mediaThread)} (${thread.report.received} received, ${thread.report.lost} lost) | ${peer} | goal 0.3 s`);
else console.log(`media call CPU, one end on its media thread, native engine: not measured, ${mediaIoMissing}`);
const threadLoop = await ours('thread-event-loop');
console.log(`media call CPU, one end on its media thread, event-loop engine: ${threadLoop.perMin.toFixed(3)} s per call-minute, of which the media thread ${fmt(threadLoop.mediaThread)} (${threadLoop.report.received} received, ${threadLoop.report.lost} lost) | ${peer} | goal 0.3 s`);
const dgramFloor = await ours('floor-dgram');
console.log(`media call CPU floor, bare node:dgram (same packets and timer, no media code): ${dgramFloor.perMin.toFixed(3)} s per call-minute | ${peer} | goal 0.3 s`);
// Node's dgram makes a Buffer and an address object for every datagram received and a request for every send, and
// its timers a list entry per tick; the floor's own figure shows how much of ours is that.
const d = dgramFloor.report;
console.log(`media call heap growth, one end: ${r.heapGrowthKiB.toFixed(1)} KiB, GCs ${r.gcs} (${r.gcMs.toFixed(1)} ms) over ${SECONDS} s with ${r.sentInWindow} packets sent, ${r.receivedInWindow} received, ${r.lost} lost | bare node:dgram floor ${d.heapGrowthKiB.toFixed(1)} KiB, GCs ${d.gcs} (${d.gcMs.toFixed(1)} ms) (measured in this run)`);
const syncFloor = await ours('floor-sync');
console.log(`media call CPU floor, a Node thread with no event loop (Atomics.wait clock, fs.writeSync/readSync on the socket, no media code): ${syncFloor.perMin.toFixed(3)} s per call-minute (${syncFloor.report.sent} sent, ${syncFloor.report.received} received) | ${peer} | goal 0.3 s`);
if (mediaIo) {
  const nativeFloor = await ours('floor-native');
  console.log(`media call CPU floor, a thread on hal/media-io with no event loop (clock_nanosleep, sendto, recvmsg until EAGAIN, no media code): ${nativeFloor.perMin.toFixed(3)} s per call-minute (${nativeFloor.report.sent} sent, ${nativeFloor.report.received} received) | ${peer} | goal 0.3 s`);
}
const sleepFloor = await ours('floor-sleep');
console.log(`media call CPU floor, a Node thread waking 50 times a second to do nothing: ${sleepFloor.perMin.toFixed(3)} s per call-minute | ${peer} | goal 0.3 s`);

// The same floor without Node: a C program that only sleeps to each 20 ms deadline. What remains of a figure above
// it is ours; what it costs itself, no design of the adapter can go under on this machine.
{
  const exe = join(mkdtempSync(join(tmpdir(), 'wake-floor-')), 'wake-floor');
  const cc = spawnSync('cc', ['-O2', '-o', exe, join(dirname(endScript), 'wake-floor.c')], { encoding: 'utf8' });
  if (cc.status !== 0) console.log(`media call CPU floor, a C program waking 50 times a second: not measured, cc failed (${cc.error?.message ?? cc.stderr.trim()})`);
  else {
    const proc = spawn(exe, [], { stdio: 'ignore' });
    const { perMin } = await cpuPerMinute(proc.pid);
    proc.kill();
    console.log(`media call CPU floor, a C program waking 50 times a second to do nothing (clock_nanosleep): ${perMin.toFixed(3)} s per call-minute | a Node thread doing the same ${sleepFloor.perMin.toFixed(3)} s (measured in this run) | goal 0.3 s`);
  }
}
