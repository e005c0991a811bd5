/**
 * hal/native/wakeup-slice.c through setWakeupSlice, on the real kernel: each case runs in a worker thread of its own,
 * so the slice it asks for belongs to that thread and the test runner's threads keep theirs. A thread's slice is
 * read back from outside as the kernel shows it (se.slice in /proc/<pid>/task/<tid>/sched), not only as the call
 * reports it. What the slice does for a clock under load is measured by scripts/bench/media-clock.bench.mjs, never
 * asserted here.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EINVAL, EPERM, ESRCH, mediaIo, mediaIoMissing, type MediaIo } from '../../hal/media-io.js';
import { describeWakeupSlice, PACKET_CLOCK_SLICE_US, setWakeupSlice, SLICE_MAX_US, SLICE_MIN_US } from '../../hal/wakeup-slice.js';
import { ownThreadSlicesNs as threadSlices } from '../support/sched-slice.js';

const modulePath = fileURLToPath(new URL('../../hal/native/build/Release/media_io.node', import.meta.url));

/**
 * Runs `body` (plain JS, `io` bound to the module, `report(value)` to hand a value back) in a worker thread, which
 * then waits to be told to end, so that its thread can be looked at while it lives. Resolves with the reports and a
 * function that ends the worker.
 */
async function inWorker(body: string): Promise<{ reports: unknown[]; end: () => Promise<number> }> {
  const code = `const { parentPort } = require('node:worker_threads'); const io = require(${JSON.stringify(modulePath)});
    const report = (v) => parentPort.postMessage(v);
    ${body}
    report('done');
    parentPort.once('message', () => process.exit(0));`;
  const w = new Worker(code, { eval: true });
  const reports: unknown[] = [];
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m) => (m === 'done' ? resolve() : reports.push(m)));
    w.once('error', reject);
  });
  return { reports, end: () => new Promise((resolve) => (w.once('exit', resolve), w.postMessage('end'))) };
}

/** Whether this kernel keeps a slice per thread (Linux 6.12 and later): se.slice of this thread, changed and back. */
function kernelKeepsSlices(): boolean {
  if (!mediaIo) return false;
  const granted = mediaIo.threadSlice(PACKET_CLOCK_SLICE_US);
  mediaIo.threadSlice(0);
  return granted === PACKET_CLOCK_SLICE_US;
}
const perThread = kernelKeepsSlices();
const why = !mediaIo ? `hal/native not built: ${mediaIoMissing}` : 'this kernel keeps no slice per thread (before Linux 6.12)';

describe('hal/native threadSlice on the real kernel', () => {
  it.skipIf(!perThread)(`grants the slice asked for to the calling thread only, as the kernel shows it, and 0 gives the default back (skipped when ${why})`, async () => {
    const before = threadSlices();
    const { reports, end } = await inWorker(`report(require('node:worker_threads').threadId); report(io.threadSlice(${PACKET_CLOCK_SLICE_US}));`);
    try {
      expect(reports[1]).toBe(PACKET_CLOCK_SLICE_US);
      const after = threadSlices();
      const changed = [...after].filter(([tid, ns]) => before.get(tid) !== ns && before.has(tid));
      const shortened = [...after].filter(([, ns]) => ns === PACKET_CLOCK_SLICE_US * 1000);
      // Only the worker's thread (new since `before`) has the short slice; no thread that was there changed.
      expect(changed).toEqual([]);
      expect(shortened).toHaveLength(1);
      expect(before.has(shortened[0]![0])).toBe(false);
    } finally {
      await end();
    }
    const { reports: back, end: end2 } = await inWorker(`const d = io.threadSlice(0); report(io.threadSlice(300)); report(io.threadSlice(0)); report(d);`);
    await end2();
    expect(back[0]).toBe(300);
    expect(back[1]).toBe(back[2]); // 0 restores what the kernel gives by default
    expect(back[1]).toBeGreaterThan(300);
  });

  it.skipIf(!perThread)(`grants both ends of the range hal/wakeup-slice.ts names, so the module and its TypeScript agree (skipped when ${why})`, async () => {
    const { reports, end } = await inWorker(`report(io.threadSlice(${SLICE_MIN_US})); report(io.threadSlice(${SLICE_MAX_US}));`);
    await end();
    expect(reports).toEqual([SLICE_MIN_US, SLICE_MAX_US]);
  });

  it.skipIf(!perThread)(`keeps the thread's nice value: sched_setattr would otherwise set it to 0 (skipped when ${why})`, async () => {
    // Lowering priority (a higher nice) needs no privilege, so this holds for any user.
    const { reports, end } = await inWorker(`const os = require('node:os'); os.setPriority(6); report(io.threadSlice(${PACKET_CLOCK_SLICE_US})); report(os.getPriority());`);
    await end();
    expect(reports).toEqual([PACKET_CLOCK_SLICE_US, 6]);
  });

  it.skipIf(!mediaIo)(`refuses a slice outside the kernel's 0.1-100 ms or a negative thread id with -EINVAL and leaves the thread as it was; a thread that is gone is -ESRCH (skipped when hal/native is not built)`, async () => {
    const { reports, end } = await inWorker(`const d = io.threadSlice(0); report(io.threadSlice(${SLICE_MIN_US - 1})); report(io.threadSlice(${SLICE_MAX_US + 1})); report(io.threadSlice(-5)); report(io.threadSlice(100, -1)); report(io.threadSlice(0) === d);
      report(io.threadSlice(100, 4194305));
      try { io.threadSlice('100'); report('no error'); } catch (e) { report(e.name); }`);
    await end();
    // The last but one: a thread id above any the kernel hands out (pid_max is at most 2^22) is gone (-ESRCH).
    expect(reports).toEqual([-EINVAL, -EINVAL, -EINVAL, -EINVAL, true, -ESRCH, 'TypeError']);
  });
});

describe('setWakeupSlice', () => {
  /** A stand-in for the native module answering threadSlice as a kernel this machine is not would. */
  const answering = (r: number): MediaIo => ({ threadSlice: () => r }) as unknown as MediaIo;

  it('says granted with the slice the kernel reports', () => {
    const s = setWakeupSlice(PACKET_CLOCK_SLICE_US, answering(100));
    expect(s).toEqual({ granted: true, us: 100 });
    expect(describeWakeupSlice(s)).toBe('0.1 ms');
  });

  it('names why the default stays: an older kernel (stand-in answering 0), a real-time thread (-EPERM), a bad slice (-EINVAL), no module', () => {
    const reasons = [setWakeupSlice(100, answering(0)), setWakeupSlice(100, answering(-EPERM)), setWakeupSlice(50, answering(-EINVAL)), setWakeupSlice(100, answering(-38))].map(
      (s) => (s.granted ? 'granted' : s.reason),
    );
    expect(reasons[0]).toMatch(/6\.12/);
    expect(reasons[1]).toMatch(/real-time/);
    expect(reasons[2]).toMatch(/50 us/);
    expect(reasons[3]).toMatch(/errno 38/);
    expect(describeWakeupSlice(setWakeupSlice(100, null))).toMatch(/^kernel default \(hal\/native is /);
  });
});
