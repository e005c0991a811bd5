/**
 * The analog line end to end on the sim board, with no SIP server (issue 4's "Done when"): the agent in process on
 * a fake clock, driven through its real HTTP API. Off hook gives dial tone in audio_out; DTMF tones played into
 * the mouthpiece and rotary pulses on the hook switch are recognised by the real detectors and show in the status;
 * a test ring rings with the US cadence, and the caller ID between the first and second ring decodes with
 * minimodem (a decoder nobody here wrote) to the number and name sent.
 *
 * Then the ETSI timing on lines configured for V.23 and DTMF caller ID: the line's polarity reverses, the caller ID
 * (after the dual-tone alert for V.23) goes out, and only then does the first ring start; multimon-ng decodes the
 * number and name from the audio_out recording cut off at the first ring.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { startAgent } from '../../src/agent.js';
import { loadConfigText } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { SipTrace } from '../../src/sip-trace.js';
import { EarpieceFile, toneLevelDb } from '../support/call-audio.js';
import { freeUdpPort } from '../support/kamailio.js';

const dir = mkdtempSync(join(tmpdir(), 'ata-sim-'));
const earPath = join(dir, 'ear.wav');
const clock = new FakeClock(Date.UTC(2026, 10, 24, 14, 30, 0));
let agent: Awaited<ReturnType<typeof startAgent>>;
let api: ApiServer;

const ear = new EarpieceFile(earPath);

async function post(path: string, body: object): Promise<number> {
  const r = await fetch(api.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await r.text();
  return r.status;
}
async function status(): Promise<{ lines: Array<{ state: string; hook: string; digits: string }> }> {
  return (await fetch(api.url + '/api/status')).json() as never;
}

beforeAll(async () => {
  const sipPort = await freeUdpPort();
  const r = loadConfigText(
    `[sip]\nlisten = "127.0.0.1:${sipPort}"\nkeepalive = "off"\n` +
      `[[line]]\nid = 0\ndial_plan = "xxxxxxxxxx"\ntone_plan = "us"\ncaller_id = "bell202"\n` +
      `[board]\ntype = "sim"\naudio_out = "${earPath}"\n`,
    dir,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const log = createLogger({ level: 'silent' });
  agent = await startAgent(r.config, { log, trace: new SipTrace({ keep: 10 }), clock, random: seededRandom(7) });
  api = await startApiServer(agent.control, { listen: { host: '127.0.0.1', port: 0 }, log });
});

afterAll(async () => {
  await api?.close();
  await agent?.stop('test over');
});

describe('sim board, no SIP server', () => {
  it('off hook gives US dial tone (350+440 Hz) in audio_out', async () => {
    expect(await post('/api/lines/0/hook', { state: 'off' })).toBe(200);
    clock.advance(1000);
    expect((await status()).lines[0]).toMatchObject({ hook: 'off', state: 'dialtone' });
    const last = ear.samples().slice(-4000); // the last half second
    expect(toneLevelDb(last, 350)).toBeGreaterThan(-30);
    expect(toneLevelDb(last, 440)).toBeGreaterThan(-30);
    expect(toneLevelDb(last, 620)).toBeLessThan(-50);
  });

  it('recognises DTMF played into the mouthpiece: the digits show in the status', async () => {
    expect(await post('/api/lines/0/dial', { digits: '123', method: 'dtmf' })).toBe(200);
    clock.advance(1500);
    expect((await status()).lines[0]).toMatchObject({ state: 'dialing', digits: '123' });
  });

  it('recognises rotary pulses on the hook switch after them', async () => {
    expect(await post('/api/lines/0/dial', { digits: '40', method: 'pulse' })).toBe(200);
    clock.advance(4000);
    expect((await status()).lines[0]).toMatchObject({ state: 'dialing', digits: '12340' });
  });

  it('goes idle on hook once the flash window has passed', async () => {
    expect(await post('/api/lines/0/hook', { state: 'on' })).toBe(200);
    clock.advance(2000);
    expect((await status()).lines[0]).toMatchObject({ hook: 'on', state: 'idle', digits: '' });
  });

  it('rings with the US cadence (2 s on, 4 s off) and sends Bell 202 caller ID between the rings', async () => {
    const phone = agent.board.sim!.phone(0);
    const startSample = ear.samples().length;
    expect(await post('/api/lines/0/ring', { number: '5551234', name: 'Ada Lovelace' })).toBe(200);
    const ringing: boolean[] = [];
    for (let t = 0; t < 12_000; t += 500) {
      ringing.push(phone.ringing);
      clock.advance(500);
    }
    // Sampled every 0.5 s from the start: on for 2 s, off for 4 s, on again.
    expect(ringing.slice(0, 12).map(Number).join('')).toBe('111100000000');
    expect(ringing.slice(12, 16).map(Number).join('')).toBe('1111');
    expect((await status()).lines[0].state).toBe('ringing');

    const heard = ear.samples().slice(startSample);
    const wav = join(dir, 'cid.wav');
    const raw = join(dir, 'cid.raw');
    writeFileSync(raw, Buffer.from(heard.buffer, heard.byteOffset, heard.byteLength));
    execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', raw, wav]);
    const decoded = execFileSync('minimodem', ['--rx', '-q', '-f', wav, 'callerid'], { encoding: 'utf8' });
    expect(decoded).toContain('5551234');
    expect(decoded).toContain('Ada Lovelace');
    // The caller ID starts 500 ms after the first ring ends, so it lies between 2.5 s and 6 s into the call (less
    // one 20 ms frame: the recording's first sample and the ring's start fall in different frames).
    const firstLoud = heard.findIndex((v) => Math.abs(v) > 1000);
    expect(firstLoud / 8000).toBeGreaterThanOrEqual(2.5 - 0.021);
    expect(firstLoud / 8000).toBeLessThan(6);
  });

  it('answers the test ring off hook and stops ringing', async () => {
    expect(await post('/api/lines/0/hook', { state: 'off' })).toBe(200);
    clock.advance(200);
    expect((await status()).lines[0].state).toBe('connected');
    expect(agent.board.sim!.phone(0).ringing).toBe(false);
    expect(await post('/api/lines/0/hook', { state: 'on' })).toBe(200);
    clock.advance(2000);
    expect((await status()).lines[0].state).toBe('idle');
    const calls = agent.control.calls();
    expect(calls[0]).toMatchObject({ direction: 'in', remote: 'tel:5551234', cause: 'normal' });
    expect(calls[0].answered).not.toBeNull();
  });
});

/** Another agent on its own fake clock, for one line configured by `lineToml`. */
async function startLineAgent(lineToml: string): Promise<{
  agent: Awaited<ReturnType<typeof startAgent>>;
  api: ApiServer;
  clock: FakeClock;
  ear: () => Int16Array;
}> {
  const etsiDir = mkdtempSync(join(tmpdir(), 'ata-sim-line-'));
  const earFile = join(etsiDir, 'ear.wav');
  const etsiClock = new FakeClock(Date.UTC(2026, 10, 24, 14, 30, 0));
  const r = loadConfigText(
    `[sip]\nlisten = "127.0.0.1:${await freeUdpPort()}"\nkeepalive = "off"\n[[line]]\nid = 0\n${lineToml}\n` +
      `[board]\ntype = "sim"\naudio_out = "${earFile}"\n`,
    etsiDir,
  );
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const log = createLogger({ level: 'silent' });
  const a = await startAgent(r.config, { log, trace: new SipTrace({ keep: 10 }), clock: etsiClock, random: seededRandom(11) });
  const server = await startApiServer(a.control, { listen: { host: '127.0.0.1', port: 0 }, log });
  return {
    agent: a,
    api: server,
    clock: etsiClock,
    ear: () => new EarpieceFile(earFile).samples(),
  };
}

