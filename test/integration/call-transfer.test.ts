/**
 * Transfer by hook flash end to end, against two real far-end phones (Debian's baresip, direct IP, no SIP server):
 * `ata run` on the sim board, driven through its HTTP API.
 *
 * The sim phone calls baresip A. A flash holds A (our re-INVITE with a=sendonly) and gives dial tone; the phone
 * dials baresip B, which answers: the earpiece hears B's tone. Hanging up hands A over to B: our call to B ends,
 * A gets our REFER (RFC 3515) naming B and calls B itself, and our call to A ends once A's NOTIFY says B answered. B ends up in a
 * call with A (its peer is A's address), and the call log has both of our calls as transferred.
 *
 * Then a three-way conference: a flash once B answered joins A back in; the earpiece hears both, and B hears A
 * through our mix (baresip's own recording of what it heard); a flash hangs up B and the phone is back with A.
 *
 * Then a consultation whose far end hangs up: hanging up rings the phone for the held call, and picking up brings
 * its audio back (the held call left its slot for the earpiece's; before, picking up gave silence).
 *
 * Real time: baresip runs on its own clock, so the test waits for conditions (log lines, baresip events, the
 * earpiece recording growing), each bounded, never for a fixed time.
 */
import { describe, expect, it } from 'vitest';
import { loggedAfter, loudestToneDb, soxSamples } from '../support/call-audio.js';
import { ALICE_HZ as A_HZ } from '../support/baresip.js';
import { aliceAndBobWithAgent } from '../support/alice-and-bob.js';

const rig = aliceAndBobWithAgent({
  rtpBase: 34000,
  agentRtp: '33000-33999',
  line: (sipA, sipB) => `dial_plan = "xxxxxxxxxx"\nspeed_dial = { "11" = "sip:5550001@127.0.0.1:${sipA}", "12" = "sip:5550002@127.0.0.1:${sipB}" }`,
});

