// What a call costs the whole adapter: `ata run` (the agent, as a user runs it) on the sim board in a call with a
// real baresip, in CPU seconds per call-minute of the agent's process (every thread, from /proc, as media-call does).
// The phone lifts its handset through the control API and the line's hotline calls baresip straight away; both ends
// then stream G.711 20 ms both ways, the phone's mouthpiece playing a tone from a WAV and its earpiece recorded to a
// WAV (the sim board's file I/O stands in for the sound card's pipes to arecord and aplay).
// Measured twice in one run: with the C module (hal/native: call media on sockets read once per frame) and with
// PI_ATA_NATIVE=off (Node's dgram). Peer, same call: the baresip callee's CPU over the same window.
// Over the same window, both ends' packet clocks as the network sees them (tshark on lo, when present and root): the
// agent's is the sim board's FrameClock on the agent's main thread, beside everything else the agent does.
// AGENT_CALL_SECONDS sets the window (default 30 s), after a 2 s warm-up.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { mediaIo, mediaIoMissing } from '../../dist/hal/media-io.js';
import { baresipMissing, processRunNs, startBaresipCallee, toneWav } from './lib/baresip-call.mjs';
import { captureMissing, clockFigures, startCapture } from './lib/wire-capture.mjs';

const SECONDS = Number(process.env.AGENT_CALL_SECONDS ?? 30);
const WARMUP_MS = 2000;
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'src', 'cli.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const AGENT_RTP = [46200, 46299];
const BARESIP_RTP = [46100, 46119];
const noCapture = captureMissing();

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await sleep(50);
  }
}

/** One call: the agent (native or not) calls a fresh baresip; returns both ends' CPU per call-minute. */
async function measure(native) {
  const { dir, wav } = toneWav(SECONDS + 20);
  const bSip = await freePort();
  const b = await startBaresipCallee({ dir: join(dir, 'b'), wav, sipPort: bSip, rtpPorts: BARESIP_RTP.join('-') });
  const sipPort = await freePort();
  const apiPort = await freePort();
  const config = join(dir, 'ata.toml');
  writeFileSync(config, [
    '[sip]', `listen = "127.0.0.1:${sipPort}"`, 'keepalive = "off"',
    '[[line]]', 'id = 0', `hotline = "sip:b@127.0.0.1:${bSip}"`,
    '[media]', `rtp_ports = "${AGENT_RTP.join('-')}"`,
    '[board]', 'type = "sim"', `audio_in = "${wav}"`, `audio_out = "${join(dir, 'ear.wav')}"`,
    '[api]', `listen = "127.0.0.1:${apiPort}"`, '[log]', 'level = "info"', '',
  ].join('\n'));
  const env = { ...process.env, PI_ATA_NATIVE: native ? '' : 'off' };
  const nodeArgs = process.env.AGENT_CALL_PROFILE ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.AGENT_CALL_PROFILE}`] : [];
  const agent = spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', config], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  createInterface({ input: agent.stdout }).on('line', (l) => logs.push(l));
  let stderr = '';
  agent.stderr.on('data', (d) => (stderr += d));
  const api = `http://127.0.0.1:${apiPort}/api`;
  try {
    await until(() => logs.some((l) => l.includes('"api listening"')), 10000, () => `agent did not start: ${stderr}${logs.join('\n')}`);
    const running = JSON.parse(logs.find((l) => l.includes('"agent running"')));
    const r = await fetch(`${api}/lines/0/hook`, { method: 'POST', body: JSON.stringify({ state: 'off' }), headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) throw new Error(`off-hook: HTTP ${r.status}`);
    await until(() => logs.some((l) => l.includes('"call connected"')), 15000, () => `no call: ${logs.slice(-5).join('\n')}\n${b.log().slice(-2000)}`);
    await b.established();
    await sleep(WARMUP_MS);
    const capture = noCapture ? undefined : await startCapture(`udp and (src portrange ${AGENT_RTP[0]}-${AGENT_RTP[1]} or src portrange ${BARESIP_RTP[0]}-${BARESIP_RTP[1]})`);
    const a0 = processRunNs(agent.pid);
    const b0 = processRunNs(b.proc.pid);
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const minutes = (performance.now() - t0) / 60000;
    const agentPerMin = (processRunNs(agent.pid) - a0) / 1e9 / minutes;
    const baresipPerMin = (processRunNs(b.proc.pid) - b0) / 1e9 / minutes;
    const status = await (await fetch(`${api}/status`)).json();
    const bySource = await capture?.stop();
    const clock = (range) => {
      // The RTP stream is the port in the range with the most packets (RTCP, beside it, sends one every 5 s).
      const streams = [...(bySource ?? [])].filter(([port]) => port >= range[0] && port <= range[1]).sort((x, y) => y[1].length - x[1].length);
      const times = streams[0]?.[1] ?? [];
      return times.length > 100 ? clockFigures(times.slice(1, -1)) : undefined;
    };
    return { agentPerMin, baresipPerMin, sockets: running.media_sockets, state: status.lines[0].state, agentClock: clock(AGENT_RTP), baresipClock: clock(BARESIP_RTP) };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    await b.stop();
  }
}

const why = baresipMissing();
if (why) {
  console.log(`agent call CPU: not measured, ${why}`);
} else {
  const runs = mediaIo ? [true, false] : [false];
  if (!mediaIo) console.log(`agent call CPU with hal/native: not measured, ${mediaIoMissing}`);
  for (const native of runs) {
    const m = await measure(native);
    const label = native ? 'with hal/native (call media sockets read per frame, clock by timerfd)' : 'with PI_ATA_NATIVE=off (node:dgram, clock by timer and futex)';
    console.log(`agent call CPU, whole agent on the sim board, ${label}: ${m.agentPerMin.toFixed(3)} s per call-minute (sockets: ${m.sockets}; line ${m.state}) | baresip callee in the same call ${m.baresipPerMin.toFixed(3)} s (measured in this run)`);
    if (noCapture) console.log(`agent call packet clock, ${label}: not measured, ${noCapture}`);
    else if (!m.agentClock || !m.baresipClock) console.log(`agent call packet clock, ${label}: not measured, too few packets captured`);
    else {
      const [a, p] = [m.agentClock, m.baresipClock];
      console.log(`agent call packet clock on the wire, ${label}: |interval-20ms| p99 ${a.p99.toFixed(3)} ms (max ${a.max.toFixed(3)}), drift ${a.driftMsPerMin.toFixed(3)} ms/min over ${a.count} packets | baresip callee in the same call p99 ${p.p99.toFixed(3)} ms, drift ${p.driftMsPerMin.toFixed(3)} ms/min (measured in this run) | goal 1 ms, 1 ms/min`);
    }
  }
}
