/**
 * Calls end to end against a real far-end phone (Debian's baresip), no SIP server: `ata run` on the sim board as a
 * child process, driven through its HTTP API, and baresip on loopback driven through ctrl_tcp.
 *
 * (1) The sim phone dials a speed-dial code that names baresip's direct-IP URI; baresip answers by itself; a tone
 *     played into the sim mouthpiece is in baresip's recording and baresip's tone is in the sim earpiece; on hook
 *     sends a BYE that baresip answers.
 * (2) baresip calls the agent; the sim phone rings with the caller ID of baresip's From (decoded by minimodem from
 *     the earpiece), off hook answers, audio flows, baresip hangs up and the line goes idle once the phone is hung up.
 *
 * Real time: RTP from baresip runs on its own clock, so the test waits for conditions (log lines, baresip events,
 * the earpiece recording growing), each bounded, never for a fixed time.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, type LogLine } from '../support/agent-process.js';
import { Baresip } from '../support/baresip.js';
import { freeUdpPort } from '../support/kamailio.js';

let agent: AgentProcess;
let far: Baresip;
let agentSip = 0;
let api = '';
let earPath = '';

const MOUTH_HZ = 700;
const FAR_HZ = 1000;

function tone(path: string, hz: number, seconds: number, vol = 0.4): void {
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', path, 'synth', String(seconds), 'sine', String(hz), 'vol', String(vol)]);
}

/** Samples of a WAV of any layout sox reads, as 8 kHz mono s16. */
function samplesOf(path: string): Int16Array {
  const raw = execFileSync('sox', [path, '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-'], { maxBuffer: 64 << 20 });
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + (raw.length & ~1)));
}

/** Samples the earpiece recording holds so far (the streaming WAV's data after its 44-byte header). */
function earSampleCount(): number {
  return Math.max(0, (statSync(earPath).size - 44) >> 1);
}
function earSamples(from: number, to: number): Int16Array {
  const b = readFileSync(earPath).subarray(44 + from * 2, 44 + to * 2);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.length & ~1)));
}

