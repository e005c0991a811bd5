/**
 * Hotline (off-hook auto-dial) end to end, as a door phone or intercom uses it: `ata run` on the sim board with
 * `[[line]] hotline` pointing straight at a real far-end phone (Debian's baresip, direct IP, no SIP server), driven
 * through its HTTP API. Lifting the handset calls it with no digit dialled and no dial tone heard; baresip answers
 * and its tone reaches the earpiece.
 *
 * Real time: baresip runs on its own clock, so the test waits for conditions (log lines, baresip events, the
 * earpiece recording growing), each bounded, never for a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, loudestToneDb, simCallAgent, toneHeardDb, withPeerLogs, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { startDirectFarEnd, type Baresip } from '../support/baresip.js';

let agent: AgentProcess;
let door: Baresip;
let ear: EarpieceFile;
let phone: SimLineApi;
const DOOR_HZ = 1200;

beforeAll(async () => {
  let sipPort: number;
  ({ far: door, sipPort } = await startDirectFarEnd({ rtpPorts: '36000-36499', toneHz: DOOR_HZ, user: 'door', name: 'Front Door' }));
  const sim = await simCallAgent({ line: `hotline = "sip:door@127.0.0.1:${sipPort}"`, media: 'rtp_ports = "36500-36999"' });
  ({ agent, phone, ear } = sim);
  await sim.start();
}, 30_000);

afterAll(async () => {
  await door?.stop();
  await agent?.terminate();
});

describe('hotline to a real baresip, direct IP', () => {
  it('lifting the handset calls the hotline at once: no dial tone, no digits, the far end answers and is heard', async () => {
    const mark = agent.lines.length;
    const fromSample = ear.count();
    await phone.hook('off');
    const placing = await withPeerLogs(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'placing call'), 10_000), () => ({ baresip: door.output }));
    expect(placing.to).toMatch(/^sip:door@127\.0\.0\.1:\d+$/);
    await withPeerLogs(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call connected'), 20_000), () => ({ baresip: door.output }));
    await door.event('CALL_ESTABLISHED');
    expect(await phone.status()).toMatchObject({ state: 'connected', digits: '', call: { direction: 'out', remote: expect.stringContaining('sip:door@') } });

    // Two seconds of earpiece from the moment of lifting: the door's tone, and never the US dial tone (350+440 Hz).
    await ear.reaches(fromSample + 3 * 8000);
    const heard = ear.samples(fromSample, fromSample + 3 * 8000);
    expect(loudestToneDb(heard, 350, 1600)).toBeLessThan(-40);
    const lastSecond = heard.subarray(heard.length - 8000);
    expect(toneHeardDb(lastSecond, DOOR_HZ)).toBeGreaterThan(-20);

    const closed = door.events.length;
    await phone.hook('on');
    await door.event('CALL_CLOSED', 10_000, closed);
  }, 60_000);
});
