/**
 * ThreeWayCalling's transfer outcome on fake time, with the call layer it needs reduced to its slots: the REFER
 * goes to a recording transaction layer (the test answers it), and the transferee's NOTIFYs arrive as `progress`.
 * The wire and the real phones are in test/integration/call-transfer.test.ts; this covers what they cannot make
 * happen: a transferee that cannot reach the target, one that says nothing, a REFER refused.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import type { CallDesk, CallSlot, LineCall } from '../../src/call/line-call.js';
import { TRANSFER_OUTCOME_MS, ThreeWayCalling } from '../../src/call/three-way-calling.js';
import { createLogger } from '../../src/log.js';
import type { FxsPort } from '../../src/phone/fxs-port.js';
import type { InviteSession } from '../../src/sip/invite-session.js';
import type { SipResponse } from '../../src/sip/message.js';
import type { TransactionLayer } from '../../src/sip/transaction-layer.js';

function rig(ringBack = true) {
  const clock = new FakeClock();
  const events: string[] = [];
  const refers: Array<{ to: string; answer(status: number): void }> = [];
  const port = {
    id: 0,
    controller: { transferDone: (outcome: string) => (events.push(`line ${outcome}`), outcome === 'refused' && ringBack) },
  } as unknown as FxsPort;
  const call = (name: string, target?: string): LineCall => {
    const dialog = {
      createRequest: (method: string, headers: Array<[string, string]>) => ({ method, headers, name }),
    };
    const session = { state: 'confirmed', dialog, hangUp: () => events.push(`hang up ${name}`) };
    return { port, session: session as unknown as InviteSession, media: null, abandoned: false, ...(target ? { target } : {}) };
  };
  const calls: CallSlot = new Map();
  const others: CallSlot = new Map();
  const transactions = {
    sendRequest: (req: { headers: Array<[string, string]> }, h: { onFinal(res: SipResponse): void }) => {
      refers.push({ to: req.headers.find(([n]) => n === 'Refer-To')![1], answer: (status) => h.onFinal({ status } as SipResponse) });
    },
  } as unknown as TransactionLayer;
  const desk = {
    log: createLogger({ level: 'silent' }),
    clock,
    userAgent: 'test',
    transactions,
    calls,
    others,
    end: (slot: CallSlot, c: LineCall) => {
      if (slot.get(c.port.id) === c) slot.delete(c.port.id);
      c.session?.hangUp();
    },
    promoteOther: (id: number) => {
      const o = others.get(id);
      if (o) (others.delete(id), calls.set(id, o), events.push('rung for the held call'));
    },
    contactUri: () => 'sip:pi-ata@127.0.0.1:5060',
    logHold: () => undefined,
  } as unknown as CallDesk;
  const threeWay = new ThreeWayCalling(desk);
  // A in the earpiece, then a flash (consult: A held), then B called and answered.
  const a = call('A');
  const b = call('B', 'sip:b@192.0.2.9');
  calls.set(0, a);
  threeWay.consult(port);
  calls.set(0, b);
  return { clock, events, refers, threeWay, port, a, b, calls, others };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('ThreeWayCalling transfer outcome (fake time)', () => {
  it('hanging up ends our call to B first, then REFERs A to B; a 2xx NOTIFY ends our call to A as transferred', async () => {
    const { threeWay, port, events, refers, a } = rig();
    threeWay.transfer(port);
    expect(events).toEqual(['hang up B']);
    expect(refers.map((r) => r.to)).toEqual(['<sip:b@192.0.2.9>']);
    refers[0].answer(202);
    await tick();
    expect(events).toEqual(['hang up B']); // accepted, but our call to A waits for A's word
    threeWay.progress(a, 100);
    expect(events).toEqual(['hang up B']);
    threeWay.progress(a, 200);
    expect(events).toEqual(['hang up B', 'line accepted', 'hang up A']);
  });

  it('a NOTIFY saying A could not reach B rings the phone for A, and A stays up', async () => {
    const { threeWay, port, events, refers, a, calls, others } = rig();
    threeWay.transfer(port);
    refers[0].answer(202);
    await tick();
    threeWay.progress(a, 486);
    expect(events).toEqual(['hang up B', 'line refused', 'rung for the held call']);
    expect(calls.get(0)).toBe(a);
    expect(others.size).toBe(0);
  });

  it('a refused REFER is the same failure; with the line busy again by then, A is ended instead', async () => {
    const { threeWay, port, events, refers } = rig(false);
    threeWay.transfer(port);
    refers[0].answer(603);
    await tick();
    expect(events).toEqual(['hang up B', 'line refused', 'hang up A']);
  });

  it(`a transferee that says nothing after its 202 is taken at its word after ${TRANSFER_OUTCOME_MS} ms`, async () => {
    const { threeWay, port, events, refers, clock } = rig();
    threeWay.transfer(port);
    refers[0].answer(202);
    await tick();
    clock.advance(TRANSFER_OUTCOME_MS - 1);
    expect(events).toEqual(['hang up B']);
    clock.advance(1);
    expect(events).toEqual(['hang up B', 'line accepted', 'hang up A']);
  });

  it('a consultation call we did not place (no target URI) cannot be transferred to: the phone is rung for A', () => {
    const r = rig();
    delete r.b.target;
    r.threeWay.transfer(r.port);
    expect(r.refers).toEqual([]);
    expect(r.events).toEqual(['hang up B', 'line refused', 'rung for the held call']);
  });
});
