// Signal helpers shared by the DSP tests: measuring, mixing and calling the Debian reference tools.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../hal/clock.js';

/** Goertzel power normalised to the peak amplitude of a sine at `freq` (exact at bin-centred frequencies). */
export function sineAmplitude(x: Int16Array | Float64Array, freq: number, rate = 8000, from = 0, to = x.length): number {
  const c = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s = x[i] + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const p = s1 * s1 + s2 * s2 - c * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, p))) / (to - from);
}

export function meanSquare(x: Int16Array, from = 0, to = x.length): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i] * x[i];
  return e / Math.max(1, to - from);
}

/** Gaussian noise of the given RMS, repeatable. */
export function noise(n: number, rms: number, seed = 1): Float64Array {
  const rnd = seededRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(rnd(), 1e-12);
    out[i] = rms * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  }
  return out;
}

export function mix(a: Int16Array, b: Float64Array): Int16Array {
  const out = new Int16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(a[i] + b[i])));
  return out;
}

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Runs a Debian tool; fails the test loudly when it is not installed. */
export function run(cmd: string, args: string[], input?: Buffer): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(cmd, args, { input, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} could not be run (is the Debian package installed?): ${r.error.message}`);
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), status: r.status ?? -1 };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pi-ata-dsp-'));
}

export function toBuffer(x: Int16Array): Buffer {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

/** Writes 8 kHz s16 samples as a WAV file through sox (so the header is sox's own). */
export function writeWav(path: string, x: Int16Array, rate = 8000): void {
  const raw = `${path}.raw`;
  writeFileSync(raw, toBuffer(x));
  const r = run('sox', ['-t', 'raw', '-r', String(rate), '-e', 'signed', '-b', '16', '-c', '1', raw, path]);
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
}

export function readRaw(path: string): Int16Array {
  const b = readFileSync(path);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.byteLength & ~1)));
}
