import { describe, expect, it } from 'vitest';
import { LoopClock } from '../../hal/loop-clock.js';

/** A LoopClock on a time line the test moves: the loop's owner sleeps until nextDeadline() and calls runDue(). */
function rig() {
  let t = 1000;
  const clock = new LoopClock(() => t);
  return { clock, moveTo: (ms: number) => (t = ms) };
}

describe('LoopClock', () => {
  it('fires nothing before a deadline and every due timer in deadline order, ties in the order set', () => {
    const { clock, moveTo } = rig();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    clock.setTimeout(() => fired.push('c'), 20);
    expect(clock.nextDeadline()).toBe(1010);
    moveTo(1009);
    clock.runDue();
    expect(fired).toEqual([]);
    moveTo(1020);
    clock.runDue();
    expect(fired).toEqual(['a', 'b', 'c']);
    expect(clock.nextDeadline()).toBe(Infinity);
  });

  it('fires in the same run a timer that a firing timer sets when it is already due, and not one that is not', () => {
    const { clock, moveTo } = rig();
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push('first');
      clock.setTimeout(() => fired.push('at once'), 0);
      clock.setTimeout(() => fired.push('later'), 5);
    }, 10);
    moveTo(1012);
    clock.runDue();
    expect(fired).toEqual(['first', 'at once']);
    expect(clock.nextDeadline()).toBe(1017);
  });

  it('does not fire a cleared timer, and a negative delay is due now', () => {
    const { clock, moveTo } = rig();
    const fired: string[] = [];
    const h = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('now'), -5);
    clock.clearTimeout(h);
    clock.clearTimeout(undefined);
    expect(clock.nextDeadline()).toBe(1000);
    moveTo(1100);
    clock.runDue();
    expect(fired).toEqual(['now']);
  });

  it('a NaN delay is a RangeError where it is set: as a deadline it would be due at every look and spin the loop', () => {
    const { clock } = rig();
    expect(() => clock.setTimeout(() => {}, Number.NaN)).toThrow(RangeError);
    expect(clock.nextDeadline()).toBe(Infinity);
  });
});
