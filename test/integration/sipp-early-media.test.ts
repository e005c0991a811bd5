/**
 * Early media against a real far end, dialled as an IP address on the keypad (127*0*0*1*PORT#, the default dial
 * plan): SIPp (Debian's sip-tester) runs test/fixtures/sipp/early-media-uas.xml,
 * which answers our INVITE with 183 Session Progress and SDP, streams a 1 kHz tone (mu-law, made by sox) before
 * any answer, as carriers do with their ringback and announcements, and answers 200 three seconds later. The sim
 * phone must hear that tone, not our own ringback (US: 440 + 480 Hz), while the line is still in ringback; after
 * the 200 the same stream carries the call. (baresip 1.0's `answermode=early` sends a 183 but no audio, so it
 * cannot be this far end.)
 * Real time: the test waits for log lines, SIPp's exit and the earpiece recording to grow, each bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, simCallAgent, toneHeardDb, toneLevelDb, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { freeUdpPort } from '../support/kamailio.js';
import { startSipp, type Sipp } from '../support/sipp.js';

const FAR_HZ = 1000;
let agent: AgentProcess;
let phone: SimLineApi;
let ear: EarpieceFile;
let sipp: Sipp;
let farSip = 0;

beforeAll(async () => {
  farSip = await freeUdpPort();
  // The default dial plan: SIPp is dialled as an IP address typed with stars, no server and no speed dial.
  const sim = await simCallAgent({ line: 'caller_id = "off"', media: 'rtp_ports = "45500-45999"' });
  ({ agent, phone, ear } = sim);
  sipp = await startSipp({ scenario: 'early-media-uas.xml', dir: agent.dir, sipPort: farSip, toneHz: FAR_HZ });
  await sim.start();
}, 30_000);

afterAll(async () => {
  sipp?.kill();
  await agent?.terminate();
});

describe('early media from a real SIPp far end', () => {
  it('a 183 with SDP plays the far end\'s audio instead of our ringback; the 200 keeps the same stream', async () => {
    await phone.hook('off');
    const mark = agent.lines.length;
    // 127*0*0*1*PORT#: the # dials at once and is not part of the address.
    expect(await phone.dial(`127*0*0*1*${farSip}#`, 'dtmf')).toBe(200);
    const placing = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'placing call'), 20_000);
    expect(placing.to).toBe(`sip:127.0.0.1:${farSip}`);
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
    expect(await sipp.exit, sipp.output()).toBe(0);
  }, 60_000);
});