type After = (pred: (l: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;

/** The phone calls A; a flash holds A; the phone calls B, which answers: a consultation call, as a user makes one. */
async function consultB(after: After): Promise<void> {
  const establishedA = rig.a.events.length;
  await rig.phone.hook('off');
  expect(await rig.phone.dial('11', 'pulse')).toBe(200);
  await rig.all(rig.a.event('CALL_ESTABLISHED', 20_000, establishedA));
  await rig.phone.hook('flash');
  await after((l) => l.msg === 'call held');
  const establishedB = rig.b.events.length;
  expect(await rig.phone.dial('12', 'pulse')).toBe(200);
  await rig.all(rig.b.event('CALL_ESTABLISHED', 20_000, establishedB));
}

describe('transfer by hook flash with two real baresip far ends, direct IP', () => {
  it('flash holds A and gives dial tone; the phone calls B; hanging up REFERs A to B, and A and B are in a call', async () => {
    const mark = rig.agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean) => rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, mark, pred), 20_000));
    await rig.phone.hook('off');
    expect(await rig.phone.dial('11', 'pulse')).toBe(200);
    await after((l) => l.msg === 'call connected');
    await rig.all(rig.a.event('CALL_ESTABLISHED'));

    // Flash: A is held (baresip answers our sendonly re-INVITE), the phone hears dial tone and calls B.
    await rig.phone.hook('flash');
    const held = await after((l) => l.msg === 'call held');
    expect(held.direction).toBe('sendonly');
    expect(await rig.phone.status()).toMatchObject({ state: 'dialtone', call: null, other_call: { state: 'held', remote: expect.stringContaining('5550001') } });
    const bMark = rig.agent.lines.length;
    expect(await rig.phone.dial('12', 'pulse')).toBe(200);
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, bMark, (l) => l.msg === 'call connected'), 20_000));
    const withB = await rig.nextSecond(1);
    expect(withB.b).toBeGreaterThan(-20);
    expect(withB.a).toBeLessThan(-40);

    // On hook: our call to B ends, A is REFERred to B and accepts; A calls B, and our call to A ends.
    const incomingB = rig.b.events.length;
    const closedA = rig.a.events.length;
    await rig.phone.hook('on');
    const transferring = await after((l) => l.msg === 'transferring the held call');
    expect(transferring.to).toMatch(/^sip:5550002@127\.0\.0\.1:\d+$/);
    const accepted = await after((l) => l.msg === 'transfer accepted');
    expect(accepted.status).toBe(202);
    // Our call to A ends only once A's NOTIFY says B answered it (RFC 5589 6.1).
    const done = await after((l) => l.msg === 'transfer done');
    expect(done.outcome).toBe(200);
    await rig.all(rig.a.event('CALL_CLOSED', 10_000, closedA));
    // B's next call comes from A itself, not from us.
    const fromA = await rig.all(rig.b.event('CALL_ESTABLISHED', 20_000, incomingB));
    expect(String(fromA.peeruri)).toContain('5550001');
    expect(await rig.phone.status()).toMatchObject({ state: 'idle', call: null, other_call: null });

    const [consultation, original] = await rig.phone.calls();
    expect(original).toMatchObject({ direction: 'out', remote: expect.stringContaining('5550001'), cause: 'transferred' });
    expect(consultation).toMatchObject({ direction: 'out', remote: expect.stringContaining('5550002'), cause: 'transferred' });
  }, 90_000);

  it('a flash once B answered makes a three-way conference: the phone hears A and B, B hears A; a flash drops B', async () => {
    // B is still in the call from A that the transfer made: end it first.
    const transferredClosed = rig.a.events.length;
    rig.b.command('hangup');
    await rig.all(rig.a.event('CALL_CLOSED', 10_000, transferredClosed));
    const mark = rig.agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean) => rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, mark, pred), 20_000));
    await consultB(after);

    await rig.phone.hook('flash');
    await after((l) => l.msg === 'conference');
    const joined = await after((l) => l.msg === 'call joined');
    expect(joined.direction).toBe('sendrecv');
    expect(await rig.phone.status()).toMatchObject({ state: 'connected', call: { remote: expect.stringContaining('5550002') }, other_call: { state: 'conference', remote: expect.stringContaining('5550001') } });
    const both = await rig.nextSecond(1);
    expect(both.a).toBeGreaterThan(-20);
    expect(both.b).toBeGreaterThan(-20);

    // Flash: B is hung up, A is the call again, alone in the earpiece.
    const closedB = rig.b.events.length;
    await rig.phone.hook('flash');
    await rig.all(rig.b.event('CALL_CLOSED', 10_000, closedB));
    const aAlone = await rig.nextSecond(1);
    expect(aAlone.a).toBeGreaterThan(-20);
    expect(aAlone.b).toBeLessThan(-40);

    const closedA = rig.a.events.length;
    await rig.phone.hook('on');
    await rig.all(rig.a.event('CALL_CLOSED', 10_000, closedA));
    // What B heard (baresip's recording of its call with us, closed by our BYE): A's tone, which only our mix can
    // have put there: A and B never called each other in this test. (A's own recording stops at our hold re-INVITE.)
    const heardByB = soxSamples(rig.b.decodedWav()!);
    expect(loudestToneDb(heardByB, A_HZ, 4000)).toBeGreaterThan(-25);
  }, 90_000);

  it('the consultation\'s far end hangs up: hanging up rings for the held call, and picking up brings its audio back', async () => {
    const mark = rig.agent.lines.length;
    const after = (pred: (l: Record<string, unknown>) => boolean, ms = 20_000) => rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, mark, pred), ms));
    await consultB(after);

    rig.b.command('hangup');
    await after((l) => l.msg === 'line state' && l.to === 'disconnected');
    await rig.phone.hook('on');
    await after((l) => l.msg === 'line state' && l.to === 'ringing', 10_000);
    const ringMark = rig.agent.lines.length;
    await rig.phone.hook('off');
    await rig.all(rig.agent.waitForLog(loggedAfter(rig.agent.lines, ringMark, (l) => l.msg === 'call retrieved'), 20_000));
    const backToA = await rig.nextSecond(1);
    expect(backToA.a).toBeGreaterThan(-20);
    const closedA = rig.a.events.length;
    await rig.phone.hook('on');
    await rig.all(rig.a.event('CALL_CLOSED', 10_000, closedA));
  }, 90_000);
});
