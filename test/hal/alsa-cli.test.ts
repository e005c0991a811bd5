import { beforeAll, describe, expect, it } from 'vitest';
import { AlsaCliAudioPort } from '../../hal/drivers/alsa-cli.js';
import { execFileSync } from 'node:child_process';
import { FakeClock, systemClock } from '../../hal/clock.js';
import type { HalLog } from '../../hal/errors.js';
import { DeviceUnavailableError, silentLog } from '../../hal/errors.js';
import { makeAlsaFilePcm, readRawS16, requireAlsaUtils } from '../support/alsa-file-pcm.js';
import { nativeCardPipes, streamCardPipes, type CardPipes } from '../../hal/drivers/card-pipe.js';
import { mediaIo, mediaIoMissing } from '../../hal/media-io.js';
import { PACKET_CLOCK_SLICE_US } from '../../hal/wakeup-slice.js';
import { schedSliceNs } from '../support/sched-slice.js';
import { readdirSync, readFileSync } from 'node:fs';

function ramp(n: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 37) % 20000) - 10000;
  return x;
}

/** Waits for real child processes (not for time): resolves when `count` frames arrived. */
function collectFrames(port: AlsaCliAudioPort, count: number): Promise<Int16Array> {
  const got = new Int16Array(count * 160);
  let n = 0;
  return new Promise((resolve) => {
    port.onFrame((f) => {
      if (n < count) got.set(f, n * 160);
      if (++n === count) resolve(got);
    });
  });
}

/** Whether this kernel keeps a slice per thread (Linux 6.12 and later), asked of this thread and given back. */
const kernelKeepsSlices = mediaIo !== undefined && mediaIo.threadSlice(PACKET_CLOCK_SLICE_US) === PACKET_CLOCK_SLICE_US && mediaIo.threadSlice(0) > 0;
const noSliceWhy = mediaIo ? 'this kernel keeps no slice per thread (before Linux 6.12)' : `hal/native is ${mediaIoMissing}`;

const kinds: Array<[string, CardPipes | undefined, string | undefined]> = [
  ['hal/native pipes', mediaIo && nativeCardPipes(mediaIo), mediaIoMissing],
  ['Node streams', streamCardPipes, undefined],
];

describe.each(kinds)('ALSA through arecord/aplay over %s (real processes, ALSA file plugin, no sound card)', (kind, pipes, missing) => {
  beforeAll(() => requireAlsaUtils());
  // CI builds the module (PI_ATA_NATIVE=required); on a machine without a C compiler only the streams can run.
  if (!pipes) {
    it.skip(`skipped: hal/native is ${missing}`, () => {});
    return;
  }
  const open = (opts: Omit<ConstructorParameters<typeof AlsaCliAudioPort>[0], 'pipes'>) => new AlsaCliAudioPort({ ...opts, pipes });

  it('uses the pipes it was given', () => {
    const pcm = makeAlsaFilePcm(new Int16Array(160));
    expect(open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env }).pipes.kind).toBe(kind === 'Node streams' ? 'streams' : 'native');
  });

  it('captures the samples of the file-plugin infile as exact 160-sample frames at 8 kHz', async () => {
    const input = ramp(8000);
    const pcm = makeAlsaFilePcm(input);
    const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
    const frames = collectFrames(port, 40);
    await port.start();
    const got = await frames;
    await port.close();
    expect(Array.from(got)).toEqual(Array.from(input.subarray(0, 40 * 160)));
  });

  it('plays frames into the file-plugin output unchanged', async () => {
    const pcm = makeAlsaFilePcm(new Int16Array(1600));
    const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
    await port.start();
    const sent = ramp(160 * 5);
    for (let i = 0; i < 5; i++) port.play(sent.subarray(i * 160, (i + 1) * 160));
    await port.close();
    const out = readRawS16(pcm.playbackFile);
    expect(Array.from(out.subarray(0, sent.length))).toEqual(Array.from(sent));
  });

  it('a 48 kHz card is resampled to 8 kHz: a 1 kHz tone comes through at the same level', async () => {
    const n = 48000;
    const tone = new Int16Array(n);
    for (let i = 0; i < n; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 1000 * i) / 48000));
    const pcm = makeAlsaFilePcm(tone);
    const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', cardRate: 48000, clock: systemClock, log: silentLog, env: pcm.env });
    const frames = collectFrames(port, 40);
    await port.start();
    const got = await frames;
    await port.close();
    let s = 0;
    for (let i = 800; i < got.length; i++) s += got[i] * got[i];
    const rms = Math.sqrt(s / (got.length - 800));
    expect(rms / (8000 / Math.SQRT2)).toBeGreaterThan(0.95);
    expect(rms / (8000 / Math.SQRT2)).toBeLessThan(1.05);
  });

  it('a missing capture device is a DeviceUnavailableError naming board.audio_in_device', async () => {
    const pcm = makeAlsaFilePcm(new Int16Array(160));
    const port = open({ captureDevice: 'no_such_pcm', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
    const err = await port.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.audio_in_device');
    expect((err as DeviceUnavailableError).device).toBe('no_such_pcm');
  });

  it('a capture process that dies (card unplugged) is logged once and restarted after back-off', async () => {
    const pcm = makeAlsaFilePcm(ramp(8000));
    const clock = new FakeClock();
    const { log, logged } = recordingLog();
    const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock, log, env: pcm.env });
    let frames = 0;
    port.onFrame(() => frames++);
    await port.start();
    process.kill(children('arecord')[0], 'SIGKILL'); // the arecord this port started
    await until(() => logged.some(([l]) => l === 'warn'));
    expect(logged.filter(([l]) => l === 'warn')).toHaveLength(1);
    clock.advance(500);
    await until(() => logged.some(([l, m]) => l === 'info' && m === 'audio device back'));
    const before = frames;
    await until(() => frames > before);
    await port.close();
  });

  it('a playback process that dies is logged once and restarted after back-off; the earpiece plays again', async () => {
    const pcm = makeAlsaFilePcm(ramp(8000));
    const clock = new FakeClock();
    const { log, logged } = recordingLog();
    const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock, log, env: pcm.env });
    await port.start();
    process.kill(children('aplay')[0], 'SIGKILL');
    // Frames played into the dead pipe are dropped or lost, never thrown, until the exit is seen.
    await until(() => (port.play(new Int16Array(160)), logged.some(([l]) => l === 'warn')));
    expect(logged.filter(([l]) => l === 'warn')).toHaveLength(1);
    clock.advance(500);
    await until(() => logged.some(([l, m]) => l === 'info' && m === 'audio device back'));
    const sent = ramp(160 * 5).map((x) => x | 1); // odd samples: unlike the silence played before
    for (let i = 0; i < 5; i++) port.play(sent.subarray(i * 160, (i + 1) * 160));
    await port.close();
    const out = Array.from(readRawS16(pcm.playbackFile));
    const at = out.indexOf(sent[0]);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(out.slice(at, at + sent.length)).toEqual(Array.from(sent));
  });

  it.skipIf(!kernelKeepsSlices)(`arecord and aplay run with the packet clock's short scheduler slice, as the kernel shows it; 0 leaves them the default (skipped when ${noSliceWhy})`, async () => {
    const pcm = makeAlsaFilePcm(ramp(8000));
    const slices = async (wakeupSliceUs?: number) => {
      const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env, wakeupSliceUs });
      await port.start();
      const got = { reported: port.childSlice, arecord: children('arecord').map(sliceNs), aplay: children('aplay').map(sliceNs) };
      await port.close();
      await until(() => children('arecord').length + children('aplay').length === 0);
      return got;
    };
    const short = await slices();
    expect(short).toEqual({ reported: { granted: true, us: PACKET_CLOCK_SLICE_US }, arecord: [PACKET_CLOCK_SLICE_US * 1000], aplay: [PACKET_CLOCK_SLICE_US * 1000] });
    const plain = await slices(0);
    expect(plain.reported).toBeUndefined();
    expect(plain.arecord[0]).toBeGreaterThan(PACKET_CLOCK_SLICE_US * 1000);
    expect(plain.aplay[0]).toBe(plain.arecord[0]);
  });

  it('twenty starts and closes leave no descriptor and no child behind', async () => {
    const pcm = makeAlsaFilePcm(ramp(8000));
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const port = open({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
      const frames = collectFrames(port, 2);
      await port.start();
      await frames;
      await port.close();
    }
    // A closed watch lets go of its descriptor on a later turn of the loop; the count before may still hold pipes of
    // the tests before this one, closing meanwhile, so it is a ceiling: a leak of one pipe per start would be 20 over.
    await until(() => fds() <= before).catch(() => {});
    expect(fds()).toBeLessThanOrEqual(before);
    await until(() => children('arecord').length === 0);
    expect(children('aplay')).toEqual([]);
  });
});

