/**
 * RtpStreamThread: an RTP stream and its packet clock on a worker thread of their own. The worker is the built one
 * (dist/, which `npm test` builds first): a worker thread loads JavaScript, not the TypeScript under src/.
 *
 * These run on the real clock, because the media thread's clock is the system's by design (nothing can be injected
 * across a thread boundary); they wait for conditions (a frame heard, a thread gone), never for a length of time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeMuLaw, encodeMuLaw } from '../../src/media/g711.js';
import { mediaIo, mediaIoMissing } from '../../dist/hal/media-io.js';
import { RtpStreamThread, RtpStreamThreadError, type MediaEngine, type RtpStreamThreadOptions } from '../../dist/src/media/rtp-stream-thread.js';
import { PACKET_CLOCK_SLICE_US } from '../../dist/hal/wakeup-slice.js';
import { ownThreadSlicesNs } from '../support/sched-slice.js';

const base: RtpStreamThreadOptions = { localAddress: '127.0.0.1', ports: { min: 37000, max: 37999 }, remoteAddress: '127.0.0.1', remotePort: 9, codec: 'PCMU' };
const open: RtpStreamThread[] = [];
async function start(options: Partial<RtpStreamThreadOptions> = {}): Promise<RtpStreamThread> {
  const t = await RtpStreamThread.open({ ...base, ...options });
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

/** The nice value of every thread of this process, read from /proc (field 19 of each thread's stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** se.slice (ns) of every thread of this process, where the kernel shows it. */
const threadSlicesNs = (): number[] => [...ownThreadSlicesNs().values()];

const engines: MediaEngine[] = mediaIo ? ['native', 'event-loop'] : ['event-loop'];

describe.each(engines)('RtpStreamThread on the %s engine', (engine) => {
  it('streams frames queued on one media thread to the earpiece ring of another, bit-exact after G.711', async () => {
    const a = await start({ engine });
    const b = await start({ engine, remotePort: a.localPort });
    expect([a.engine, b.engine]).toEqual([engine, engine]);
    a.setRemote('127.0.0.1', b.localPort);
    // The same noise-like frame over and over: the stream is periodic in 160 samples, and the earpiece's frames need
    // not start where a packet did (the jitter buffer plays by samples), so a heard frame is the sent one rotated.
    const pcm = new Int16Array(160);
    let x = 12345;
    for (let i = 0; i < pcm.length; i++) pcm[i] = ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) - 32768;
    const expected = decodeMuLaw(encodeMuLaw(pcm));
    const isRotationOfExpected = (f: Int16Array): boolean => {
      for (let k = 0; k < 160; k++) if (f.every((v, i) => v === expected[(i + k) % 160])) return true;
      return false;
    };
    const heard = new Int16Array(160);
    let matched = false;
    await vi.waitFor(
      () => {
        while (a.queuedFrames < 3) a.writeFrame(pcm);
        while (b.readFrame(heard)) if (isRotationOfExpected(heard)) matched = true;
        expect(matched).toBe(true);
      },
      { timeout: 5000, interval: 10 },
    );
    const stats = await b.stats();
    expect(stats.packetsReceived).toBeGreaterThan(0);
  });

  it('carries a digit sent as an RFC 4733 event from one media thread to the other (control messages and timers)', async () => {
    const a = await start({ engine, telephoneEventPayloadType: 101 });
    const b = await start({ engine, telephoneEventPayloadType: 101, remotePort: a.localPort });
    a.setRemote('127.0.0.1', b.localPort);
    const digits: string[] = [];
    b.onDtmf((d) => digits.push(d));
    a.sendDtmf('7', 60);
    a.sendDtmf('#', 60);
    await vi.waitFor(() => expect(digits).toEqual(['7', '#']), { timeout: 5000, interval: 10 });
    expect((await a.stats()).eventsSent).toBe(2);
    // A duration that is not a number is refused here, in the caller's thread: as a timer deadline in the media
    // thread it spun that thread's loop for good, flooding the far end with events.
    expect(() => a.sendDtmf('5', Number.NaN)).toThrow(expect.objectContaining({ reason: 'dtmf-duration' }));
    expect((await a.stats()).eventsSent).toBe(2);
  });
});

