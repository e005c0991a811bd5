/** The DTMF keypad (ITU-T Q.23): a digit is one row (low group) frequency plus one column (high group) frequency. */
export const DTMF_ROWS = [697, 770, 852, 941] as const;
export const DTMF_COLS = [1209, 1336, 1477, 1633] as const;
export const DTMF_KEYS = ['123A', '456B', '789C', '*0#D'] as const;

export class DtmfDigitError extends Error {
  constructor(readonly digit: string) {
    super(`not a DTMF digit: ${JSON.stringify(digit)} (allowed 0-9 * # A-D)`);
    this.name = 'DtmfDigitError';
  }
}

/** Row and column frequency of a digit; lower-case a-d are accepted. */
export function dtmfFrequencies(digit: string): [number, number] {
  const d = digit.toUpperCase();
  for (let r = 0; r < 4; r++) {
    const c = d.length === 1 ? DTMF_KEYS[r].indexOf(d) : -1;
    if (c >= 0) return [DTMF_ROWS[r], DTMF_COLS[c]];
  }
  throw new DtmfDigitError(digit);
}
