/**
 * Call waiting and hook flash end to end, against two real far-end phones (Debian's baresip, direct IP, no SIP
 * server): `ata run` on the sim board, driven through its HTTP API.
 *
 * The sim phone calls baresip A; baresip B calls the agent while that call is up. B hears ringing, the phone hears
 * the call-waiting beep (440 Hz, US plan) over A's audio. A hook flash answers B and holds A (our re-INVITE with
 * a=sendonly, answered by baresip A); the earpiece hears B's tone instead of A's. A second flash swaps back. On
 * hook ends A and rings the phone for B, which was on hold; off hook takes B back; on hook ends B. The call log
 * has both calls, answered, ended normally.
 *
 * Then the agent is stopped (SIGTERM) with A in the earpiece and B waiting: A gets a BYE, B a 480, the phone is not
 * rung for B on the way out, and the agent exits 0.
 *
 * Real time: baresip's RTP runs on its own clock, so the test waits for conditions (log lines, baresip events,
 * the earpiece recording growing), each bounded, never for a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, loudestToneDb, simCallAgent, withPeerLogs, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { ALICE_HZ as A_HZ, BOB_HZ as B_HZ, startAliceAndBob, type Baresip } from '../support/baresip.js';

let agent: AgentProcess;
let farA: Baresip;
let farB: Baresip;
let stopFarEnds = async (): Promise<void> => undefined;
let agentSip = 0;
let ear: EarpieceFile;
let phone: SimLineApi;

const BEEP_HZ = 440;

const all = <T>(p: Promise<T>): Promise<T> => withPeerLogs(p, () => ({ baresipA: farA.output, baresipB: farB.output }));

beforeAll(async () => {
  const { a, b, sipA, stop } = await startAliceAndBob(38000);
  [farA, farB, stopFarEnds] = [a, b, stop];
  const sim = await simCallAgent({
    line: `dial_plan = "xxxxxxxxxx"\ncaller_id = "bell202"\nspeed_dial = { "11" = "sip:5550001@127.0.0.1:${sipA}" }`,
    media: 'rtp_ports = "39000-39999"',
  });
  ({ agent, phone, ear, sipPort: agentSip } = sim);
  await sim.start();
}, 30_000);

afterAll(async () => {
  await stopFarEnds();
  await agent?.terminate();
});

/** The earpiece's next second, once recorded (after `settle` s, for audio that just changed): each far end's tone level. */
const nextSecond = (settle = 0) => ear.nextSecondTones({ a: A_HZ, b: B_HZ }, settle);

