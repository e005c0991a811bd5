/**
 * hal/native/precise-timer.c through PreciseTimer, and FrameClock waking by it, on the real kernel and the real
 * event loop (a timerfd is what is under test, so no fake clock can stand in). Each test waits for events, a timer
 * firing, never for a fixed time; deadlines are a few ms ahead. No figure of precision or cost is asserted here:
 * scripts/bench/media-clock.bench.mjs measures those.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../hal/clock.js';
import { FrameClock, FrameClockError, type FrameClockOptions } from '../../hal/frame-clock.js';
import { mediaIo, mediaIoMissing, type NativeTimerHandle } from '../../hal/media-io.js';
import { PreciseTimer } from '../../hal/precise-timer.js';

const modulePath = fileURLToPath(new URL('../../hal/native/build/Release/media_io.node', import.meta.url));

/** A PreciseTimer whose firings are recorded as systemClock times, and a promise of its next firing. */
function recorded() {
  const fired: number[] = [];
  let next: (() => void) | undefined;
  const timer = new PreciseTimer(mediaIo!, () => {
    fired.push(systemClock.now());
    next?.();
  });
  const nextFiring = (): Promise<void> => new Promise((resolve) => (next = resolve));
  return { timer, fired, nextFiring };
}

/** Runs `body` (plain JS, `io` bound to the module) in a worker thread; its exit code and the error it raised. */
function inWorker(body: string): Promise<{ code: number; error: Error | undefined }> {
  const code = `const io = require(${JSON.stringify(modulePath)});\n${body}`;
  return new Promise((resolve) => {
    const w = new Worker(code, { eval: true });
    let error: Error | undefined;
    w.on('error', (e) => (error = e));
    w.on('exit', (exitCode) => resolve({ code: exitCode, error }));
  });
}

