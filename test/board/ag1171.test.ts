import { describe, expect, it } from 'vitest';
import { FakeClock, type Clock } from '../../hal/clock.js';
import { silentLog } from '../../hal/errors.js';
import { Ag1171Line } from '../../hal/drivers/ag1171-line.js';
import type { GpioInput, GpioOutput } from '../../hal/gpio.js';
import { createBoard } from '../../board/index.js';
import { BoardConfigError } from '../../hal/errors.js';

/** Pins that record what is written, on the clock (mocked GPIO: no chip here). */
function fakeOut(bcm: number, clock: Clock) {
  const writes: Array<[number, 0 | 1]> = [];
  const out: GpioOutput = { bcm, write: (v) => void writes.push([clock.now(), v]), close: async () => {} };
  return { out, writes };
}
function fakeIn(bcm: number) {
  let cb: ((v: 0 | 1, at: number) => void) | undefined;
  const input: GpioInput = { bcm, read: async () => 0, onEdge: (c) => void (cb = c), close: async () => {} };
  return { input, edge: (v: 0 | 1, at: number) => cb?.(v, at) };
}

describe('AG1171 line (mocked GPIO: no chip here)', () => {
  it('rings by toggling F/R every half cycle while RM is high (20 Hz: 25 ms), and restores polarity after', () => {
    const clock = new FakeClock();
    const shk = fakeIn(17);
    const rm = fakeOut(27, clock);
    const fr = fakeOut(22, clock);
    const line = new Ag1171Line(0, shk.input, rm.out, fr.out, 20, clock, silentLog);
    line.setRinging(true);
    clock.advance(1000);
    line.setRinging(false);
    expect(rm.writes).toEqual([
      [0, 1],
      [1000, 0],
    ]);
    const toggles = fr.writes.slice(0, -1);
    expect(toggles.length).toBe(40); // 20 cycles of two edges in one second
    expect(toggles.every(([t], i) => t === 25 * (i + 1))).toBe(true);
    expect(fr.writes[fr.writes.length - 1]).toEqual([1000, 1]); // forward polarity when ringing stops
  });

  it('polarity drives F/R outside ringing; SHK edges are hook edges (high = off hook)', () => {
    const clock = new FakeClock();
    const shk = fakeIn(17);
    const fr = fakeOut(22, clock);
    const line = new Ag1171Line(0, shk.input, fakeOut(27, clock).out, fr.out, 25, clock, silentLog);
    const edges: Array<[boolean, number]> = [];
    line.onHookEdge((off, at) => edges.push([off, at]));
    line.setPolarity(true);
    expect(fr.writes).toEqual([[0, 0]]);
    shk.edge(1, 10);
    shk.edge(0, 900);
    expect(edges).toEqual([
      [true, 10],
      [false, 900],
    ]);
  });

  it('board config errors name their key', async () => {
    const deps = { clock: new FakeClock(), log: silentLog, baseDir: '/tmp' };
    const e1 = await createBoard({ type: 'ag1171', ring_pins: [27] }, deps).catch((e: unknown) => e);
    expect((e1 as BoardConfigError).configKey).toBe('board.ring_pins');
    const e2 = await createBoard({ type: 'ag1171', hook_pin: 'seventeen' }, deps).catch((e: unknown) => e);
    expect((e2 as BoardConfigError).configKey).toBe('board.hook_pin');
    const e3 = await createBoard({ type: 'ag1171', audio_driver: 'pulse' }, deps).catch((e: unknown) => e);
    expect((e3 as BoardConfigError).configKey).toBe('board.audio_driver');
    const e4 = await createBoard({ type: 'pbx' }, deps).catch((e: unknown) => e);
    expect((e4 as BoardConfigError).configKey).toBe('board.type');
  });
});