describe('call waiting with two real baresip far ends, direct IP', () => {
  it('a second call waits with the beep; flash answers it and holds the first; flash swaps; on hook rings for the held call', async () => {
    const mark = agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean) => agent.waitForLog(loggedAfter(agent.lines, mark, pred), 20_000);
    await phone.hook('off');
    expect(await phone.dial('11', 'pulse')).toBe(200);
    await all(after((l) => l.msg === 'call connected'));
    await farA.event('CALL_ESTABLISHED');
    const withA = await nextSecond();
    expect(withA.a).toBeGreaterThan(-20);

    // B calls the busy line: it waits, B hears ringing (180), the phone hears the beep over A.
    const beforeB = ear.count();
    farB.command('dial', `sip:pi-ata@127.0.0.1:${agentSip}`);
    const waiting = await all(after((l) => l.msg === 'incoming call: waiting'));
    expect(waiting).toMatchObject({ number: '5550002', name: 'Bob', waiting: true });
    await farB.event('CALL_RINGING');
    await ear.reaches(beforeB + 2 * 8000);
    // The beep is 300 ms of 440 Hz at the start of a 10 s cadence: strong in the 50 ms blocks it covers.
    const around = ear.samples(beforeB, beforeB + 2 * 8000);
    expect(loudestToneDb(around, BEEP_HZ, 2400, 400)).toBeGreaterThan(-25);
    expect(await phone.status()).toMatchObject({ state: 'connected', call: { direction: 'out', remote: expect.stringContaining('5550001') }, other_call: { state: 'waiting', direction: 'in' } });

    // Flash: B is answered, A is held by our re-INVITE (baresip answers it: the call is held, not refused).
    await phone.hook('flash');
    await all(farB.event('CALL_ESTABLISHED'));
    const held = await all(after((l) => l.msg === 'call held'));
    expect(held.direction).toBe('sendonly');
    const withB = await nextSecond(1);
    expect(withB.b).toBeGreaterThan(-20);
    expect(withB.a).toBeLessThan(-40);
    expect(await phone.status()).toMatchObject({ call: { direction: 'in' }, other_call: { state: 'held', direction: 'out', remote: expect.stringContaining('5550001') } });

    // Flash again: back to A, B held.
    const swapMark = agent.lines.length;
    await phone.hook('flash');
    await all(agent.waitForLog(loggedAfter(agent.lines, swapMark, (l) => l.msg === 'call retrieved'), 20_000));
    await all(agent.waitForLog(loggedAfter(agent.lines, swapMark, (l) => l.msg === 'call held'), 20_000));
    const backToA = await nextSecond(1);
    expect(backToA.a).toBeGreaterThan(-20);
    expect(backToA.b).toBeLessThan(-40);

    // On hook: A is ended with a BYE; the phone rings for B, still on hold; off hook takes B back.
    const closedA = farA.events.length;
    await phone.hook('on');
    await farA.event('CALL_CLOSED', 10_000, closedA);
    await all(agent.waitForLog(loggedAfter(agent.lines, swapMark, (l) => l.msg === 'line state' && l.to === 'ringing'), 10_000));
    const ringMark = agent.lines.length;
    await phone.hook('off');
    await all(agent.waitForLog(loggedAfter(agent.lines, ringMark, (l) => l.msg === 'call retrieved'), 20_000));
    expect(await phone.status()).toMatchObject({ state: 'connected' });
    const retrievedB = await nextSecond(1);
    expect(retrievedB.b).toBeGreaterThan(-20);

    const closedB = farB.events.length;
    await phone.hook('on');
    await farB.event('CALL_CLOSED', 10_000, closedB);
    await all(agent.waitForLog(loggedAfter(agent.lines, ringMark, (l) => l.msg === 'line state' && l.to === 'idle'), 10_000));
    const [second, first] = await phone.calls();
    expect(first).toMatchObject({ direction: 'out', remote: expect.stringContaining('5550001'), cause: 'normal' });
    expect(second).toMatchObject({ direction: 'in', remote: expect.stringContaining('5550002'), cause: 'normal' });
    expect(first.answered).not.toBeNull();
    expect(second.answered).not.toBeNull();
  }, 90_000);

  it('stopping the agent with one call up and one waiting ends both (BYE and 480) without ringing the phone', async () => {
    const mark = agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean) => agent.waitForLog(loggedAfter(agent.lines, mark, pred), 20_000);
    const establishedA = farA.events.length;
    await phone.hook('off');
    expect(await phone.dial('11', 'pulse')).toBe(200);
    await all(farA.event('CALL_ESTABLISHED', 20_000, establishedA));
    const ringingB = farB.events.length;
    farB.command('dial', `sip:pi-ata@127.0.0.1:${agentSip}`);
    await all(after((l) => l.msg === 'incoming call: waiting'));
    await all(farB.event('CALL_RINGING', 10_000, ringingB));

    const stopMark = agent.lines.length;
    const closedA = farA.events.length;
    const closedB = farB.events.length;
    expect(await agent.terminate()).toBe(0);
    const byeA = await all(farA.event('CALL_CLOSED', 10_000, closedA));
    const refusedB = await all(farB.event('CALL_CLOSED', 10_000, closedB));
    expect(byeA.param).toBe('Connection reset by peer'); // baresip's words for a BYE received
    expect(String(refusedB.param)).toMatch(/^480/);
    const rung = agent.lines.slice(stopMark).filter((l) => l.msg === 'line state' && l.to === 'ringing');
    expect(rung).toEqual([]);
  }, 60_000);
});