describe.skipIf(!mediaIo)(`PreciseTimer on hal/native (skipped only when the module is not built: ${mediaIoMissing ?? 'it is'})`, () => {
  it('fires once when systemClock reaches the deadline, never before it, and not again until armed again', async () => {
    const { timer, fired, nextFiring } = recorded();
    const deadline = systemClock.now() + 5;
    const first = nextFiring();
    timer.armAt(deadline);
    await first;
    expect(fired[0]).toBeGreaterThanOrEqual(deadline);
    // A second timer armed later fires while the first has still fired only once.
    const other = recorded();
    const second = other.nextFiring();
    other.timer.armAt(systemClock.now() + 5);
    await second;
    expect(fired).toHaveLength(1);
    const again = nextFiring();
    timer.armAt(systemClock.now() + 1);
    await again;
    expect(fired).toHaveLength(2);
    timer.close();
    other.timer.close();
  });

  it('arming again replaces the deadline: re-armed earlier, it fires before a timer it was behind', async () => {
    const a = recorded();
    const b = recorded();
    const now = systemClock.now();
    a.timer.armAt(now + 60_000);
    b.timer.armAt(now + 10);
    const aFired = a.nextFiring();
    a.timer.armAt(now + 3);
    await aFired;
    expect(b.fired).toHaveLength(0);
    await b.nextFiring();
    expect(a.fired).toHaveLength(1);
    a.timer.close();
    b.timer.close();
  });

  it('arming again forgets an expiry already due but not yet delivered', async () => {
    const a = recorded();
    const b = recorded();
    a.timer.armAt(systemClock.now() - 1); // due at once: the kernel has counted the expiry before the loop polls it
    a.timer.armAt(systemClock.now() + 60_000);
    const later = b.nextFiring();
    b.timer.armAt(systemClock.now() + 5);
    await later;
    const evenLater = b.nextFiring();
    b.timer.armAt(systemClock.now() + 5);
    await evenLater;
    expect(a.fired).toHaveLength(0);
    a.timer.close();
    b.timer.close();
  });

  it('a timer may close itself from its own callback; a closed timer is an Error to arm, and closing twice is a no-op', async () => {
    const io = mediaIo!;
    let handle: NativeTimerHandle | undefined;
    const fired = new Promise<void>((resolve) => {
      handle = io.timerOpen(() => {
        io.timerClose(handle!);
        resolve();
      });
    });
    io.timerArm(handle!, io.monotonicMs());
    await fired;
    io.timerClose(handle!);
    expect(() => io.timerArm(handle!, io.monotonicMs())).toThrow(/closed/);
  });

  it('what is not a timer, or not a finite deadline, is a TypeError, not undefined behaviour', () => {
    const io = mediaIo!;
    const t = io.timerOpen(() => {});
    expect(() => io.timerArm({} as NativeTimerHandle, 1)).toThrow(TypeError);
    expect(() => io.timerArm(t, Number.NaN)).toThrow(TypeError);
    expect(() => io.timerArm(t, Number.POSITIVE_INFINITY)).toThrow(TypeError);
    expect(() => io.timerOpen(42 as unknown as () => void)).toThrow(TypeError);
    expect(() => io.timerClose('t' as unknown as NativeTimerHandle)).toThrow(TypeError);
    io.timerClose(t);
  });

  it('armed with a period it fires again and again, never before a deadline, each call given the periods that ended', async () => {
    const counts: number[] = [];
    const at: number[] = [];
    let done: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const timer = new PreciseTimer(mediaIo!, (expirations) => {
      counts.push(expirations);
      at.push(systemClock.now());
      if (counts.reduce((a, b) => a + b, 0) >= 6) done();
    });
    const first = systemClock.now() + 3;
    expect(timer.armEvery(first, 2)).toBe(true);
    await finished;
    timer.close();
    expect(counts.length).toBeGreaterThan(1); // armed once, it fired more than once
    let total = 0;
    for (let i = 0; i < counts.length; i++) {
      expect(counts[i]).toBeGreaterThanOrEqual(1);
      total += counts[i]!;
      expect(at[i]).toBeGreaterThanOrEqual(first + (total - 1) * 2); // the total-th deadline has passed
    }
  });

  it('armed with a period from a start long past, its first call counts every period that ended since (a late thread catches up by count)', async () => {
    let first = 0;
    let armedAt = 0;
    const firstCall = new Promise<number>((resolve) => {
      const timer = new PreciseTimer(mediaIo!, (expirations) => {
        timer.close();
        resolve(expirations);
      });
      armedAt = systemClock.now();
      first = armedAt - 100;
      timer.armEvery(first, 10);
    });
    const expirations = await firstCall;
    // Deadlines at first, first+10 ... up to the arming (first+100) have passed: 11, or a few more if the loop was slow.
    expect(expirations).toBeGreaterThanOrEqual(11);
    expect(expirations).toBeLessThanOrEqual(Math.floor((systemClock.now() - first) / 10) + 1);
  });

  it('a period that is not a number from 0.1 ms to 1e9 ms is a TypeError (a 0 would arm a one-shot, a tiny one a callback storm)', () => {
    const io = mediaIo!;
    const t = io.timerOpen(() => {});
    for (const period of [0, 0.01, -20, Number.NaN, Number.POSITIVE_INFINITY, '20' as unknown as number]) {
      expect(() => io.timerArm(t, io.monotonicMs() + 60_000, period)).toThrow(TypeError);
    }
    expect(io.timerArm(t, io.monotonicMs() + 60_000, undefined)).toBe(0); // no period: one-shot, as with two arguments
    expect(io.timerArm(t, io.monotonicMs() + 60_000, 20)).toBe(0);
    io.timerClose(t);
  });

  it('a callback that throws is an uncaught exception of its thread, as a throwing setTimeout callback would be', async () => {
    const { error } = await inWorker(`
      const t = io.timerOpen(() => { throw new Error('thrown in the timer'); });
      io.timerArm(t, io.monotonicMs());
      setTimeout(() => {}, 10000);`);
    expect(error?.message).toBe('thrown in the timer');
  });

  it('a thread that ends with its timer still armed, or is terminated, leaves no handle behind and exits cleanly', async () => {
    const ended = await inWorker(`io.timerArm(io.timerOpen(() => {}), io.monotonicMs() + 60000);`);
    expect(ended).toEqual({ code: 0, error: undefined });
    const w = new Worker(`const io = require(${JSON.stringify(modulePath)}); io.timerArm(io.timerOpen(() => {}), io.monotonicMs() + 60000); setInterval(() => {}, 1000); require('worker_threads').parentPort.postMessage('armed');`, { eval: true });
    await new Promise((resolve) => w.once('message', resolve));
    expect(await w.terminate()).toBe(1);
  });

  it('closing a timer gives its descriptor back: 500 opened and closed leave none behind', () => {
    const open = (): number => readdirSync('/proc/self/fd').length;
    const before = open();
    const timers = Array.from({ length: 500 }, () => new PreciseTimer(mediaIo!, () => {}));
    expect(open()).toBeGreaterThanOrEqual(before + 500);
    for (const t of timers) t.close();
    expect(open()).toBe(before);
  });

  it('a timer whose handle is dropped without closing is freed by the garbage collector (its descriptor given back)', () => {
    const script = `
      const fs = require('node:fs');
      const io = require(${JSON.stringify(modulePath)});
      const open = () => fs.readdirSync('/proc/self/fd').length;
      const before = open();
      for (let i = 0; i < 200; i++) io.timerArm(io.timerOpen(() => {}), io.monotonicMs() + 60000);
      const opened = open() - before;
      // N-API runs finalizers from the event loop after a collection, and a shut timer's handle is closed on a later
      // turn still. Collected twice, the second time from a fresh turn, when nothing on the stack can still point at
      // the last handle made; then looked at two turns later. No waiting for time.
      const turn = () => new Promise(setImmediate);
      (async () => {
        global.gc();
        await turn();
        global.gc();
        await turn();
        await turn();
        console.log(JSON.stringify({ opened, left: open() - before }));
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ opened: 200, left: 0 });
  });

  it('an armed timer does not keep the process alive (like an unref-ed setTimeout)', () => {
    const r = spawnSync(process.execPath, ['-e', `const io = require(${JSON.stringify(modulePath)}); io.timerArm(io.timerOpen(() => { process.exitCode = 3; }), io.monotonicMs() + 60000);`], { timeout: 20_000 });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr.toString() }).toEqual({ status: 0, signal: null, stderr: '' });
  });
});

/**
 * `count` ticks of a 4 ms FrameClock on systemClock, each with the time it came at and its deadline; the clock is
 * stopped from inside its last tick (so a timerfd is closed while its own callback runs).
 */
function tickUntil(count: number, options: FrameClockOptions) {
  const ticks: { n: number; at: number; due: number }[] = [];
  return new Promise<{ fc: FrameClock; ticks: typeof ticks }>((resolve) => {
    const fc = new FrameClock(
      systemClock,
      4,
      (n) => {
        ticks.push({ n, at: systemClock.now(), due: fc.deadlineOf(n) });
        if (ticks.length === count) (fc.stop(), resolve({ fc, ticks }));
      },
      options,
    );
    fc.start();
  });
}

describe.skipIf(!mediaIo)(`FrameClock on systemClock (skipped only when hal/native is not built: ${mediaIoMissing ?? 'it is'})`, () => {
  it.each(['timerfd', 'timer-and-futex'] as const)('waking by %s, frames come in order, none before its deadline, and any skipped is counted', async (wake) => {
    const { fc, ticks } = await tickUntil(10, { wake });
    expect(fc.wakeBy).toBe(wake);
    expect(fc.state).toBe('stopped');
    // A test runner that stalls this thread for more than maxBurst periods (12 ms here) makes the clock skip frames,
    // which is its catch-up policy, not a fault; what must hold is that each skipped frame is counted.
    const n = ticks.map((t) => t.n);
    for (let i = 1; i < n.length; i++) expect(n[i]!).toBeGreaterThan(n[i - 1]!);
    expect(fc.skippedFrames).toBe(n[n.length - 1]! + 1 - n.length);
    for (const t of ticks) expect(t.at).toBeGreaterThanOrEqual(t.due);
  });

  it('waking by timerfd, a tick reads no clock: the kernel counts the deadlines (nothing to box or re-arm per tick)', async () => {
    const realNow = systemClock.now.bind(systemClock);
    let reads = 0;
    const counting = Object.assign(Object.create(Object.getPrototypeOf(systemClock)), systemClock, { now: () => (reads++, realNow()) });
    // FrameClock treats only systemClock itself as the real clock, so the count is taken on systemClock's own method.
    const original = systemClock.now;
    systemClock.now = counting.now;
    try {
      let readsAtFirstTick = -1;
      const ticks = await new Promise<number>((resolve) => {
        let n = 0;
        const fc = new FrameClock(systemClock, 2, () => {
          if (++n === 1) readsAtFirstTick = reads;
          if (n === 8) (fc.stop(), resolve(n));
        }, { wake: 'timerfd' });
        fc.start();
        expect(fc.wakeBy).toBe('timerfd');
      });
      expect(ticks).toBe(8);
      expect(readsAtFirstTick).toBeGreaterThan(0); // the start reads it (start time, the timer's offset)
      expect(reads).toBe(readsAtFirstTick); // and no tick after that did
    } finally {
      systemClock.now = original;
    }
  });

  it('wakes by timerfd by default when the module is built; stopped and started again inside a tick, it goes on ticking', async () => {
    let ticks = 0;
    const fc: FrameClock = await new Promise((resolve) => {
      const clock = new FrameClock(systemClock, 4, () => {
        ticks++;
        if (ticks === 2) {
          clock.stop();
          clock.start();
        } else if (ticks === 4) {
          clock.stop();
          resolve(clock);
        }
      });
      clock.start();
    });
    expect(fc.wakeBy).toBe('timerfd');
    expect(ticks).toBe(4);
    expect(fc.frameIndex).toBe(2); // two frames after the restart, counted from 0 again
  });
});

describe('FrameClock when its timerfd fails (mock: running out of file descriptors, or a refused timerfd_settime, cannot be arranged here)', () => {
  it.each([
    [
      'cannot be made',
      {
        timerOpen: () => {
          throw new Error('media-io: timerfd_create failed');
        },
      },
    ],
    ['is refused when armed', { timerOpen: () => ({}) as NativeTimerHandle, timerArm: () => -22, timerClose: () => {} }],
  ])('that %s: it falls back to waking by timer and futex for good, and keeps ticking on time', async (_what, io) => {
    const failing = { monotonicMs: () => performance.now(), ...io } as NonNullable<typeof mediaIo>;
    const { fc, ticks } = await tickUntil(3, { wake: 'timerfd', io: failing });
    expect(fc.wakeBy).toBe('timer-and-futex');
    expect(ticks).toHaveLength(3);
    for (const t of ticks) expect(t.at).toBeGreaterThanOrEqual(t.due);
  });
});

describe('FrameClock wake on other clocks', () => {
  it("is undefined on an injected clock or with preciseMs 0, and 'timerfd' without the module is a FrameClockError", () => {
    expect(new FrameClock(new FakeClock(), 20, () => {}).wakeBy).toBeUndefined();
    expect(new FrameClock(systemClock, 20, () => {}, { preciseMs: 0 }).wakeBy).toBeUndefined();
    if (!mediaIo) expect(() => new FrameClock(systemClock, 20, () => {}, { wake: 'timerfd' })).toThrow(FrameClockError);
    else expect(new FrameClock(systemClock, 20, () => {}, { wake: 'timer-and-futex' }).wakeBy).toBe('timer-and-futex');
  });
});
