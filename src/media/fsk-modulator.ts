/**
 * Phase-continuous binary FSK at 1200 baud, as caller ID uses it (Bell 202 and ITU-T V.23). One oscillator runs
 * through the whole signal and only its frequency changes at bit boundaries, so there is no phase jump for the
 * receiver's discriminator to mistake for a bit. At 8 kHz a bit is 6.67 samples: bit edges are placed by
 * accumulating the exact fractional bit time, so the baud rate does not drift over a long message.
 */
import { dbm0ToAmplitude } from './signal-level.js';

export interface FskModem {
  /** Frequency of a 1 (mark), Hz. */
  markHz: number;
  /** Frequency of a 0 (space), Hz. */
  spaceHz: number;
  baud: number;
}

export const BELL_202: FskModem = { markHz: 1200, spaceHz: 2200, baud: 1200 };
export const V23: FskModem = { markHz: 1300, spaceHz: 2100, baud: 1200 };

/**
 * A bit sequence under construction: channel seizure, mark, and bytes framed asynchronously (start bit 0, eight
 * data bits least significant first, stop bit 1), the framing every caller-ID receiver expects.
 */
export class FskBits {
  private bits: number[] = [];

  /** `count` bits alternating 0,1,0,1... (the channel seizure). */
  alternating(count: number): this {
    for (let i = 0; i < count; i++) this.bits.push(i & 1);
    return this;
  }

  /** `count` mark (1) bits. */
  mark(count: number): this {
    for (let i = 0; i < count; i++) this.bits.push(1);
    return this;
  }

  byte(b: number): this {
    this.bits.push(0);
    for (let i = 0; i < 8; i++) this.bits.push((b >> i) & 1);
    this.bits.push(1);
    return this;
  }

  bytes(data: Uint8Array): this {
    for (const b of data) this.byte(b);
    return this;
  }

  toArray(): Uint8Array {
    return Uint8Array.from(this.bits);
  }
}

/** Modulates `bits` into s16 samples at `levelDbm0` (caller ID is sent at about -13 dBm0). */
export function modulateFsk(bits: Uint8Array, modem: FskModem, opts: { levelDbm0?: number; sampleRate?: number } = {}): Int16Array {
  const rate = opts.sampleRate ?? 8000;
  const amp = dbm0ToAmplitude(opts.levelDbm0 ?? -13);
  const samplesPerBit = rate / modem.baud;
  const total = Math.round(bits.length * samplesPerBit);
  const out = new Int16Array(total);
  const markStep = (2 * Math.PI * modem.markHz) / rate;
  const spaceStep = (2 * Math.PI * modem.spaceHz) / rate;
  let phase = 0;
  for (let n = 0; n < total; n++) {
    // The bit a sample belongs to is taken from its exact time, not a counter, so edges never accumulate error.
    const bit = bits[Math.min(bits.length - 1, Math.floor(n / samplesPerBit))];
    out[n] = Math.round(amp * Math.sin(phase));
    phase += bit ? markStep : spaceStep;
    if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
  }
  return out;
}
