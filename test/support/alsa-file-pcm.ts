import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/**
 * A project-local ALSA configuration with no sound card: PCM `ata_capture` reads the samples of `capture.raw`
 * (ALSA's `file` plugin with `infile`, `null` slave) and PCM `ata_playback` writes what is played to
 * `playback.raw`. The `null` slave has no clock, so both run faster than real time.
 */
export interface AlsaFilePcm {
  dir: string;
  captureFile: string;
  playbackFile: string;
  env: NodeJS.ProcessEnv;
}

export function requireAlsaUtils(): void {
  for (const tool of ['arecord', 'aplay']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} (Debian package alsa-utils) is required for the ALSA driver tests`);
    }
  }
}

export function makeAlsaFilePcm(captureSamples: Int16Array): AlsaFilePcm {
  const dir = mkdtempSync(join(tmpdir(), 'ata-alsa-'));
  const captureFile = join(dir, 'capture.raw');
  const playbackFile = join(dir, 'playback.raw');
  writeFileSync(captureFile, Buffer.from(captureSamples.buffer, captureSamples.byteOffset, captureSamples.byteLength));
  const asoundrc = join(dir, 'asoundrc');
  writeFileSync(
    asoundrc,
    `pcm.ata_capture {\n  type file\n  slave.pcm "null"\n  file "/dev/null"\n  infile "${captureFile}"\n  format "raw"\n}\n` +
      `pcm.ata_playback {\n  type file\n  slave.pcm "null"\n  file "${playbackFile}"\n  format "raw"\n}\n` +
      // speaker queries the `default` PCM whatever device it is given (see hal/drivers/alsa-npm.ts)
      `pcm.!default {\n  type null\n}\n`,
  );
  // The system alsa.conf first (it defines the plugin types), then ours.
  const env = { ...process.env, ALSA_CONFIG_PATH: `/usr/share/alsa/alsa.conf:${asoundrc}` };
  return { dir, captureFile, playbackFile, env };
}

export function readRawS16(path: string): Int16Array {
  const buf = readFileSync(path);
  const out = new Int16Array(Math.floor(buf.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(2 * i);
  return out;
}
