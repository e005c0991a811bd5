import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { silentLog } from '../../hal/errors.js';
import { createBoard } from '../../board/index.js';
import { HookDetector, type HookEvent } from '../../src/phone/hook-detector.js';
import { detectDtmf } from '../../src/media/dtmf-detector.js';
import { generateDtmf } from '../../src/media/dtmf-generator.js';


/** The sim board's line 0 with the real HookDetector listening to its hook edges. */
async function boardWithHookDetector() {
  const clock = new FakeClock();
  const board = await createBoard({ type: 'sim' }, { clock, log: silentLog, baseDir: '/tmp' });
  const hook = new HookDetector(clock);
  const events: HookEvent[] = [];
  hook.onEvent((e) => events.push(e));
  board.lines[0].line.onHookEdge((off, at) => hook.edge(off, at));
  return { clock, board, hook, events, phone: board.sim!.phone(0) };
}

/** Runs the fake clock's timers one by one until none are left (or 20 s of fake time have passed). */
function runTimers(clock: FakeClock): void {
  for (let i = 0; i < 10_000 && clock.step(); i++) {
    if (clock.now() > 20_000) break;
  }
}

describe('sim board with the real detectors', () => {
  it('pulse dialing on the simulated hook switch decodes to its digits in the HookDetector', async () => {
    const { clock, board, hook, events, phone } = await boardWithHookDetector();
    clock.advance(100);
    phone.setHook(true);
    clock.advance(1000);
    const dialed = phone.pulseDial('305');
    runTimers(clock);
    await dialed;
    expect(events[0].type).toBe('off-hook');
    expect(events.filter((e) => e.type === 'digit').map((e) => (e as { digit: string }).digit)).toEqual(['3', '0', '5']);
    expect(events.some((e) => e.type === 'on-hook' || e.type === 'flash')).toBe(false);
    hook.close();
    await board.close();
  });

  it('pulse dialing asked for in the same instant as the lift still gives off-hook and every digit: the first break waits for the inter-digit pause after the lift', async () => {
    const { clock, board, hook, events, phone } = await boardWithHookDetector();
    clock.advance(100);
    phone.setHook(true);
    const dialed = phone.pulseDial('11');
    runTimers(clock);
    await dialed;
    expect(events.map((e) => (e.type === 'digit' ? `digit:${e.digit}` : e.type))).toEqual(['off-hook', 'digit:1', 'digit:1']);
    expect(events[0]).toMatchObject({ type: 'off-hook', atMs: 100 });
    hook.close();
    await board.close();
  });

  it('DTMF injected into the mouthpiece comes out of the capture frames and decodes', async () => {
    const clock = new FakeClock();
    const board = await createBoard({ type: 'sim' }, { clock, log: silentLog, baseDir: '/tmp' });
    const audio = board.lines[0].audio;
    const captured: number[] = [];
    audio.onFrame((f) => captured.push(...f));
    await audio.start();
    board.sim!.phone(0).setHook(true);
    board.sim!.phone(0).injectMouthpiece(generateDtmf('5#9'));
    clock.advance(2000);
    expect(detectDtmf(Int16Array.from(captured))).toBe('5#9');
    await board.close();
  });
});
