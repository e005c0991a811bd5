/**
 * The set-up of the tests with two calls at once (call waiting, transfer, conference): Alice and Bob as direct-IP
 * baresip far ends (startAliceAndBob) and `ata run` on the sim board whose line can call them, started before the
 * file's tests and stopped after them. The returned rig is filled in by the time the first test runs.
 */
import { afterAll, beforeAll } from 'vitest';
import type { AgentProcess } from './agent-process.js';
import { ALICE_HZ, BOB_HZ, startAliceAndBob, type Baresip } from './baresip.js';
import { simCallAgent, withPeerLogs, type EarpieceFile, type SimLineApi } from './call-audio.js';

export interface AliceAndBobRig {
  agent: AgentProcess;
  phone: SimLineApi;
  ear: EarpieceFile;
  agentSip: number;
  a: Baresip;
  b: Baresip;
  /** Awaits `p`; a failure carries both far ends' own logs. */
  all<T>(p: Promise<T>): Promise<T>;
  /** The earpiece's next second, once recorded (after `settle` s, for audio that just changed): each far end's tone level. */
  nextSecond(settle?: number): Promise<{ a: number; b: number }>;
}

export function aliceAndBobWithAgent(o: {
  /** Alice's and Bob's RTP ports: rtpBase..+999 (startAliceAndBob). */
  rtpBase: number;
  /** The agent's `[media] rtp_ports`, e.g. "33000-33999". */
  agentRtp: string;
  /** The `[[line]]` keys after `id = 0`, given Alice's and Bob's SIP ports. */
  line: (sipA: number, sipB: number) => string;
}): AliceAndBobRig {
  let stop = async (): Promise<void> => undefined;
  const rig = {
    all: <T>(p: Promise<T>): Promise<T> => withPeerLogs(p, () => ({ baresipA: rig.a.output, baresipB: rig.b.output })),
    nextSecond: (settle = 0) => rig.ear.nextSecondTones({ a: ALICE_HZ, b: BOB_HZ }, settle),
  } as AliceAndBobRig;
  beforeAll(async () => {
    const far = await startAliceAndBob(o.rtpBase);
    [rig.a, rig.b, stop] = [far.a, far.b, far.stop];
    const sim = await simCallAgent({ line: o.line(far.sipA, far.sipB), media: `rtp_ports = "${o.agentRtp}"` });
    [rig.agent, rig.phone, rig.ear, rig.agentSip] = [sim.agent, sim.phone, sim.ear, sim.sipPort];
    await sim.start();
  }, 30_000);
  afterAll(async () => {
    await stop();
    await rig.agent?.terminate();
  });
  return rig;
}
