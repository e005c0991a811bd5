import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { SpeakerMicAudioPort, WavHeaderStripper } from '../../hal/drivers/alsa-npm.js';
import { DeviceUnavailableError, silentLog } from '../../hal/errors.js';
import { makeAlsaFilePcm, readRawS16, requireAlsaUtils } from '../support/alsa-file-pcm.js';

function ramp(n: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = ((i * 53) % 24000) - 12000;
  return x;
}

describe('WavHeaderStripper (mic emits a WAV header)', () => {
  it('finds the data chunk even when the header arrives a few bytes at a time', () => {
    const header = Buffer.alloc(44);
    header.write('RIFF', 0, 'ascii');
    header.write('WAVEfmt ', 8, 'ascii');
    header.writeUInt32LE(16, 16);
    header.write('data', 36, 'ascii');
    const all = Buffer.concat([header, Buffer.from([1, 2, 3, 4])]);
    const s = new WavHeaderStripper();
    const out: number[] = [];
    for (let i = 0; i < all.length; i += 5) out.push(...(s.push(all.subarray(i, i + 5)) ?? []));
    expect(out).toEqual([1, 2, 3, 4]);
  });
});

// One capture file for the whole process: speaker's libasound reads ALSA_CONFIG_PATH once per process.
const input = ramp(16000);
const pcm = makeAlsaFilePcm(input);
process.env.ALSA_CONFIG_PATH = pcm.env.ALSA_CONFIG_PATH;

/** npm 11 blocks install scripts until approved, and speaker is a native addon built by its install script. */
function speakerBuilt(): boolean {
  try {
    createRequire(import.meta.url)('speaker');
    return true;
  } catch {
    return false;
  }
}
const SPEAKER_SKIP = speakerBuilt() ? '' : ' (SKIPPED: speaker native addon not built; approve its install script: npm install-scripts approve speaker)';

describe('ALSA through speaker + mic (npm; real packages, ALSA file plugin)', () => {
  beforeAll(() => requireAlsaUtils());

  it.skipIf(SPEAKER_SKIP !== '')(`captures the infile samples (WAV header removed) and plays frames into the output file${SPEAKER_SKIP}`, async () => {
    const port = new SpeakerMicAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'ata_playback', log: silentLog });
    const got = new Int16Array(30 * 160);
    let n = 0;
    const enough = new Promise<void>((resolve) =>
      port.onFrame((f) => {
        if (n < 30) got.set(f, n * 160);
        if (++n === 30) resolve();
      }),
    );
    await port.start();
    await enough;
    const sent = ramp(160 * 4).map((s) => -s);
    for (let i = 0; i < 4; i++) port.play(sent.subarray(i * 160, (i + 1) * 160));
    await port.close();
    expect(Array.from(got)).toEqual(Array.from(input.subarray(0, got.length)));
    const out = readRawS16(pcm.playbackFile);
    // speaker's start-up frame of silence comes first, then what we played
    expect(Array.from(out.subarray(160, 160 + sent.length))).toEqual(Array.from(sent));
  });

  it('a missing playback device is a DeviceUnavailableError naming board.audio_out_device', async () => {
    const port = new SpeakerMicAudioPort({ captureDevice: 'ata_capture', playbackDevice: 'no_such_pcm', log: silentLog });
    const err = await port.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.audio_out_device');
  });
});
