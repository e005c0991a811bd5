/**
 * `[media] dtmf = "info"` against a real far end: `ata run` on the sim board calls Debian's baresip directly; a digit
 * keyed on the sim phone (real DTMF tones into the mouthpiece, found by our detector) leaves as a SIP INFO with an
 * application/dtmf-relay body, and baresip, which reads such INFOs, reports the digit. No telephone-event is offered
 * in this mode, so the digit cannot have come as an RFC 4733 event, and baresip does not detect in-band tones.
 * Real time: the test waits for log lines and baresip events, each bounded, never for a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.js';
import { loggedAfter, simCallAgent, type SimLineApi } from '../support/call-audio.js';
import { startDirectFarEnd, type Baresip } from '../support/baresip.js';

let agent: AgentProcess;
let far: Baresip;
let phone: SimLineApi;

beforeAll(async () => {
  let farSip: number;
  ({ far, sipPort: farSip } = await startDirectFarEnd({ rtpPorts: '47500-47999', toneHz: 1000, vol: 0.1 }));
  const sim = await simCallAgent({
    line: `dial_plan = "xxxxxxxxxx"\nspeed_dial = { "11" = "sip:5551234@127.0.0.1:${farSip}" }`,
    media: 'rtp_ports = "47000-47499"\ndtmf = "info"',
  });
  ({ agent, phone } = sim);
  await sim.start();
}, 30_000);

afterAll(async () => {
  await far?.stop();
  await agent?.terminate();
});

describe('DTMF as SIP INFO with a real baresip far end', () => {
  it('a digit keyed in the call goes out as an INFO that baresip reads; no RFC 4733 event is sent', async () => {
    await phone.hook('off');
    const mark = agent.lines.length;
    expect(await phone.dial('11', 'pulse')).toBe(200);
    await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call connected'), 20_000);
    await far.event('CALL_ESTABLISHED');
    const keyed = far.events.length;
    expect(await phone.dial('7', 'dtmf')).toBe(200);
    const dtmf = await far.event('CALL_DTMF_START', 10_000, keyed);
    expect(dtmf.param).toBe('7');
    const info = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'INFO answered'));
    expect(info).toMatchObject({ digit: '7', status: 200 });
    await phone.hook('on');
    const media = await agent.waitForLog(loggedAfter(agent.lines, mark, (l) => l.msg === 'call media closed'));
    expect(media.events_sent).toBe(0);
    expect(media.sent as number).toBeGreaterThan(0);
    await far.event('CALL_CLOSED');
  }, 60_000);
});
