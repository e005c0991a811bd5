/**
 * Early media against a real far end: SIPp (Debian's sip-tester) runs test/fixtures/sipp/early-media-uas.xml,
 * which answers our INVITE with 183 Session Progress and SDP, streams a 1 kHz tone (mu-law, made by sox) before
 * any answer, as carriers do with their ringback and announcements, and answers 200 three seconds later. The sim
 * phone must hear that tone, not our own ringback (US: 440 + 480 Hz), while the line is still in ringback; after
 * the 200 the same stream carries the call. (baresip 1.0's `answermode=early` sends a 183 but no audio, so it
 * cannot be this far end.)
 * Real time: the test waits for log lines, SIPp's exit and the earpiece recording to grow, each bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, REPO } from '../support/agent-process.js';
import { EarpieceFile, loggedAfter, SimLineApi, toneHeardDb, toneLevelDb } from '../support/call-audio.js';
import { freeUdpPort } from '../support/kamailio.js';

const FAR_HZ = 1000;
const SIPP = '/usr/bin/sipp';
const SCENARIO = join(REPO, 'test/fixtures/sipp/early-media-uas.xml');
let agent: AgentProcess;
let phone: SimLineApi;
let ear: EarpieceFile;
let sipp: ChildProcess;
let sippOut = '';
let sippExit: Promise<number | null>;

beforeAll(async () => {
  if (!existsSync(SIPP)) throw new Error(`${SIPP} is missing: apt-get install sip-tester (.ci/run does)`);
  const farSip = await freeUdpPort();
  const agentSip = await freeUdpPort();
  const apiPort = await freeUdpPort();
  const mediaPort = await freeUdpPort();
  agent = new AgentProcess(
    `[sip]\nlisten = "127.0.0.1:${agentSip}"\nkeepalive = "off"\n` +
      `[[line]]\nid = 0\ndial_plan = "xxxxxxxxxx"\nspeed_dial = { "11" = "sip:far@127.0.0.1:${farSip}" }\n` +
      `[media]\nrtp_ports = "45500-45999"\n` +
      `[board]\ntype = "sim"\naudio_out = "ear.wav"\n` +
      `[api]\nlisten = "127.0.0.1:${apiPort}"\n[log]\nlevel = "info"\n`,
  );
  phone = new SimLineApi(`http://127.0.0.1:${apiPort}`);
  ear = new EarpieceFile(join(agent.dir, 'ear.wav'));
  const sox = spawnSync('sox', ['-D', '-n', '-r', '8000', '-c', '1', '-e', 'mu-law', '-t', 'raw', join(agent.dir, 'far.ul'), 'synth', '10', 'sine', String(FAR_HZ), 'vol', '0.3']);
  if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr}`);
  copyFileSync(SCENARIO, join(agent.dir, 'uas.xml'));
  sipp = spawn(SIPP, ['-sf', 'uas.xml', '-i', '127.0.0.1', '-p', String(farSip), '-mi', '127.0.0.1', '-mp', String(mediaPort), '-m', '1', '-nostdin', '-trace_err'], { cwd: agent.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  sipp.stdout!.on('data', (d) => (sippOut = (sippOut + d).slice(-4000)));
  sipp.stderr!.on('data', (d) => (sippOut = (sippOut + d).slice(-4000)));
  sippExit = new Promise((r) => sipp.once('exit', (code) => r(code)));
  agent.start();
  await agent.waitForLog((l) => l.msg === 'api listening');
}, 30_000);

afterAll(async () => {
  if (sipp && sipp.exitCode === null) sipp.kill('SIGKILL');
  await agent?.terminate();
});

describe('early media from a real SIPp far end', () => {
  it('a 183 with SDP plays the far end\'s audio instead of our ringback; the 200 keeps the same stream', async () => {
    await phone.hook('off');
    const mark = agent.lines.length;
    expect(await phone.dial('11', 'pulse')).toBe(200);
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'early media' && l.status === 183), 20_000);
    expect((await phone.status()).state).toBe('ringback');
    const earlyAt = ear.count();
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call connected'), 10_000);
    const connectedAt = ear.count();
    // SIPp answers 3 s after its 183: at least 2 s of early media, of which the middle second is checked.
    expect(connectedAt - earlyAt).toBeGreaterThan(2 * 8000);
    const early = ear.samples(earlyAt + 4000, earlyAt + 12000);
    expect(toneHeardDb(early, FAR_HZ)).toBeGreaterThan(-25);
    expect(toneLevelDb(early, 440)).toBeLessThan(-40);
    expect(toneLevelDb(early, 480)).toBeLessThan(-40);

    expect((await phone.status()).state).toBe('connected');
    await ear.reaches(connectedAt + 8000);
    expect(toneHeardDb(ear.samples(connectedAt, connectedAt + 8000), FAR_HZ)).toBeGreaterThan(-25);
    await phone.hook('on');
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'BYE answered' && l.status === 200));
    // SIPp exits 0 when its one call went through the whole scenario.
    expect(await sippExit, sippOut).toBe(0);
  }, 60_000);
});