describe.skipIf(!mediaIo)('ALSA over hal/native pipes: a stalled aplay (real processes, stopped by SIGSTOP)', () => {
  beforeAll(() => requireAlsaUtils());

  it('the earpiece backlog is cut at 6 frames in the pipe itself, where Node streams let the pipe take 2 s', async () => {
    const sent = ramp(160 * 50);
    const dropped: Record<string, number> = {};
    for (const [name, pipes] of [['native', nativeCardPipes(mediaIo!)], ['streams', streamCardPipes]] as const) {
      const pcm = makeAlsaFilePcm(new Int16Array(1600));
      const port = new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env, pipes });
      await port.start();
      const aplay = children('aplay')[0];
      process.kill(aplay, 'SIGSTOP');
      await until(() => procState(aplay) === 'T');
      for (let i = 0; i < 50; i++) port.play(sent.subarray(i * 160, (i + 1) * 160));
      dropped[name] = port.playbackDropped;
      process.kill(aplay, 'SIGCONT');
      await port.close();
      if (name === 'native') {
        // Frames are written while no more than 6 wait: the 7th is taken, the rest dropped; what aplay played is
        // exactly the first 7 frames, whole and in order, then only the silence it pads its last period with.
        const out = readRawS16(pcm.playbackFile);
        expect(Array.from(out.subarray(0, 7 * 160))).toEqual(Array.from(sent.subarray(0, 7 * 160)));
        expect(out.subarray(7 * 160).every((x) => x === 0)).toBe(true);
      }
    }
    expect(dropped).toEqual({ native: 43, streams: 0 });
  });
});

/** A HalLog that keeps [level, message] of each line. */
function recordingLog(): { log: HalLog; logged: Array<[string, string | undefined]> } {
  const logged: Array<[string, string | undefined]> = [];
  const rec = (level: string) => (_o: object, msg?: string) => void logged.push([level, msg]);
  return { log: { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') }, logged };
}

/** Pids of this process's children named `name`. */
/** A process's scheduler slice (se.slice, ns) as the kernel shows it. */
const sliceNs = (pid: number): number | undefined => schedSliceNs(`/proc/${pid}`);

function children(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', name]).toString().trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when none matches
  }
}

/** The state letter of a process (R, S, T...) from /proc. */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition never met');
}
