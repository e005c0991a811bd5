/**
 * How many loop breaks a rotary dial sends for each digit. Most of the world sends n pulses for digit n and ten
 * for 0; New Zealand's dials are numbered backwards (10 - n pulses, 0 still ten); Sweden sends n + 1 (0 is one
 * pulse, 9 is ten).
 */
export type PulseDigitMap = 'standard' | 'nz' | 'se';

export const PULSE_DIGIT_MAPS: readonly PulseDigitMap[] = ['standard', 'nz', 'se'];

/** The digit `pulses` breaks stand for, or undefined when no digit sends that many (more than ten, or zero). */
export function pulsesToDigit(pulses: number, map: PulseDigitMap): string | undefined {
  if (!Number.isInteger(pulses) || pulses < 1 || pulses > 10) return undefined;
  switch (map) {
    case 'standard':
      return String(pulses % 10);
    case 'nz':
      return String((10 - pulses) % 10);
    case 'se':
      return String(pulses - 1);
  }
}

/** Inverse of `pulsesToDigit`: how many breaks the dial sends for `digit` (0-9). */
export function digitToPulses(digit: string, map: PulseDigitMap): number {
  if (!/^[0-9]$/.test(digit)) throw new RangeError(`not a rotary digit: ${JSON.stringify(digit)}`);
  const d = Number(digit);
  switch (map) {
    case 'standard':
      return d === 0 ? 10 : d;
    case 'nz':
      return 10 - d;
    case 'se':
      return d + 1;
  }
}
