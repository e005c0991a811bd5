/**
 * Message waiting end to end: SIPp (Debian's sip-tester) plays a voicemail server sending `ata run` (sim board)
 * unsolicited message-summary NOTIFYs, as Asterisk and FreePBX do (test/fixtures/sipp/mwi-*-uac.xml). The wrong
 * ones get 489 (another event package) and 400 (a summary that does not parse); the right one gets 200, the status
 * API shows the counts, and lifting the handset gives stutter dial tone (the US plan: ten 100 ms bursts, then steady).
 * A NOTIFY saying the messages were heard brings steady dial tone back.
 *
 * Real time: the test waits for SIPp's exit, the API and the earpiece recording, each bounded, never a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { simCallAgent, toneHeardDb, until, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { freeUdpPort } from '../support/kamailio.js';
import { startSipp } from '../support/sipp.js';

let agent: AgentProcess;
let phone: SimLineApi;
let ear: EarpieceFile;
let agentSip = 0;

beforeAll(async () => {
  const sim = await simCallAgent({ line: 'caller_id = "off"', media: 'rtp_ports = "35000-35499"' });
  ({ agent, phone, ear, sipPort: agentSip } = sim);
  await sim.start();
}, 30_000);

afterAll(async () => {
  await agent?.terminate();
});

async function voicemailSends(scenario: string): Promise<void> {
  const sipp = await startSipp({ scenario, dir: agent.dir, sipPort: await freeUdpPort(), toneHz: 1000, remote: `127.0.0.1:${agentSip}`, service: 'pi-ata' });
  expect(await sipp.exit, sipp.output()).toBe(0);
}

/**
 * Lifts the handset and reads two seconds of dial tone from its first sound: how many of its 50 ms blocks are
 * silent (a stutter's gaps), then hangs up.
 */
async function silentBlocksInDialTone(): Promise<number> {
  const from = ear.count();
  await phone.hook('off');
  await ear.reaches(from + 3 * 8000);
  const x = ear.samples(from, from + 3 * 8000);
  const loud = (at: number): boolean => toneHeardDb(x.subarray(at, at + 400), 440) > -30;
  let start = 0;
  while (start + 400 <= x.length && !loud(start)) start += 80;
  expect(start + 16000).toBeLessThanOrEqual(x.length); // the tone started within the first second
  let silent = 0;
  for (let at = start; at + 400 <= start + 16000; at += 400) if (!loud(at)) silent++;
  await phone.hook('on');
  await until(async () => (await phone.status()).state === 'idle', 'the line to go idle', 10_000);
  return silent;
}

describe('message waiting from a voicemail server (SIPp)', () => {
  it('wrong NOTIFYs are refused; the right one sets the counts and stutter dial tone; "no" brings dial tone back', async () => {
    expect(await phone.status()).toMatchObject({ message_waiting: false, voice_messages: null });
    expect(await silentBlocksInDialTone()).toBe(0);

    await voicemailSends('mwi-set-uac.xml');
    expect(await phone.status()).toMatchObject({ message_waiting: true, voice_messages: { new: 2, old: 8 } });
    // Ten 100 ms bursts with 100 ms gaps fill the two seconds: about half of the 40 blocks are silent.
    expect(await silentBlocksInDialTone()).toBeGreaterThanOrEqual(12);

    await voicemailSends('mwi-clear-uac.xml');
    expect(await phone.status()).toMatchObject({ message_waiting: false, voice_messages: { new: 0, old: 10 } });
    expect(await silentBlocksInDialTone()).toBe(0);
  }, 60_000);
});
