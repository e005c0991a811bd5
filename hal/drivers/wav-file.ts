import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { BoardConfigError } from '../errors.js';

/** Reads a WAV as 8 kHz mono s16, the only form the simulated mouthpiece takes; anything else is a config error. */
export function readPcm8kMonoWav(path: string, configKey: string): Int16Array {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new BoardConfigError(configKey, path, `cannot read: ${(err as Error).message}`);
  }
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new BoardConfigError(configKey, path, 'not a RIFF/WAVE file');
  }
  let fmtOk = false;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > buf.length) throw new BoardConfigError(configKey, path, 'truncated fmt chunk');
      const format = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const rate = buf.readUInt32LE(body + 4);
      const bits = buf.readUInt16LE(body + 14);
      if ((format !== 1 && format !== 0xfffe) || channels !== 1 || rate !== 8000 || bits !== 16) {
        throw new BoardConfigError(configKey, path, `must be 8000 Hz mono 16-bit PCM (is format ${format}, ${rate} Hz, ${channels} ch, ${bits} bit)`);
      }
      fmtOk = true;
    } else if (id === 'data') {
      if (!fmtOk) throw new BoardConfigError(configKey, path, 'data chunk before fmt chunk');
      // A streaming writer may leave the size at 0 or 0xffffffff: take what is there.
      const avail = buf.length - body;
      const n = Math.floor(Math.min(size === 0 ? avail : size, avail) / 2);
      const out = new Int16Array(n);
      for (let i = 0; i < n; i++) out[i] = buf.readInt16LE(body + 2 * i);
      return out;
    }
    off = body + size + (size & 1);
  }
  throw new BoardConfigError(configKey, path, 'no data chunk');
}

function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/**
 * An 8 kHz mono s16 WAV written as it goes. The header's sizes are rewritten every `fixupEverySamples` and at
 * close, so a reader opening the file mid-call sees a valid WAV of everything up to the last fix-up.
 */
export class StreamingWavWriter {
  private fd: number | undefined;
  private dataBytes = 0;
  private sinceFixup = 0;
  private readonly scratch: Buffer;

  constructor(
    readonly path: string,
    configKey: string,
    private readonly fixupEverySamples = 8000,
    maxChunkSamples = 160,
  ) {
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new BoardConfigError(configKey, path, `cannot write: ${(err as Error).message}`);
    }
    writeSync(this.fd, wavHeader(0), 0, 44, 0);
    this.scratch = Buffer.alloc(maxChunkSamples * 2);
  }

  get samplesWritten(): number {
    return this.dataBytes / 2;
  }

  write(pcm: Int16Array): void {
    if (this.fd === undefined) return;
    let i = 0;
    while (i < pcm.length) {
      const n = Math.min(pcm.length - i, this.scratch.length / 2);
      for (let k = 0; k < n; k++) this.scratch.writeInt16LE(pcm[i + k], 2 * k);
      writeSync(this.fd, this.scratch, 0, 2 * n, 44 + this.dataBytes);
      this.dataBytes += 2 * n;
      this.sinceFixup += n;
      i += n;
    }
    if (this.sinceFixup >= this.fixupEverySamples) this.fixupHeader();
  }

  fixupHeader(): void {
    if (this.fd === undefined) return;
    this.sinceFixup = 0;
    writeSync(this.fd, wavHeader(this.dataBytes), 0, 44, 0);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.fixupHeader();
    try {
      fsyncSync(this.fd);
    } catch {
      // fsync on some filesystems (tmpfs in CI) is unsupported; the data is written either way.
    }
    closeSync(this.fd);
    this.fd = undefined;
  }
}
