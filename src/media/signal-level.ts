/**
 * The digital reference level for 16-bit linear audio at 8 kHz.
 *
 * G.711 puts the digital milliwatt (0 dBm0) 3.14 dB below a full-scale sine for A-law and 3.17 dB for mu-law.
 * We use 3.14 dB for both: a full-scale s16 sine (peak 32767) is +3.14 dBm0, so a 0 dBm0 sine has a peak of
 * about 22 812. The 0.03 dB between the two laws is far below anything a telephone or a listener can tell apart,
 * and one reference keeps every level in this directory comparable.
 */
export const FULL_SCALE_DBM0 = 3.14;
export const FULL_SCALE_PEAK = 32767;

/** Peak amplitude (s16 units) of one sine at the given level. */
export function dbm0ToAmplitude(dbm0: number): number {
  return FULL_SCALE_PEAK * Math.pow(10, (dbm0 - FULL_SCALE_DBM0) / 20);
}

/** Level of one sine of the given peak amplitude (s16 units). */
export function amplitudeToDbm0(peak: number): number {
  return FULL_SCALE_DBM0 + 20 * Math.log10(peak / FULL_SCALE_PEAK);
}

/** Level of a signal from its mean square (s16 units squared): a sine of peak A has mean square A*A/2. */
export function meanSquareToDbm0(meanSquare: number): number {
  return amplitudeToDbm0(Math.sqrt(2 * meanSquare));
}