interface LineTimeline {
  /** Clock time (ms after the ring request) at which the polarity was first seen reversed, and the ring first on. */
  reversedAt: number;
  firstRingAt: number;
  /** Whether the polarity stayed reversed from the reversal up to the first ring. */
  reversedUntilRing: boolean;
  /** What the earpiece recorded from the ring request up to the first ring. */
  beforeRing: Int16Array;
}

/** Rings line 0 through the API and watches the simulated line every 10 ms until the first ring starts. */
async function ringAndWatch(e: Awaited<ReturnType<typeof startLineAgent>>, body: object): Promise<LineTimeline> {
  const phone = e.agent.board.sim!.phone(0);
  e.clock.advance(200); // let the audio clock run, so the recording has a timeline before the ring
  expect(phone.polarityReversed).toBe(false);
  const startSample = e.ear().length;
  const r = await fetch(e.api.url + '/api/lines/0/ring', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  expect(r.status, await r.text()).toBe(200);
  let reversedAt = -1;
  let firstRingAt = -1;
  let reversedUntilRing = true;
  for (let t = 0; t <= 6000; t += 10) {
    if (phone.polarityReversed && reversedAt < 0) reversedAt = t;
    if (reversedAt >= 0 && !phone.polarityReversed) reversedUntilRing = false;
    if (phone.ringing) {
      firstRingAt = t;
      break;
    }
    e.clock.advance(10);
  }
  // The recording lags the clock by at most one 20 ms frame; cut it a frame short of the ring to be safe.
  const heard = e.ear().slice(startSample);
  const ringSample = Math.max(0, ((firstRingAt - 20) * 8000) / 1000);
  return { reversedAt, firstRingAt, reversedUntilRing, beforeRing: heard.slice(0, ringSample) };
}

/** multimon-ng on 8 kHz samples (resampled to the 22 050 Hz it expects); fails loudly without the tool. */
function multimon(pcm: Int16Array, demod: string): string {
  const raw = join(dir, `mm-${demod}.raw`);
  const up = join(dir, `mm-${demod}-22k.raw`);
  writeFileSync(raw, Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
  const s16 = ['-e', 'signed', '-b', '16', '-c', '1'];
  execFileSync('sox', ['-t', 'raw', '-r', '8000', ...s16, raw, '-t', 'raw', '-r', '22050', ...s16, up]);
  const r = spawnSync('multimon-ng', ['-q', '-c', '-a', demod, '-t', 'raw', up], { encoding: 'utf8' });
  if (r.error) throw new Error(`multimon-ng could not be run (is the Debian package installed?): ${r.error.message}`);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('sim board, ETSI caller ID before the first ring', () => {
  it('V.23: polarity reversal, dual-tone alert, then FSK that multimon-ng decodes, all before the first ring (German cadence)', async () => {
    const e = await startLineAgent('tone_plan = "de"\ncaller_id = "v23"');
    try {
      const t = await ringAndWatch(e, { number: '0301234567', name: 'Erika Muster' });
      expect((await (await fetch(e.api.url + '/api/status')).json()).lines[0].state).toBe('ringing');
      // The reversal comes first, and the line stays reversed until it rings.
      expect(t.reversedAt).toBe(0);
      expect(t.firstRingAt).toBeGreaterThan(0);
      expect(t.reversedUntilRing).toBe(true);

      const out = multimon(t.beforeRing, 'CLIPFSK');
      expect(out).toContain('CID=0301234567');
      expect(out).toContain('CNT=Erika Muster');
      expect(out).toContain('DATE=1124'); // the adapter's local date, month and day

      // Nothing is sent for the first 100 ms after the reversal (EN 300 659-1), then the 2130+2750 Hz alert comes
      // before any FSK (whose mark is 1300 Hz).
      const firstLoud = t.beforeRing.findIndex((v) => Math.abs(v) > 500);
      expect(firstLoud).toBeGreaterThanOrEqual(800 - 160);
      const alert = t.beforeRing.slice(firstLoud + 80, firstLoud + 720);
      expect(toneLevelDb(alert, 2130)).toBeGreaterThan(-30);
      expect(toneLevelDb(alert, 2750)).toBeGreaterThan(-30);
      expect(toneLevelDb(alert, 1300)).toBeLessThan(toneLevelDb(alert, 2130) - 20);

      // Then the German cadence: 1 s on, 4 s off.
      const phone = e.agent.board.sim!.phone(0);
      const ringing: number[] = [];
      for (let ms = 0; ms < 6000; ms += 250) {
        ringing.push(Number(phone.ringing));
        e.clock.advance(250);
      }
      expect(ringing.join('')).toBe('111100000000000000001111');
      expect(phone.polarityReversed).toBe(true);

      // Answering ends the ring and restores normal polarity.
      phone.setHook(true);
      e.clock.advance(200);
      expect(phone.ringing).toBe(false);
      expect(phone.polarityReversed).toBe(false);
      expect(e.agent.control.status().lines[0].state).toBe('connected');
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });

  it('DTMF caller ID: polarity reversal, then A<number>C that multimon-ng decodes, before the first ring', async () => {
    const e = await startLineAgent('tone_plan = "nl"\ncaller_id = "dtmf"');
    try {
      const t = await ringAndWatch(e, { number: '0201234567' });
      expect(t.reversedAt).toBe(0);
      expect(t.firstRingAt).toBeGreaterThan(0);
      expect(t.reversedUntilRing).toBe(true);
      const digits = [...multimon(t.beforeRing, 'DTMF').matchAll(/^DTMF: (.)$/gm)].map((m) => m[1]).join('');
      expect(digits).toBe('A0201234567C');
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });

  it('a withheld caller on a V.23 line: multimon-ng decodes the "private" reason (P) in place of number and name', async () => {
    const e = await startLineAgent('tone_plan = "fr"\ncaller_id = "v23"');
    try {
      const t = await ringAndWatch(e, { withheld: 'private' });
      expect(t.reversedAt).toBe(0);
      const out = multimon(t.beforeRing, 'CLIPFSK');
      expect(out).toContain('DATE=1124');
      expect(out).not.toContain('CID=');
      expect(out).toMatch(/RACLI=P/); // reason for the absent number: private
      expect(out).toMatch(/RACNT=P/); // and for the absent name
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });
});

describe('sim board, line keys from the config reach the line', () => {
  async function lineStatus(e: Awaited<ReturnType<typeof startLineAgent>>): Promise<{ state: string; digits: string }> {
    return (await (await fetch(e.api.url + '/api/status')).json()).lines[0];
  }

  it('tone_plan overrides: the dial tone and the off-hook warning written in the config are what the earpiece hears', async () => {
    const e = await startLineAgent('tone_plan = { base = "de", dial = "400+450", off_hook_warning = "1400/100,0/100" }');
    try {
      const phone = e.agent.board.sim!.phone(0);
      phone.setHook(true);
      e.clock.advance(1000);
      let last = e.ear().slice(-4000);
      expect(toneLevelDb(last, 400)).toBeGreaterThan(-30);
      expect(toneLevelDb(last, 450)).toBeGreaterThan(-30);
      expect(toneLevelDb(last, 425)).toBeLessThan(toneLevelDb(last, 400) - 20); // not the German 425 Hz it overrides
      // No digit within the first-digit timer (15 s): the howler, as overridden (1400 Hz alone).
      e.clock.advance(16_000);
      last = e.ear().slice(-4000);
      expect(toneLevelDb(last, 1400)).toBeGreaterThan(-25);
      expect(toneLevelDb(last, 2060)).toBeLessThan(-50);
      expect(toneLevelDb(last, 400)).toBeLessThan(-50);
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });

  it('pulse_map = "nz" and hook_flash = "eu": one dial pulse is the digit 9, and a 100 ms break is a flash', async () => {
    const e = await startLineAgent('tone_plan = "us"\ndial_plan = "xxxxxxxxxx"\npulse_map = "nz"\nhook_flash = "eu"\ndebounce_ms = 8');
    try {
      const phone = e.agent.board.sim!.phone(0);
      phone.setHook(true);
      e.clock.advance(500);
      // The simulated dial is a standard one: "1" is one break, which a New Zealand exchange reads as 9.
      const dialled = phone.pulseDial('12');
      e.clock.advance(3000);
      await dialled;
      expect(await lineStatus(e)).toMatchObject({ state: 'dialing', digits: '98' });
      // 100 ms on hook: inside the European flash window (70-125 ms); with the "na" preset it would be a pulse.
      const flashed = phone.flash(100);
      e.clock.advance(1000);
      await flashed;
      expect(await lineStatus(e)).toMatchObject({ state: 'dialtone', digits: '' });
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });

  it('the same 100 ms break on a "na" line is a dial pulse (the presets really differ)', async () => {
    const e = await startLineAgent('tone_plan = "us"\ndial_plan = "xxxxxxxxxx"\nhook_flash = "na"');
    try {
      const phone = e.agent.board.sim!.phone(0);
      phone.setHook(true);
      e.clock.advance(500);
      const flashed = phone.flash(100);
      e.clock.advance(1000);
      await flashed;
      expect(await lineStatus(e)).toMatchObject({ state: 'dialing', digits: '1' });
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });

  it('distinctive ring: Alert-Info Bellcore-dr2 rings long-long (0.8/0.4/0.8/4 s) instead of the country cadence', async () => {
    const e = await startLineAgent('tone_plan = "de"\ncaller_id = "off"');
    try {
      const phone = e.agent.board.sim!.phone(0);
      const r = await fetch(e.api.url + '/api/lines/0/ring', {
        method: 'POST',
        body: JSON.stringify({ number: '123', alert_info: '<http://127.0.0.1/Bellcore-dr2>' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(200);
      const ringing: number[] = [];
      for (let ms = 0; ms < 6000; ms += 200) {
        ringing.push(Number(phone.ringing));
        e.clock.advance(200);
      }
      // Sampled every 200 ms: 0.8 s on, 0.4 s off, 0.8 s on, 4 s off.
      expect(ringing.join('')).toBe('1111' + '00' + '1111' + '00000000000000000000');
      expect(phone.polarityReversed).toBe(false); // caller ID off: no reversal either
    } finally {
      await e.api.close();
      await e.agent.stop('test over');
    }
  });
});