describe('RtpStreamThread', () => {
  it(`runs on the native engine by default when hal/media-io is built (${mediaIo ? 'built' : `not built: ${mediaIoMissing}`})`, async () => {
    const t = await start();
    expect(t.engine).toBe(mediaIo ? 'native' : 'event-loop');
  });

  it('refuses an engine it does not have with a typed error', async () => {
    await expect(RtpStreamThread.open({ ...base, engine: 'turbo' as MediaEngine })).rejects.toBeInstanceOf(RtpStreamThreadError);
  });

  it('runs the media thread at the nice value asked for, and no other thread of the process', async () => {
    // Lowering priority (a higher nice) is allowed without privilege, so this holds for any user.
    const before = threadNices().filter((n) => n === 7).length;
    const t = await start({ nice: 7 });
    expect(t.nice).toBe(7);
    expect(threadNices().filter((n) => n === 7).length).toBe(before + 1);
    expect(getPriority()).not.toBe(7);
  });

  it('raises the media thread to MEDIA_THREAD_NICE by default when permitted (root or CAP_SYS_NICE), else keeps the process priority', async () => {
    const t = await start();
    // CAP_SYS_NICE is bit 23 of the effective capability set.
    const capEff = BigInt('0x' + (/CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
    const mayRaise = ((capEff >> 23n) & 1n) === 1n;
    expect(t.nice).toBe(mayRaise ? -10 : getPriority());
  });

  it('asks for the short scheduler slice for the media thread by default, and for no other thread of the process', async () => {
    const t = await start();
    const shortened = threadSlicesNs().filter((ns) => ns === PACKET_CLOCK_SLICE_US * 1000).length;
    if (t.slice.granted) {
      expect(t.slice.us).toBe(PACKET_CLOCK_SLICE_US);
      expect(shortened).toBe(1);
    } else {
      // A kernel before 6.12 (or no module): the reason is given and no thread has the slice.
      expect(t.slice.reason).not.toBe('');
      expect(shortened).toBe(0);
    }
    const plain = await start({ sliceUs: 0 });
    expect(plain.slice.granted).toBe(false);
    expect(threadSlicesNs().filter((ns) => ns === PACKET_CLOCK_SLICE_US * 1000).length).toBe(shortened);
  });

  it('refuses a slice that is not 0 or 100-100000 us with a typed error', async () => {
    await expect(RtpStreamThread.open({ ...base, sliceUs: 50 })).rejects.toBeInstanceOf(RtpStreamThreadError);
    await expect(RtpStreamThread.open({ ...base, sliceUs: 200.5 })).rejects.toBeInstanceOf(RtpStreamThreadError);
  });

  it('tells its owner when the media thread ends: null after close(), the cause when it died (its death stood in for by terminating the worker)', async () => {
    const closing = await start();
    const causes: (Error | null)[] = [];
    closing.onEnded((c) => causes.push(c));
    await closing.close();
    expect(causes).toEqual([null]);
    const dying = await start();
    dying.onEnded((c) => causes.push(c));
    await (dying as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await vi.waitFor(() => expect(causes.length).toBe(2), { timeout: 5000, interval: 10 });
    expect(causes[1]).toBeInstanceOf(Error);
    expect(dying.state).toBe('closed');
    expect(dying.writeFrame(new Int16Array(160))).toBe(false);
    await expect(dying.stats()).rejects.toBeInstanceOf(RtpStreamThreadError);
  });

  it('a reader that fell behind finds the newest earpiece frames: the backlog is dropped, not played late for the rest of the call', async () => {
    const t = await start();
    // The media thread writes a frame every 20 ms whether or not anyone reads: let the ring fill up.
    await vi.waitFor(() => expect(t.queuedEarFrames).toBe(8), { timeout: 5000, interval: 10 });
    const out = new Int16Array(160);
    expect(t.readFrame(out)).toBe(true);
    expect(t.staleEarFrames).toBeGreaterThanOrEqual(5);
    expect(t.queuedEarFrames).toBeLessThanOrEqual(2);
  });

  it.skipIf(!mediaIo)('a native media thread that dies leaves its port pair free for the next call (its sockets close with the thread)', async () => {
    const ports = { min: 37900, max: 37901 }; // room for one pair only
    const dying = await start({ engine: 'native', ports });
    const ended = new Promise((r) => dying.onEnded(r));
    await (dying as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await ended;
    const next = await start({ engine: 'native', ports });
    expect(next.localPort).toBe(37900);
  });

  it('refuses a ptime it cannot do with a typed error, before any thread starts', async () => {
    await expect(RtpStreamThread.open({ ...base, ptimeMs: 25 })).rejects.toMatchObject({ name: 'RtpSessionError', reason: 'ptime' });
  });

  it('refuses a nice value that is not an integer from -20 to 19 with a typed error', async () => {
    await expect(RtpStreamThread.open({ ...base, nice: -21 })).rejects.toBeInstanceOf(RtpStreamThreadError);
    await expect(RtpStreamThread.open({ ...base, nice: 1.5 })).rejects.toBeInstanceOf(RtpStreamThreadError);
  });
});
