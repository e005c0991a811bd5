/**
 * Caller ID as the phone's display receives it (REFERENCE.md): the message (SDMF or MDMF, Bellcore GR-30 and
 * ETSI EN 300 659-3) and its modulation (Bell 202 or V.23 FSK with channel seizure and mark, or DTMF framed A...C).
 * `callerIdSignal` returns the whole signal as 8 kHz samples; when to play it (after the first ring, or after the
 * polarity reversal and the ETSI alert tone) is the ringer's business.
 *
 * The number and name come from the far end's INVITE, so they are untrusted: they are cut down to what a display
 * can show (digits and `*#+` for the number, printable ASCII for the name) and to the lengths the standards allow.
 */
import { BELL_202, FskBits, modulateFsk, V23 } from './fsk-modulator.js';
import { generateDtmf } from './dtmf-generator.js';
import { dbm0ToAmplitude } from './signal-level.js';

export type CallerIdFormat = 'sdmf' | 'mdmf';
export type CallerIdModem = 'bell202' | 'v23' | 'dtmf';
/** Why a field is absent: 'private' (the caller withheld it, "P") or 'unavailable' (the network has none, "O"). */
export type CallerIdAbsence = 'private' | 'unavailable';

export interface CallerIdInfo {
  number?: string;
  name?: string;
  /** Reason given for whatever of number and name is missing. Default 'unavailable'. */
  reason?: CallerIdAbsence;
  /** Date and time shown by the display; local time of the adapter. */
  date: Date;
}

export interface CallerIdOptions extends CallerIdInfo {
  format: CallerIdFormat;
  modem: CallerIdModem;
}

/** Message types (first byte). */
export const SDMF_TYPE = 0x04;
export const MDMF_TYPE = 0x80;
/** MDMF parameter types. */
export const MDMF_DATE = 0x01;
export const MDMF_NUMBER = 0x02;
export const MDMF_NUMBER_ABSENT = 0x04;
export const MDMF_NAME = 0x07;
export const MDMF_NAME_ABSENT = 0x08;

/** Longest number and name a display takes (GR-30: 10-digit SDMF, 15-character name; ETSI allows 20 digits). */
const MAX_NUMBER = 20;
const MAX_SDMF_NUMBER = 10;
const MAX_NAME = 15;

const SEIZURE_BITS = 300;
const MARK_BITS = 180;
/** A few mark bits after the checksum so the receiver's last stop bit is not cut by the end of the signal. */
const TRAILING_MARK_BITS = 10;

function absenceCode(r: CallerIdAbsence | undefined): string {
  return r === 'private' ? 'P' : 'O';
}

/** The digits a display can show, at most `max` of them; '' when nothing usable is left. */
export function displayNumber(raw: string | undefined, max = MAX_NUMBER): string {
  if (raw === undefined) return '';
  return raw.replace(/[^0-9*#+]/g, '').slice(0, max);
}

/** Printable ASCII only (a display has no other characters), at most 15 of them, trimmed. */
export function displayName(raw: string | undefined): string {
  if (raw === undefined) return '';
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // "Zoë" -> "Zoe" rather than "Zo?"
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()
    .slice(0, MAX_NAME)
    .trim();
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** MMDDHHMM in the adapter's local time. */
export function callerIdDate(d: Date): string {
  return two(d.getMonth() + 1) + two(d.getDate()) + two(d.getHours()) + two(d.getMinutes());
}

function ascii(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0x7f);
  return out;
}

/** Appends the checksum: the two's complement of the sum of all bytes, so the whole message sums to 0 mod 256. */
function withChecksum(body: number[]): Uint8Array {
  let sum = 0;
  for (const b of body) sum = (sum + b) & 0xff;
  return Uint8Array.from([...body, (0x100 - sum) & 0xff]);
}

/** The caller-ID message bytes, type to checksum. */
export function callerIdMessage(info: CallerIdInfo, format: CallerIdFormat): Uint8Array {
  const date = ascii(callerIdDate(info.date));
  if (format === 'sdmf') {
    // SDMF has no name and one field for the number, which carries the absence code when there is no number.
    const num = displayNumber(info.number, MAX_SDMF_NUMBER);
    const field = date.concat(ascii(num || absenceCode(info.reason)));
    return withChecksum([SDMF_TYPE, field.length, ...field]);
  }
  const params: number[] = [MDMF_DATE, date.length, ...date];
  const num = displayNumber(info.number);
  if (num) params.push(MDMF_NUMBER, num.length, ...ascii(num));
  else params.push(MDMF_NUMBER_ABSENT, 1, ...ascii(absenceCode(info.reason)));
  const name = displayName(info.name);
  if (name) params.push(MDMF_NAME, name.length, ...ascii(name));
  else params.push(MDMF_NAME_ABSENT, 1, ...ascii(absenceCode(info.reason)));
  return withChecksum([MDMF_TYPE, params.length, ...params]);
}

/**
 * DTMF caller ID (Nordic countries, the Netherlands, Belgium, Brazil): 'A' + number + 'C', or for a withheld
 * number 'B' + a reason code + 'C' (Danish/Swedish practice: 00 unavailable, 10 private).
 */
export function dtmfCallerIdDigits(info: CallerIdInfo): string {
  const num = displayNumber(info.number).replace(/[^0-9]/g, '');
  if (num) return `A${num}C`;
  return info.reason === 'private' ? 'B10C' : 'B00C';
}

/** The caller-ID signal for one call as 8 kHz s16 samples. */
export function callerIdSignal(opts: CallerIdOptions): Int16Array {
  if (opts.modem === 'dtmf') return generateDtmf(dtmfCallerIdDigits(opts), { onMs: 70, offMs: 70, levelDbm0: -10 });
  const message = callerIdMessage(opts, opts.format);
  const bits = new FskBits().alternating(SEIZURE_BITS).mark(MARK_BITS).bytes(message).mark(TRAILING_MARK_BITS);
  return modulateFsk(bits.toArray(), opts.modem === 'bell202' ? BELL_202 : V23);
}

/**
 * ETSI dual-tone alerting signal (DT-AS, EN 300 659-1): 2130 Hz + 2750 Hz for 100 ms, sent after the polarity
 * reversal so the phone wakes its FSK receiver before the caller ID.
 */
export function etsiAlertSignal(sampleRate = 8000): Int16Array {
  const n = Math.round(sampleRate * 0.1);
  const out = new Int16Array(n);
  const amp = dbm0ToAmplitude(-13);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    out[i] = Math.round(amp * (Math.sin(2 * Math.PI * 2130 * t) + Math.sin(2 * Math.PI * 2750 * t)));
  }
  return out;
}
