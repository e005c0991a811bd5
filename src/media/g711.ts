/**
 * G.711 mu-law and A-law, table driven and bit-exact with the ITU-T G.191 reference (ulaw_compress / alaw_compress,
 * ulaw_expand / alaw_expand in its g711.c).
 *
 * Why the tables are indexed by a shifted sample: G.191 encodes a negative sample x through its one's complement ~x
 * (not -x, as sox's encoder and the npm packages do), and for an arithmetic shift ~x >> k === ~(x >> k). So the
 * mu-law code depends only on x >> 2 (16384 entries) and the A-law code only on x >> 4 (4096 entries), which keeps
 * the tables small enough to stay in L1/L2 cache on a Pi.
 */

/** The output buffer given to a codec function is shorter than its input. */
export class CodecBufferError extends RangeError {
  constructor(
    readonly needed: number,
    readonly given: number,
  ) {
    super(`G.711 output buffer holds ${given} samples, ${needed} needed`);
    this.name = 'CodecBufferError';
  }
}

const MU_ENCODE = new Uint8Array(1 << 14);
const A_ENCODE = new Uint8Array(1 << 12);
const MU_DECODE = new Int16Array(256);
const A_DECODE = new Int16Array(256);

function muLawCode(shifted: number): number {
  // shifted = x >> 2 as a signed 14-bit value; the magnitude is taken by one's complement as in G.191.
  const negative = shifted < 0;
  const magnitude = negative ? ~shifted : shifted;
  const biased = Math.min(magnitude + 33, 0x1fff);
  const exponent = 31 - Math.clz32(biased) - 5;
  const mantissa = (biased >> (exponent + 1)) & 0x0f;
  const code = 0x7f - ((exponent << 4) | mantissa);
  return negative ? code : code | 0x80;
}

function aLawCode(shifted: number): number {
  const negative = shifted < 0;
  const magnitude = negative ? ~shifted : shifted;
  let code: number;
  if (magnitude < 16) code = magnitude;
  else {
    const exponent = 31 - Math.clz32(magnitude) - 3;
    code = (exponent << 4) | ((magnitude >> (exponent - 1)) & 0x0f);
  }
  return (negative ? code : code | 0x80) ^ 0x55;
}

for (let i = 0; i < 1 << 14; i++) MU_ENCODE[i] = muLawCode((i << 18) >> 18);
for (let i = 0; i < 1 << 12; i++) A_ENCODE[i] = aLawCode((i << 20) >> 20);
for (let c = 0; c < 256; c++) {
  const mu = ~c & 0xff;
  const muExp = (mu >> 4) & 7;
  const muMag = ((((mu & 0x0f) << 3) + 0x84) << muExp) - 0x84;
  MU_DECODE[c] = mu & 0x80 ? -muMag : muMag;
  const a = c ^ 0x55;
  const aExp = (a >> 4) & 7;
  const aMant = (a & 0x0f) << 4;
  const aMag = aExp === 0 ? aMant + 8 : (aMant + 0x108) << (aExp - 1);
  A_DECODE[c] = a & 0x80 ? aMag : -aMag;
}

function check(needed: number, out: { length: number }): void {
  if (out.length < needed) throw new CodecBufferError(needed, out.length);
}

/** Encodes 16-bit linear PCM to mu-law. With `out`, writes its first pcm.length bytes and returns it (no allocation). */
export function encodeMuLaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = out ?? new Uint8Array(n);
  check(n, dst);
  const t = MU_ENCODE;
  for (let i = 0; i < n; i++) dst[i] = t[(pcm[i] >> 2) & 0x3fff];
  return dst;
}

/** Encodes 16-bit linear PCM to A-law (even bits inverted, as on the wire). */
export function encodeALaw(pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const n = pcm.length;
  const dst = out ?? new Uint8Array(n);
  check(n, dst);
  const t = A_ENCODE;
  for (let i = 0; i < n; i++) dst[i] = t[(pcm[i] >> 4) & 0x0fff];
  return dst;
}

/** Decodes mu-law to 16-bit linear PCM. */
export function decodeMuLaw(codes: Uint8Array, out?: Int16Array): Int16Array {
  const n = codes.length;
  const dst = out ?? new Int16Array(n);
  check(n, dst);
  const t = MU_DECODE;
  for (let i = 0; i < n; i++) dst[i] = t[codes[i]];
  return dst;
}

/** Decodes A-law to 16-bit linear PCM. */
export function decodeALaw(codes: Uint8Array, out?: Int16Array): Int16Array {
  const n = codes.length;
  const dst = out ?? new Int16Array(n);
  check(n, dst);
  const t = A_DECODE;
  for (let i = 0; i < n; i++) dst[i] = t[codes[i]];
  return dst;
}

/** The code a silent frame encodes to: what comfort silence and muted audio send. */
export const MU_LAW_SILENCE = 0xff;
export const A_LAW_SILENCE = 0xd5;