/** Power of one frequency (Goertzel), dB relative to a full-scale sine. */
function levelDb(x: Int16Array, f: number): number {
  const k = 2 * Math.cos((2 * Math.PI * f) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s = v / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return 10 * Math.log10((4 * (s1 * s1 + s2 * s2 - k * s1 * s2)) / (x.length * x.length) + 1e-20);
}

/** Waits until the earpiece recording has `n` samples (it grows 8000 a second while the agent runs). */
async function earReaches(n: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (earSampleCount() < n) {
    if (Date.now() > deadline) throw new Error(`earpiece recording stuck at ${earSampleCount()} samples, wanted ${n}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function hook(state: 'on' | 'off'): Promise<void> {
  const r = await fetch(`${api}/api/lines/0/hook`, { method: 'POST', body: JSON.stringify({ state }), headers: { 'content-type': 'application/json' } });
  expect(r.status).toBe(200);
}
async function line(): Promise<{ state: string; hook: string; call: { direction: string; codec: string; remote: string } | null }> {
  const s = (await (await fetch(`${api}/api/status`)).json()) as { lines: never[] };
  return s.lines[0];
}
/** On failure, says what baresip said too: a far end's view is half of a call's story. */
async function both<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- baresip:\n${far.output.slice(-3000)}`);
  }
}
const after = (from: number, pred: (l: LogLine) => boolean) => (l: LogLine) => agent.lines.indexOf(l) >= from && pred(l);

beforeAll(async () => {
  const farSip = await freeUdpPort();
  agentSip = await freeUdpPort();
  const apiPort = await freeUdpPort();
  const ctrlPort = await freeUdpPort();
  agent = new AgentProcess(
    `[sip]\nlisten = "127.0.0.1:${agentSip}"\nkeepalive = "off"\n` +
      `[[line]]\nid = 0\ndial_plan = "xxxxxxxxxx"\ncaller_id = "bell202"\nspeed_dial = { "11" = "sip:5551234@127.0.0.1:${farSip}" }\n` +
      `[media]\nrtp_ports = "42000-42999"\n` +
      `[board]\ntype = "sim"\naudio_in = "mouth.wav"\naudio_out = "ear.wav"\n` +
      `[api]\nlisten = "127.0.0.1:${apiPort}"\n[log]\nlevel = "info"\n`,
  );
  // Quiet enough (-26 dBFS) that DTMF keyed over it is still recognised.
  tone(join(agent.dir, 'mouth.wav'), MOUTH_HZ, 2, 0.05);
  earPath = join(agent.dir, 'ear.wav');
  api = `http://127.0.0.1:${apiPort}`;
  far = new Baresip({ sipPort: farSip, ctrlPort, rtpPorts: '41000-41999', account: '"Far End" <sip:5551234@127.0.0.1>;regint=0;answermode=auto', sourceWav: join(agent.dir, 'far.wav') });
  tone(join(agent.dir, 'far.wav'), FAR_HZ, 20);
  await far.start();
  agent.start();
  await agent.waitForLog((l) => l.msg === 'api listening');
}, 30_000);

afterAll(async () => {
  await far?.stop();
  await agent?.terminate();
});

describe('calls with a real baresip far end, direct IP', () => {
  it('the sim phone dials the speed-dial code, baresip answers, audio flows both ways, on hook sends BYE', async () => {
    await hook('off');
    const mark = agent.lines.length;
    // Rotary pulses on the hook switch: the mouthpiece is busy with its own tone, which would mask DTMF.
    const r = await fetch(`${api}/api/lines/0/dial`, { method: 'POST', body: JSON.stringify({ digits: '11', method: 'pulse' }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    await both(agent.waitForLog(after(mark, (l) => l.msg === 'call connected'), 20_000));
    await far.event('CALL_ESTABLISHED');
    expect(await line()).toMatchObject({ state: 'connected', call: { direction: 'out', codec: 'PCMU' } });
    // baresip's 180 came before its 200: the line went through ringback.
    expect(agent.lines.some(after(mark, (l) => l.msg === 'line state' && l.to === 'ringback'))).toBe(true);
    const connectedAt = earSampleCount();
    await earReaches(connectedAt + 2 * 8000);
    // A digit keyed in the call goes out as an RFC 4733 event (both sides offered telephone-event).
    const keyed = far.events.length;
    const d = await fetch(`${api}/api/lines/0/dial`, { method: 'POST', body: JSON.stringify({ digits: '5', method: 'dtmf' }), headers: { 'content-type': 'application/json' } });
    expect(d.status).toBe(200);
    const dtmf = await far.event('CALL_DTMF_START', 10_000, keyed);
    expect(dtmf.param).toBe('5');
    await earReaches(connectedAt + 3 * 8000);
    await hook('on');
    await agent.waitForLog(after(mark, (l) => l.msg === 'BYE answered' && l.status === 200));
    await far.event('CALL_CLOSED');
    const media = await agent.waitForLog(after(mark, (l) => l.msg === 'call media closed'));
    expect(media.sent as number).toBeGreaterThan(100);
    expect(media.events_sent).toBe(1);
    expect(media.received as number).toBeGreaterThan(100);
    expect(await line()).toMatchObject({ state: 'idle', call: null });

    // What baresip heard is our mouthpiece tone; what our earpiece heard (after the answer) is baresip's tone.
    const heardByFar = samplesOf(far.decodedWav()!);
    expect(heardByFar.length).toBeGreaterThan(2 * 8000);
    const middle = heardByFar.subarray(8000, 2 * 8000);
    expect(levelDb(middle, MOUTH_HZ)).toBeGreaterThan(-35);
    expect(levelDb(middle, FAR_HZ)).toBeLessThan(-40);
    const ear = earSamples(connectedAt + 8000, connectedAt + 2 * 8000);
    expect(levelDb(ear, FAR_HZ)).toBeGreaterThan(-20);
    expect(levelDb(ear, MOUTH_HZ)).toBeLessThan(-40);
  }, 60_000);

  it('baresip calls the agent: the phone rings with caller ID, off hook answers, baresip hangs up', async () => {
    const mark = agent.lines.length;
    const events = far.events.length;
    far.command('dial', `sip:pi-ata@127.0.0.1:${agentSip}`);
    const incoming = await both(agent.waitForLog(after(mark, (l) => l.msg === 'incoming call')));
    expect(incoming).toMatchObject({ number: '5551234', name: 'Far End' });
    const ringStart = earSampleCount();
    await far.event('CALL_RINGING', 10_000, events);
    expect((await line()).state).toBe('ringing');
    // Bell 202 caller ID goes out between the first and second ring (2 s on, then 0.5 s, then about 0.5 s of FSK).
    await earReaches(ringStart + 4 * 8000);
    const cid = earSamples(ringStart, earSampleCount());
    const wav = join(agent.dir, 'cid.wav');
    const raw = join(agent.dir, 'cid.raw');
    execFileSync('sh', ['-c', 'cat > "$0"', raw], { input: Buffer.from(cid.buffer, cid.byteOffset, cid.byteLength) });
    execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', raw, wav]);
    const decoded = execFileSync('minimodem', ['--rx', '-q', '-f', wav, 'callerid'], { encoding: 'utf8' });
    expect(decoded).toContain('5551234');
    expect(decoded).toContain('Far End');

    await hook('off');
    await far.event('CALL_ESTABLISHED', 10_000, events);
    expect(await line()).toMatchObject({ state: 'connected', call: { direction: 'in', codec: 'PCMU' } });
    await agent.waitForLog(after(mark, (l) => l.msg === 'ACK received: call confirmed'));
    const connectedAt = earSampleCount();
    await earReaches(connectedAt + 2 * 8000);
    const farLevel = levelDb(earSamples(connectedAt + 4000, connectedAt + 12000), FAR_HZ);

    far.command('hangup');
    await agent.waitForLog(after(mark, (l) => l.msg === 'call ended' && l.kind === 'remote-bye'));
    expect((await line()).state).toBe('disconnected');
    await hook('on');
    await agent.waitForLog(after(mark, (l) => l.msg === 'line state' && l.to === 'idle'));
    expect(await line()).toMatchObject({ state: 'idle', hook: 'on', call: null });
    const media = await agent.waitForLog(after(mark, (l) => l.msg === 'call media closed'));
    expect(media.received as number).toBeGreaterThan(50);
    expect(farLevel).toBeGreaterThan(-20);
  }, 60_000);

  it('a call to a line that is off hook gets 486 Busy Here', async () => {
    await hook('off');
    await agent.waitForLog((l) => l.msg === 'line state' && l.to === 'dialtone' && agent.lines.indexOf(l) > agent.lines.length - 5);
    const events = far.events.length;
    far.command('dial', `sip:pi-ata@127.0.0.1:${agentSip}`);
    const closed = await far.event('CALL_CLOSED', 10_000, events);
    expect(String(closed.param)).toContain('486');
    expect((await line()).state).toBe('dialtone');
    await hook('on');
  }, 30_000);
});
