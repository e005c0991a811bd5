/**
 * Calls through a SIP server, as a user with an account has them: a real Kamailio as registrar and proxy (407 on
 * INVITE, qop=auth, Record-Route, lookup of the callee's binding), `ata run` on the sim board registered as 100,
 * and Debian's baresip registered as 200 with auto answer.
 *
 * (a) The sim phone dials 200: the agent's INVITE is challenged, sent again with credentials, relayed to baresip,
 *     which answers; RTP flows both ways; on hook sends a BYE along the Record-Route (through the proxy).
 * (b) baresip dials 100: Kamailio routes it to the agent's binding, the sim phone rings, off hook answers, baresip
 *     hangs up through the proxy and the line disconnects.
 *
 * Real time: Kamailio and baresip run on their own clocks, so the test waits for conditions (log lines, baresip
 * events, Kamailio counters, the earpiece recording growing), each bounded, never for a fixed time.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, simCallAgent, withPeerLogs, soxSamples, soxTone, toneHeardDb, toneLevelDb, until, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { Baresip, freeBaresipPorts } from '../support/baresip.js';
import { Kamailio } from '../support/kamailio.js';

let kam: Kamailio;
let agent: AgentProcess;
let far: Baresip;
let ear: EarpieceFile;
let phone: SimLineApi;

const MOUTH_HZ = 700;
const FAR_HZ = 1000;

const all3 = <T>(p: Promise<T>): Promise<T> => withPeerLogs(p, () => ({ baresip: far.output, kamailio: kam.stderr }));

beforeAll(async () => {
  kam = new Kamailio({ users: { '100': 'secret100', '200': 'secret200' }, proxy: true });
  await kam.start();
  const sim = await simCallAgent({
    extra: `[[account]]\nline = 0\nuser = "100"\npassword = "secret100"\ndomain = "127.0.0.1"\nregistrar = "${kam.uri}"\nexpires = 60\naccept_from = "proxy"\n`,
    line: 'dial_plan = "xxx"\ncaller_id = "off"',
    media: 'rtp_ports = "43000-43999"',
    audioIn: 'mouth.wav',
  });
  ({ agent, phone, ear } = sim);
  soxTone(join(agent.dir, 'mouth.wav'), MOUTH_HZ, 2, 0.05);
  far = new Baresip({
    ...(await freeBaresipPorts()),
    rtpPorts: '44000-44999',
    account: `"Far End" <sip:200@127.0.0.1:${kam.port}>;auth_pass=secret200;regint=60;answermode=auto`,
    sourceWav: join(agent.dir, 'far.wav'),
  });
  soxTone(join(agent.dir, 'far.wav'), FAR_HZ, 20);
  await far.start();
  await sim.start();
  await agent.waitForLog((l) => l.msg === 'registration' && l.registered === true);
  // baresip registers before its ctrl_tcp connection is up, so its REGISTER_OK event may never reach us: ask Kamailio.
  await until(async () => (await kam.contacts('200')).length === 1 && (await kam.contacts('100')).length === 1, 'both users registered');
}, 30_000);

afterAll(async () => {
  await far?.stop();
  await agent?.terminate();
  await kam?.dispose();
});

describe('calls through a real Kamailio proxy (407 challenge, Record-Route) with a registered baresip', () => {
  it('the sim phone dials 200: challenged, relayed to baresip, answered, audio flows, on hook BYE through the proxy', async () => {
    const challenged = await kam.counter('invite-challenged');
    await phone.hook('off');
    const mark = agent.lines.length;
    // Rotary pulses: the mouthpiece carries its own tone, which would mask DTMF.
    expect(await phone.dial('200', 'pulse')).toBe(200);
    const placing = await all3(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'placing call'), 20_000));
    expect(placing.to).toBe('sip:200@127.0.0.1');
    await all3(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call connected'), 20_000));
    await far.event('CALL_ESTABLISHED');
    expect(await phone.status()).toMatchObject({ state: 'connected', call: { direction: 'out', codec: 'PCMU' } });
    // Kamailio answered the first INVITE with 407, relayed the one with credentials, and the ACK of the 200
    // came back to it (the agent honoured the Record-Route).
    expect(await kam.counter('invite-challenged')).toBe(challenged + 1);
    expect(await kam.counter('initial-INVITE')).toBeGreaterThanOrEqual(1);
    await all3(until(async () => (await kam.counter('dialog-ACK')) >= 1, 'the ACK of the 200 through the proxy'));
    const connectedAt = ear.count();
    await until(() => ear.count() >= connectedAt + 2 * 8000, 'two seconds of call in the earpiece');

    const byes = await kam.counter('dialog-BYE');
    const events = far.events.length;
    await phone.hook('on');
    await all3(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'BYE answered' && l.status === 200)));
    await far.event('CALL_CLOSED', 10_000, events);
    expect(await kam.counter('dialog-BYE')).toBe(byes + 1);
    const media = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call media closed'));
    expect(media.sent as number).toBeGreaterThan(80);
    expect(media.received as number).toBeGreaterThan(80);
    expect(await phone.status()).toMatchObject({ state: 'idle', call: null });

    const heardByFar = soxSamples(far.decodedWav()!);
    expect(heardByFar.length).toBeGreaterThan(8000);
    expect(toneLevelDb(heardByFar.subarray(4000, 8000), MOUTH_HZ)).toBeGreaterThan(-35);
    const heardHere = ear.samples(connectedAt + 4000, connectedAt + 12000);
    expect(toneHeardDb(heardHere, FAR_HZ)).toBeGreaterThan(-20);
  }, 60_000);

  it('baresip dials 100: Kamailio routes it to the agent, the phone rings, off hook answers, baresip hangs up', async () => {
    const mark = agent.lines.length;
    const events = far.events.length;
    const initial = await kam.counter('initial-INVITE');
    const acks = await kam.counter('dialog-ACK');
    far.command('dial', `sip:100@127.0.0.1:${kam.port}`);
    const incoming = await all3(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'incoming call')));
    expect(incoming).toMatchObject({ line: 0, number: '200', name: 'Far End' });
    expect(await kam.counter('initial-INVITE')).toBe(initial + 1);
    await far.event('CALL_RINGING', 10_000, events);
    expect((await phone.status()).state).toBe('ringing');

    await phone.hook('off');
    await far.event('CALL_ESTABLISHED', 10_000, events);
    expect(await phone.status()).toMatchObject({ state: 'connected', call: { direction: 'in', codec: 'PCMU' } });
    await all3(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'ACK received: call confirmed')));
    // baresip's ACK came along the route set our 200 gave it (its Record-Route), through Kamailio.
    expect(await kam.counter('dialog-ACK')).toBe(acks + 1);
    const connectedAt = ear.count();
    await until(() => ear.count() >= connectedAt + 2 * 8000, 'two seconds of call in the earpiece');
    const farLevel = toneHeardDb(ear.samples(connectedAt + 4000, connectedAt + 12000), FAR_HZ);

    const byes = await kam.counter('dialog-BYE');
    far.command('hangup');
    await all3(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call ended' && l.kind === 'remote-bye')));
    expect(await kam.counter('dialog-BYE')).toBe(byes + 1);
    expect((await phone.status()).state).toBe('disconnected');
    await phone.hook('on');
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'line state' && l.to === 'idle'));
    expect(await phone.status()).toMatchObject({ state: 'idle', hook: 'on', call: null });
    const media = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call media closed'));
    expect(media.received as number).toBeGreaterThan(50);
    expect(media.sent as number).toBeGreaterThan(50);
    expect(farLevel).toBeGreaterThan(-20);
  }, 60_000);
});
