// Added latency of the two ALSA audio paths: alsa-cli (arecord/aplay, 20 ms periods, 40 ms buffer) vs the
// speaker + mic npm packages. There is no sound card (nor snd-aloop) on this machine, and ALSA's null slave has no
// clock, so the figures are of two kinds, each labelled:
//  - measured: the pipe overhead of each capture path (child process, stdout, WAV stripping, framing), with the
//    file plugin's `infile` being a FIFO this script fills in real time;
//  - negotiated: the period (capture) and buffer (playback) sizes ALSA grants each path, read from `arecord -v` /
//    `aplay -v` with the exact flags each path uses, and the 0.5 s compiled into speaker's bundled mpg123 output.
//    On a card, capture hands data over a period at a time (which adds what a period has beyond the 20 ms frame
//    every path waits for anyway) and playback sits behind a full buffer.
import { execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cardFifo } from './lib/card-fifo.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '../../dist/hal');
const { AlsaCliAudioPort, SpeakerMicAudioPort, silentLog } = await import(join(dist, 'index.js'));
const { systemClock } = await import(join(dist, 'clock.js'));

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

const setup = cardFifo;

/** Writes a marked ramp in 20 ms chunks at real time into the FIFO; returns per-frame capture delays (ms). */
async function measureCapture(makePort) {
  const { fifo, config } = setup();
  process.env.ALSA_CONFIG_PATH = config;
  const port = makePort();
  const sentAt = new Map(); // frame number -> hrtime ms when its last sample was written
  const delays = [];
  let frameNo = 0;
  port.onFrame((pcm) => {
    // each 160-sample chunk we write carries its number in every sample
    const n = pcm[159];
    const t = sentAt.get(n);
    // first arrival only: at the end of input the file plugin repeats its last buffer
    if (t !== undefined && n > 5) delays.push(performance.now() - t);
    sentAt.delete(n);
    if (process.env.BENCH_DEBUG && frameNo % 10 === 0) console.log("frame", n, t === undefined ? "unsent" : (performance.now() - t).toFixed(1));
    frameNo++;
  });
  const starting = port.start();
  const fh = await open(fifo, 'w');
  const chunk = Buffer.alloc(320);
  const t0 = performance.now();
  const total = Math.round((SECONDS * 1000) / 20);
  for (let n = 1; n <= total; n++) {
    const due = t0 + n * 20;
    while (performance.now() < due) await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now() - 1)));
    for (let i = 0; i < 160; i++) chunk.writeInt16LE(n, 2 * i);
    // the chunk "exists" when we hand it over; set before the write, whose completion may come after the read
    sentAt.set(n, performance.now());
    await fh.write(chunk);
    if (n === 1) await Promise.race([starting, new Promise((r) => setTimeout(r, 0))]);
  }
  await fh.close();
  await new Promise((r) => setTimeout(r, 300));
  await port.close().catch(() => {});
  delays.sort((a, b) => a - b);
  return { median: delays[Math.floor(delays.length / 2)] ?? NaN, p95: delays[Math.floor(delays.length * 0.95)] ?? NaN, frames: delays.length };
}

function aplayBufferMs() {
  const { config } = setup();
  const out = execFileSync(
    'sh',
    ['-c', 'head -c 3200 /dev/zero | aplay -v -D ata_playback -t raw -f S16_LE -r 8000 -c 1 --period-time=20000 --buffer-time=40000 2>&1'],
    { env: { ...process.env, ALSA_CONFIG_PATH: config } },
  ).toString();
  const m = /buffer_size\s*:\s*(\d+)/.exec(out);
  return m ? (Number(m[1]) / 8000) * 1000 : NaN;
}

/** The capture period arecord negotiates with our flags and with mic's (none): on a card, data comes a period at a time. */
function arecordPeriodMs(flags) {
  const { dir } = setup();
  const infile = join(dir, 'in.raw');
  writeFileSync(infile, Buffer.alloc(16000));
  const rc = join(dir, 'asoundrc-period');
  writeFileSync(rc, `pcm.ata_period {\n type file\n slave.pcm "null"\n file "/dev/null"\n infile "${infile}"\n format "raw"\n}\n`);
  const out = execFileSync('sh', ['-c', `arecord -v -D ata_period -f S16_LE -r 8000 -c 1 -d 1 ${flags} 2>&1 >/dev/null`], {
    env: { ...process.env, ALSA_CONFIG_PATH: `/usr/share/alsa/alsa.conf:${rc}` },
  }).toString();
  const m = /period_size\s*:\s*(\d+)/.exec(out);
  return m ? (Number(m[1]) / 8000) * 1000 : NaN;
}

function speakerBufferMs() {
  const src = join(here, '../../node_modules/speaker/deps/mpg123/src/output/alsa.c');
  if (!existsSync(src)) return NaN;
  const m = /#define BUFFER_LENGTH\s+([0-9.]+)/.exec(readFileSync(src, 'utf8'));
  return m ? Number(m[1]) * 1000 : NaN;
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const cli = await measureCapture(() => new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog }));
let npm;
try {
  npm = await measureCapture(() => new SpeakerMicAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', log: silentLog }));
} catch (err) {
  npm = { median: NaN, p95: NaN, frames: 0, error: err.message };
}
const periodCli = arecordPeriodMs('-t raw --period-time=20000 --buffer-time=40000');
const periodMic = arecordPeriodMs('');
const playCli = aplayBufferMs();
const playNpm = speakerBufferMs();
console.log(`alsa capture pipe overhead, median (measured, FIFO at real time): alsa-cli ${fmt(cli.median)} ms | speaker-mic ${fmt(npm.median)} ms | ${fmt(npm.median / cli.median)}x`);
console.log(`alsa capture pipe overhead, p95: alsa-cli ${fmt(cli.p95)} ms | speaker-mic ${fmt(npm.p95)} ms | ${fmt(npm.p95 / cli.p95)}x`);
console.log(`alsa capture period (negotiated, arecord -v): alsa-cli ${fmt(periodCli)} ms | speaker-mic ${fmt(periodMic)} ms | ${fmt(periodMic / periodCli)}x`);
console.log(`alsa playback buffer (negotiated aplay -v / speaker's compiled-in): alsa-cli ${fmt(playCli)} ms | speaker-mic ${fmt(playNpm)} ms | ${fmt(playNpm / playCli)}x`);
const beyondFrame = (period) => Math.max(0, period - 20);
const totCli = cli.median + beyondFrame(periodCli) + playCli;
const totNpm = npm.median + beyondFrame(periodMic) + playNpm;
console.log(`alsa added latency, capture + playback: alsa-cli ${fmt(totCli)} ms | speaker-mic ${fmt(totNpm)} ms | ${fmt(totNpm / totCli)}x`);
if (npm.error) console.log(`speaker-mic could not run: ${npm.error}`);
process.exit(0);
