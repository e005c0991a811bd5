/**
 * Call-progress tone plans: which tone each country plays, written in the syntax of Asterisk's indications.conf,
 * and the parser for that syntax (used for the built-in plans and for overrides in the config).
 *
 * Syntax: comma-separated items `[!]freq[+freq...][/ms]` or `[!]freq*freq[/ms]`.
 *   - `350+440` plays the sum of the frequencies; `0` is silence; `400*16` is 400 Hz amplitude-modulated by 16 Hz.
 *   - `/ms` is the item's length; an item without it lasts for ever (so it ends the tone).
 *   - `!` marks an item played on the first pass only; the other items then repeat (so `!350+440/100,!0/100,350+440`
 *     is a stutter followed by steady tone). If every item has `!`, the tone ends in silence.
 */
import { TONE_PLAN_DATA } from './tone-plans/countries.js';

export const TONE_NAMES = ['dial', 'ringback', 'busy', 'congestion', 'callWaiting', 'offHookWarning', 'stutterDial'] as const;
export type ToneName = (typeof TONE_NAMES)[number];
export const COUNTRIES = ['us', 'uk', 'de', 'fr', 'nl', 'it', 'au', 'jp'] as const;
export type Country = (typeof COUNTRIES)[number];

export interface ToneSegment {
  /** Frequencies summed (or carrier and modulator when `modulated`); empty for silence. */
  freqs: number[];
  modulated: boolean;
  /** Length in ms, or null for "until the tone is stopped". */
  durationMs: number | null;
  /** Played on the first pass only. */
  once: boolean;
}

export interface ToneSpec {
  /** The text it was parsed from, kept for status output and logs. */
  text: string;
  segments: ToneSegment[];
  /** Level of each frequency. */
  levelDbm0: number;
}

export type TonePlan = { country: string } & Record<ToneName, ToneSpec>;

/** Default level per frequency; commercial adapters use about -19 dBm0. */
export const DEFAULT_TONE_LEVEL_DBM0 = -19;
/** The off-hook warning is meant to be heard across a room, so it is played louder. */
export const OFF_HOOK_WARNING_LEVEL_DBM0 = -10;
const MAX_TEXT = 1000;
const MAX_ITEMS = 64;
const MAX_FREQS = 4;
const MAX_DURATION_MS = 600_000;

export class ToneSyntaxError extends Error {
  constructor(
    readonly text: string,
    /** Index of the comma-separated item that is wrong (0-based), or -1 for the whole text. */
    readonly item: number,
    readonly reason: string,
  ) {
    super(`bad tone ${JSON.stringify(text.length > 80 ? text.slice(0, 80) + '...' : text)}${item >= 0 ? ` item ${item + 1}` : ''}: ${reason}`);
    this.name = 'ToneSyntaxError';
  }
}

export class UnknownCountryError extends Error {
  constructor(readonly country: string) {
    super(`no tone plan for country ${JSON.stringify(country)} (known: ${COUNTRIES.join(', ')})`);
    this.name = 'UnknownCountryError';
  }
}

function parseFrequency(text: string, s: string, item: number, sampleRate: number): number {
  if (!/^\d{1,5}(\.\d{1,3})?$/.test(s)) throw new ToneSyntaxError(text, item, `frequency ${JSON.stringify(s)} is not a number of Hz`);
  const f = Number(s);
  if (f !== 0 && (f < 10 || f >= sampleRate / 2)) throw new ToneSyntaxError(text, item, `frequency ${f} Hz outside 10..${sampleRate / 2} Hz`);
  return f;
}

/** Parses an indications.conf tone. Throws ToneSyntaxError naming the item and the reason. */
export function parseTone(text: string, levelDbm0 = DEFAULT_TONE_LEVEL_DBM0, sampleRate = 8000): ToneSpec {
  if (typeof text !== 'string') throw new ToneSyntaxError(String(text), -1, 'not a string');
  if (text.length > MAX_TEXT) throw new ToneSyntaxError(text, -1, `longer than ${MAX_TEXT} characters`);
  if (!Number.isFinite(levelDbm0) || levelDbm0 > 3 || levelDbm0 < -80) throw new ToneSyntaxError(text, -1, `level ${levelDbm0} dBm0 outside -80..3`);
  const items = text.split(',').map((s) => s.trim());
  if (items.length > MAX_ITEMS) throw new ToneSyntaxError(text, -1, `more than ${MAX_ITEMS} items`);
  const segments: ToneSegment[] = [];
  items.forEach((raw, i) => {
    if (raw === '') throw new ToneSyntaxError(text, i, 'empty item');
    if (segments.length && segments[segments.length - 1].durationMs === null) {
      throw new ToneSyntaxError(text, i, 'follows an item without a duration, which never ends');
    }
    const once = raw.startsWith('!');
    const body = once ? raw.slice(1) : raw;
    const slash = body.indexOf('/');
    const freqPart = slash < 0 ? body : body.slice(0, slash);
    let durationMs: number | null = null;
    if (slash >= 0) {
      const d = body.slice(slash + 1);
      if (!/^\d{1,7}$/.test(d)) throw new ToneSyntaxError(text, i, `duration ${JSON.stringify(d)} is not a whole number of ms`);
      durationMs = Number(d);
      if (durationMs < 1 || durationMs > MAX_DURATION_MS) throw new ToneSyntaxError(text, i, `duration ${durationMs} ms outside 1..${MAX_DURATION_MS}`);
    }
    const modulated = freqPart.includes('*');
    const parts = freqPart.split(modulated ? '*' : '+');
    if (modulated && (parts.length !== 2 || freqPart.includes('+'))) throw new ToneSyntaxError(text, i, 'modulation takes exactly two frequencies: carrier*modulator');
    if (parts.length > MAX_FREQS) throw new ToneSyntaxError(text, i, `more than ${MAX_FREQS} frequencies`);
    const freqs = parts.map((p) => parseFrequency(text, p, i, sampleRate));
    if (modulated && (freqs[0] === 0 || freqs[1] === 0)) throw new ToneSyntaxError(text, i, 'cannot modulate silence');
    segments.push({ freqs: freqs.filter((f) => f !== 0), modulated, durationMs, once });
  });
  return { text, segments, levelDbm0 };
}

/** The built-in plan for a country, with per-tone overrides (indications.conf text) applied on top. */
export function tonePlan(country: string, overrides: Partial<Record<ToneName, string>> = {}, levelDbm0 = DEFAULT_TONE_LEVEL_DBM0): TonePlan {
  const data = (TONE_PLAN_DATA as Record<string, Record<ToneName, string>>)[country];
  if (!Object.prototype.hasOwnProperty.call(TONE_PLAN_DATA, country) || !data) throw new UnknownCountryError(country);
  const plan = { country } as TonePlan;
  for (const name of TONE_NAMES) {
    const level = name === 'offHookWarning' ? Math.max(levelDbm0, OFF_HOOK_WARNING_LEVEL_DBM0) : levelDbm0;
    plan[name] = parseTone(overrides[name] ?? data[name], level);
  }
  for (const key of Object.keys(overrides)) {
    if (!(TONE_NAMES as readonly string[]).includes(key)) throw new ToneSyntaxError(String(key), -1, `unknown tone name (known: ${TONE_NAMES.join(', ')})`);
  }
  return plan;
}
