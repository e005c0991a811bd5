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
import { describe, expect, it } from 'vitest';
import { loggedAfter, loudestToneDb } from '../support/call-audio.js';
import { aliceAndBobWithAgent } from '../support/alice-and-bob.js';

const BEEP_HZ = 440;

const rig = aliceAndBobWithAgent({
  rtpBase: 38000,
  agentRtp: '39000-39999',
  line: (sipA) => `dial_plan = "xxxxxxxxxx"\ncaller_id = "bell202"\nspeed_dial = { "11" = "sip:5550001@127.0.0.1:${sipA}" }`,
});

describe('call waiting with two real baresip far ends, direct IP', () => {
  it('a second call waits with the beep; flash answers it and holds the first; flash swaps; on hook rings for the held call', async () => {
    const mark = rig.agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean) => rig.agent.waitForLog(loggedAfter(rig.agent.lines, mark, pred), 20_000);
    await rig.phone.hook('off');
    expect(await rig.phone.dial('11', 'pulse')).toBe(200);
    await rig.all(after((l) => l.msg === 'call connected'));
    await rig.a.event('CALL_ESTABLISHED');
    const withA = await rig.nextSecond();
    expect(withA.a).toBeGreaterThan(-20);

    // B calls the busy line: it waits, B hears ringing (180), the phone hears the beep over A.
    const beforeB = rig.ear.count();
    rig.b.command('dial', `sip:pi-ata@127.0.0.1:${rig.agentSip}`);
    const waiting = await rig.all(after((l) => l.msg === 'incoming call: waiting'));
    expect(waiting).toMatchObject({ number: '5550002', name: 'Bob', waiting: true });
    await rig.b.event('CALL_RINGING');
    await rig.ear.reaches(beforeB + 2 * 8000);
    // The beep is 300 ms of 440 Hz at the start of a 10 s cadence: strong in the 50 ms blocks it covers.
    const around = rig.ear.samples(beforeB, beforeB + 2 * 8000);
    expect(loudestToneDb(around, BEEP_HZ, 2400, 400)).toBeGreaterThan(-25);
    expect(await rig.phone.status()).toMatchObject({ state: 'connected', call: { direction: 'out', remote: expect.stringContaining('5550001') }, other_call: { state: 'waiting', direction: 'in' } });

    // Flash: B is answered, A is held by our re-INVITE (baresip answers it: the call is held, not refused).
    await rig.phone.hook('flash');
    await rig.all(rig.b.event('CALL_ESTABLISHED'));
    const held = await rig.all(after((l) => l.msg === 'call held'));
    expect(held.direction).toBe('sendonly');
    const withB = await rig.nextSecond(1);
    expect(withB.b).toBeGreaterThan(-20);
    expect(withB.a).toBeLessThan(-40);
    expect(await rig.phone.status()).toMatchObject({ call: { direction: 'in' }, other_call: { state: 'held', direction: 'out', remote: expect.stringContaining('5550001') } });

    // Flash again: back to A, B held.
    const swapMark = rig.agent.lines.length;
    await rig.phone.hook('flash');
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, swapMark, (l) => l.msg === 'call retrieved'), 20_000));
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, swapMark, (l) => l.msg === 'call held'), 20_000));
    const backToA = await rig.nextSecond(1);
    expect(backToA.a).toBeGreaterThan(-20);
    expect(backToA.b).toBeLessThan(-40);

    // On hook: A is ended with a BYE; the phone rings for B, still on hold; off hook takes B back.
    const closedA = rig.a.events.length;
    await rig.phone.hook('on');
    await rig.a.event('CALL_CLOSED', 10_000, closedA);
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, swapMark, (l) => l.msg === 'line state' && l.to === 'ringing'), 10_000));
    const ringMark = rig.agent.lines.length;
    await rig.phone.hook('off');
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, ringMark, (l) => l.msg === 'call retrieved'), 20_000));
    expect(await rig.phone.status()).toMatchObject({ state: 'connected' });
    const retrievedB = await rig.nextSecond(1);
    expect(retrievedB.b).toBeGreaterThan(-20);

    const closedB = rig.b.events.length;
    await rig.phone.hook('on');
    await rig.b.event('CALL_CLOSED', 10_000, closedB);
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, ringMark, (l) => l.msg === 'line state' && l.to === 'idle'), 10_000));
    const [second, first] = await rig.phone.calls();
    expect(first).toMatchObject({ direction: 'out', remote: expect.stringContaining('5550001'), cause: 'normal' });
    expect(second).toMatchObject({ direction: 'in', remote: expect.stringContaining('5550002'), cause: 'normal' });
    expect(first.answered).not.toBeNull();
    expect(second.answered).not.toBeNull();
  }, 90_000);

  it('stopping the agent with one call up and one waiting ends both (BYE and 480) without ringing the phone', async () => {
    const mark = rig.agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean) => rig.agent.waitForLog(loggedAfter(rig.agent.lines, mark, pred), 20_000);
    const establishedA = rig.a.events.length;
    await rig.phone.hook('off');
    expect(await rig.phone.dial('11', 'pulse')).toBe(200);
    await rig.all(rig.a.event('CALL_ESTABLISHED', 20_000, establishedA));
    const ringingB = rig.b.events.length;
    rig.b.command('dial', `sip:pi-ata@127.0.0.1:${rig.agentSip}`);
    await rig.all(after((l) => l.msg === 'incoming call: waiting'));
    await rig.all(rig.b.event('CALL_RINGING', 10_000, ringingB));

    const stopMark = rig.agent.lines.length;
    const closedA = rig.a.events.length;
    const closedB = rig.b.events.length;
    expect(await rig.agent.terminate()).toBe(0);
    const byeA = await rig.all(rig.a.event('CALL_CLOSED', 10_000, closedA));
    const refusedB = await rig.all(rig.b.event('CALL_CLOSED', 10_000, closedB));
    expect(byeA.param).toBe('Connection reset by peer'); // baresip's words for a BYE received
    expect(String(refusedB.param)).toMatch(/^480/);
    const rung = rig.agent.lines.slice(stopMark).filter((l) => l.msg === 'line state' && l.to === 'ringing');
    expect(rung).toEqual([]);
  }, 60_000);
});
