/**
 * Calls end to end against a real far-end phone (Debian's baresip), no SIP server: `ata run` on the sim board as a
 * child process, driven through its HTTP API, and baresip on loopback driven through ctrl_tcp.
 *
 * (1) The sim phone dials a speed-dial code that names baresip's direct-IP URI; baresip answers by itself; a tone
 *     played into the sim mouthpiece is in baresip's recording and baresip's tone is in the sim earpiece; baresip
 *     holds and resumes the call; on hook sends a BYE that baresip answers.
 * (2) baresip calls the agent; the sim phone rings with the caller ID of baresip's From (decoded by minimodem from
 *     the earpiece), off hook answers, audio flows, baresip hangs up and the line goes idle once the phone is hung up.
 *
 * Both ways the agent can make its call media sockets: on hal/native (read once per frame; the default when the C
 * module is built) and on Node's dgram (PI_ATA_NATIVE=off, as on a machine with no compiler).
 *
 * Real time: RTP from baresip runs on its own clock, so the test waits for conditions (log lines, baresip events,
 * the earpiece recording growing), each bounded, never for a fixed time.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, simCallAgent, withPeerLogs, soxSamples, soxTone, toneHeardDb, toneLevelDb, until, type EarpieceFile, type SimLineApi } from '../support/call-audio.js';
import { startDirectFarEnd, type Baresip } from '../support/baresip.js';
import { mediaIo } from '../../dist/hal/media-io.js';

const MOUTH_HZ = 700;
const FAR_HZ = 1000;

const socketKinds = [...(mediaIo ? [{ sockets: 'native', env: {} }] : []), { sockets: 'node:dgram', env: { PI_ATA_NATIVE: 'off' } }];

describe.each(socketKinds)('calls with a real baresip far end, direct IP, call media on $sockets sockets', ({ sockets, env }) => {
  let agent: AgentProcess;
  let far: Baresip;
  let agentSip = 0;
  let ear: EarpieceFile;
  let phone: SimLineApi;

  const both = <T>(p: Promise<T>): Promise<T> => withPeerLogs(p, () => ({ baresip: far.output }));

  beforeAll(async () => {
    let farSip: number;
    ({ far, sipPort: farSip } = await startDirectFarEnd({ rtpPorts: '41000-41999', toneHz: FAR_HZ }));
    const sim = await simCallAgent({
      line: `dial_plan = "xxxxxxxxxx"\ncaller_id = "bell202"\nspeed_dial = { "11" = "sip:5551234@127.0.0.1:${farSip}" }`,
      media: 'rtp_ports = "42000-42999"',
      audioIn: 'mouth.wav',
      env,
    });
    ({ agent, phone, ear, sipPort: agentSip } = sim);
    // Quiet enough (-26 dBFS) that DTMF keyed over it is still recognised.
    soxTone(join(agent.dir, 'mouth.wav'), MOUTH_HZ, 2, 0.05);
    await sim.start();
    const running = await agent.waitForLog((l) => l.msg === 'agent running');
    expect(String(running.media_sockets)).toMatch(new RegExp(`^${sockets}`));
  }, 30_000);

  afterAll(async () => {
    await far?.stop();
    await agent?.terminate();
  });

  it('the sim phone dials the speed-dial code, baresip answers, audio flows both ways, on hook sends BYE', async () => {
    await phone.hook('off');
    const mark = agent.lines.length;
    // Rotary pulses on the hook switch: the mouthpiece is busy with its own tone, which would mask DTMF.
    expect(await phone.dial('11', 'pulse')).toBe(200);
    await both(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call connected'), 20_000));
    await far.event('CALL_ESTABLISHED');
    expect(await phone.status()).toMatchObject({ state: 'connected', call: { direction: 'out', codec: 'PCMU' } });
    // baresip's 180 came before its 200: the line went through ringback.
    expect(agent.lines.some(loggedAfter(agent.lines, mark, (l) => l.msg === 'line state' && l.to === 'ringback'))).toBe(true);
    const connectedAt = ear.count();
    await ear.reaches(connectedAt + 2 * 8000);
    // The status shows the call's media figures as they stand: two seconds of baresip's stream have come.
    const live = (await phone.status()).call?.quality;
    expect(live?.packets_received).toBeGreaterThan(50);
    expect(live?.packets_sent).toBeGreaterThan(50);
    // A digit keyed in the call goes out as an RFC 4733 event (both sides offered telephone-event).
    const keyed = far.events.length;
    expect(await phone.dial('5', 'dtmf')).toBe(200);
    const dtmf = await far.event('CALL_DTMF_START', 10_000, keyed);
    expect(dtmf.param).toBe('5');
    // baresip puts the call on hold (re-INVITE, a=sendonly): we answer recvonly and stop sending; resume undoes it.
    far.command('hold');
    const held = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call on hold: our audio stops'));
    expect(held).toMatchObject({ direction: 'recvonly', held: true });
    far.command('resume');
    const resumed = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call resumed: our audio goes out again'));
    expect(resumed).toMatchObject({ direction: 'sendrecv', held: false });
    // Two more seconds of the call after the resume, so audio has gone both ways again before the checks below.
    await ear.reaches(ear.count() + 2 * 8000);
    await ear.reaches(connectedAt + 3 * 8000);
    await phone.hook('on');
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'BYE answered' && l.status === 200));
    await far.event('CALL_CLOSED');
    const media = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call media closed'));
    expect(media.sent as number).toBeGreaterThan(100);
    expect(media.events_sent).toBe(1);
    expect(media.received as number).toBeGreaterThan(100);
    expect(await phone.status()).toMatchObject({ state: 'idle', call: null });
    // The call log keeps the figures as they stood at the end (RTT only if baresip's RTCP report came in time).
    const [logged] = await phone.calls();
    expect(logged).toMatchObject({ direction: 'out', cause: 'normal' });
    expect(logged!.quality!.packets_received).toBeGreaterThan(100);
    expect(logged!.quality!.packets_sent).toBeGreaterThan(100);
    expect(logged!.quality!.packets_lost).toBe(0);
    expect(logged!.quality!.jitter_ms).toBeGreaterThanOrEqual(0);
    expect(logged!.quality!.jitter_ms).toBeLessThan(20);
    expect(logged!.quality!.rtt_ms === null || logged!.quality!.rtt_ms >= 0).toBe(true);

    // What baresip heard is our mouthpiece tone; what our earpiece heard (after the answer) is baresip's tone.
    const heardByFar = soxSamples(far.decodedWav()!);
    expect(heardByFar.length).toBeGreaterThan(2 * 8000);
    const middle = heardByFar.subarray(8000, 2 * 8000);
    expect(toneLevelDb(middle, MOUTH_HZ)).toBeGreaterThan(-35);
    expect(toneLevelDb(middle, FAR_HZ)).toBeLessThan(-40);
    const heardHere = ear.samples(connectedAt + 8000, connectedAt + 2 * 8000);
    expect(toneHeardDb(heardHere, FAR_HZ)).toBeGreaterThan(-20);
    expect(toneLevelDb(heardHere, MOUTH_HZ)).toBeLessThan(-40);
  }, 60_000);

  it('baresip calls the agent: the phone rings with caller ID, off hook answers, baresip hangs up', async () => {
    const mark = agent.lines.length;
    const events = far.events.length;
    far.command('dial', `sip:pi-ata@127.0.0.1:${agentSip}`);
    const incoming = await both(agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'incoming call')));
    expect(incoming).toMatchObject({ number: '5551234', name: 'Far End' });
    const ringStart = ear.count();
    await far.event('CALL_RINGING', 10_000, events);
    expect((await phone.status()).state).toBe('ringing');
    // Bell 202 caller ID goes out between the first and second ring (2 s on, then 0.5 s, then about 0.5 s of FSK).
    await ear.reaches(ringStart + 4 * 8000);
    const cid = ear.samples(ringStart, ear.count());
    const wav = join(agent.dir, 'cid.wav');
    const raw = join(agent.dir, 'cid.raw');
    execFileSync('sh', ['-c', 'cat > "$0"', raw], { input: Buffer.from(cid.buffer, cid.byteOffset, cid.byteLength) });
    execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', raw, wav]);
    const decoded = execFileSync('minimodem', ['--rx', '-q', '-f', wav, 'callerid'], { encoding: 'utf8' });
    expect(decoded).toContain('5551234');
    expect(decoded).toContain('Far End');

    await phone.hook('off');
    await far.event('CALL_ESTABLISHED', 10_000, events);
    expect(await phone.status()).toMatchObject({ state: 'connected', call: { direction: 'in', codec: 'PCMU' } });
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'ACK received: call confirmed'));
    const connectedAt = ear.count();
    await ear.reaches(connectedAt + 2 * 8000);
    const farLevel = toneHeardDb(ear.samples(connectedAt + 4000, connectedAt + 12000), FAR_HZ);

    far.command('hangup');
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call ended' && l.kind === 'remote-bye'));
    expect((await phone.status()).state).toBe('disconnected');
    await phone.hook('on');
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'line state' && l.to === 'idle'));
    expect(await phone.status()).toMatchObject({ state: 'idle', hook: 'on', call: null });
    const media = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call media closed'));
    expect(media.received as number).toBeGreaterThan(50);
    expect(farLevel).toBeGreaterThan(-20);
    // An answered incoming call has its figures in the call log too.
    const [logged] = await phone.calls();
    expect(logged).toMatchObject({ direction: 'in' });
    expect(logged!.quality!.packets_received).toBeGreaterThan(50);
  }, 60_000);

  it('a call to a line that is off hook gets 486 Busy Here', async () => {
    await phone.hook('off');
    await agent.waitForLog((l) => l.msg === 'line state' && l.to === 'dialtone' && agent.lines.indexOf(l) > agent.lines.length - 5);
    const events = far.events.length;
    far.command('dial', `sip:pi-ata@127.0.0.1:${agentSip}`);
    const closed = await far.event('CALL_CLOSED', 10_000, events);
    expect(String(closed.param)).toContain('486');
    expect((await phone.status()).state).toBe('dialtone');
    await phone.hook('on');
  }, 30_000);
});
