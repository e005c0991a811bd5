/**
 * A late offer against a real caller: SIPp (Debian's sip-tester) runs test/fixtures/sipp/late-offer-uac.xml and
 * sends `ata run` an INVITE without SDP, as some PBXs do after a transfer. The sim phone rings; lifting it answers
 * with our offer in the 200; SIPp's ACK carries the answer and the stream points at SIPp's port only then; SIPp's
 * 1 kHz tone reaches the earpiece and SIPp hangs up with a BYE. Before this, such an INVITE was refused with 488.
 * A caller whose ACK then lacks the answer gets a BYE at once (late-offer-no-answer-uac.xml).
 * Real time: the test waits for log lines, the line state, SIPp's exit and the earpiece recording, each bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, simCallAgent, toneHeardDb, until, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { freeUdpPort } from '../support/kamailio.js';
import { startSipp, type Sipp } from '../support/sipp.js';

const FAR_HZ = 1000;
let agent: AgentProcess;
let phone: SimLineApi;
let ear: EarpieceFile;
let sipp: Sipp | undefined;
let agentSip = 0;

beforeAll(async () => {
  const sim = await simCallAgent({ line: 'caller_id = "off"', media: 'rtp_ports = "48000-48499"' });
  ({ agent, phone, ear, sipPort: agentSip } = sim);
  await sim.start();
}, 30_000);

afterAll(async () => {
  sipp?.kill();
  await agent?.terminate();
});

describe('an INVITE without SDP from a real SIPp caller', () => {
  it('rings; off hook sends our offer in the 200; the ACK\'s answer starts the stream; SIPp\'s BYE ends the call', async () => {
    const mark = agent.lines.length;
    sipp = await startSipp({ scenario: 'late-offer-uac.xml', dir: agent.dir, sipPort: await freeUdpPort(), toneHz: FAR_HZ, remote: `127.0.0.1:${agentSip}`, service: 'pi-ata' });
    await until(async () => (await phone.status()).state === 'ringing', 'the line to ring', 10_000);
    await phone.hook('off');
    const acked = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'late offer answered in the ACK'), 10_000);
    expect(acked.codec).toBe('PCMU');
    expect(acked.remote).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    const answeredAt = ear.count();
    await ear.reaches(answeredAt + 2 * 8000);
    expect(toneHeardDb(ear.samples(answeredAt + 8000, answeredAt + 2 * 8000), FAR_HZ)).toBeGreaterThan(-25);
    expect(await sipp.exit, sipp.output()).toBe(0);
    const media = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call media closed'));
    expect(media.sent as number).toBeGreaterThan(50);
    expect(media.received as number).toBeGreaterThan(50);
    expect((await phone.status()).state).toBe('disconnected');
    await phone.hook('on');
    // Held down past the hook-flash window, the switch is a hang-up.
    await until(async () => (await phone.status()).state === 'idle', 'the line to go idle', 10_000);
  }, 60_000);

  it('an ACK without the answer is met with a BYE: the call cannot have audio', async () => {
    const mark = agent.lines.length;
    sipp = await startSipp({ scenario: 'late-offer-no-answer-uac.xml', dir: agent.dir, sipPort: await freeUdpPort(), toneHz: FAR_HZ, remote: `127.0.0.1:${agentSip}`, service: 'pi-ata' });
    await until(async () => (await phone.status()).state === 'ringing', 'the line to ring', 10_000);
    await phone.hook('off');
    const warned = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'late offer: no usable answer in the ACK, hanging up'), 10_000);
    expect(warned.err).toBe('the ACK has no SDP answer');
    // SIPp's scenario ends with our BYE answered: it exits 0 only if the BYE came.
    expect(await sipp.exit, sipp.output()).toBe(0);
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'BYE answered' && l.status === 200));
    expect((await phone.status()).state).toBe('disconnected');
    await phone.hook('on');
    await until(async () => (await phone.status()).state === 'idle', 'the line to go idle', 10_000);
  }, 60_000);
});
