import { describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { KeepAlive, KeepAliveConfigError } from '../../src/sip/keepalive.js';

describe('KeepAlive', () => {
  it('sends CRLF every 80-100 % of the 25 s default interval, jittered', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const ka = new KeepAlive({ clock, random: seededRandom(9), sendCrlf: () => at.push(clock.now()) });
    ka.start();
    ka.start();
    clock.advance(250_000);
    expect(at.length).toBeGreaterThanOrEqual(10);
    expect(at.length).toBeLessThanOrEqual(12);
    const gaps = at.map((t, i) => t - (i === 0 ? 0 : at[i - 1]));
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(20_000);
      expect(g).toBeLessThanOrEqual(25_000);
    }
    expect(new Set(gaps).size).toBeGreaterThan(1);
    ka.stop();
    const n = at.length;
    clock.advance(100_000);
    expect(at).toHaveLength(n);
    expect(clock.pending).toBe(0);
  });

  it('other traffic to the peer postpones the next probe', () => {
    const clock = new FakeClock();
    let sent = 0;
    const ka = new KeepAlive({ clock, random: () => 1, intervalMs: 10_000, sendCrlf: () => sent++ });
    ka.start();
    clock.advance(9_000);
    ka.trafficSent();
    clock.advance(9_000);
    expect(sent).toBe(0);
    clock.advance(1_000);
    expect(sent).toBe(1);
  });

  it('OPTIONS mode reports the peer unreachable after missed answers, and an answer resets the count', () => {
    const clock = new FakeClock();
    const pending: Array<(ok: boolean) => void> = [];
    const reports: number[] = [];
    const ka = new KeepAlive({
      clock, random: seededRandom(3), mode: 'options', sendCrlf: () => { throw new Error('no CRLF in OPTIONS mode'); },
      sendOptions: (done) => pending.push(done), onUnreachable: (m) => reports.push(m),
    });
    ka.start();
    clock.advance(25_000);
    pending.shift()!(false);
    clock.advance(25_000);
    pending.shift()!(true);
    expect(reports).toEqual([]);
    clock.advance(25_000);
    pending.shift()!(false);
    clock.advance(25_000);
    pending.shift()!(false);
    expect(reports).toEqual([2]);
    ka.stop();
    pending.forEach((d) => d(false));
    expect(reports).toEqual([2]);
  });

  it('refuses an interval that would flood the server', () => {
    expect(() => new KeepAlive({ clock: new FakeClock(), random: Math.random, intervalMs: 10, sendCrlf: () => {} })).toThrow(KeepAliveConfigError);
    expect(() => new KeepAlive({ clock: new FakeClock(), random: Math.random, mode: 'options', sendCrlf: () => {} })).toThrow(KeepAliveConfigError);
  });
});
