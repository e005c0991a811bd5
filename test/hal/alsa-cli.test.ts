import { beforeAll, describe, expect, it } from 'vitest';
import { AlsaCliAudioPort } from '../../hal/drivers/alsa-cli.js';
import { execFileSync } from 'node:child_process';
import { FakeClock, systemClock } from '../../hal/clock.js';
import type { HalLog } from '../../hal/errors.js';
import { DeviceUnavailableError, silentLog } from '../../hal/errors.js';
import { makeAlsaFilePcm, readRawS16, requireAlsaUtils } from '../support/alsa-file-pcm.js';

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

describe('ALSA through arecord/aplay (real processes, ALSA file plugin, no sound card)', () => {
  beforeAll(() => requireAlsaUtils());

  it('captures the samples of the file-plugin infile as exact 160-sample frames at 8 kHz', async () => {
    const input = ramp(8000);
    const pcm = makeAlsaFilePcm(input);
    const port = new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
    const frames = collectFrames(port, 40);
    await port.start();
    const got = await frames;
    await port.close();
    expect(Array.from(got)).toEqual(Array.from(input.subarray(0, 40 * 160)));
  });

  it('plays frames into the file-plugin output unchanged', async () => {
    const pcm = makeAlsaFilePcm(new Int16Array(1600));
    const port = new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
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
    const port = new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', cardRate: 48000, clock: systemClock, log: silentLog, env: pcm.env });
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
    const port = new AlsaCliAudioPort({ captureDevice: 'no_such_pcm', playbackDevice: 'ata_playback', clock: systemClock, log: silentLog, env: pcm.env });
    const err = await port.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.audio_in_device');
    expect((err as DeviceUnavailableError).device).toBe('no_such_pcm');
  });

  it('a capture process that dies (card unplugged) is logged once and restarted after back-off', async () => {
    const pcm = makeAlsaFilePcm(ramp(8000));
    const clock = new FakeClock();
    const logged: Array<[string, string | undefined]> = [];
    const rec = (level: string) => (_o: object, msg?: string) => void logged.push([level, msg]);
    const log: HalLog = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
    const port = new AlsaCliAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', clock, log, env: pcm.env });
    let frames = 0;
    port.onFrame(() => frames++);
    await port.start();
    // the arecord this port started (a child of this test process)
    const pid = Number(execFileSync('pgrep', ['-P', String(process.pid), '-x', 'arecord']).toString().trim().split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await until(() => logged.some(([l]) => l === 'warn'));
    expect(logged.filter(([l]) => l === 'warn')).toHaveLength(1);
    clock.advance(500);
    await until(() => logged.some(([l, m]) => l === 'info' && m === 'audio device back'));
    const before = frames;
    await until(() => frames > before);
    await port.close();
  });
});

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error('condition never met');
}
