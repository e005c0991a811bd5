/**
 * Ringing: the cadence of each country, distinctive ring from the INVITE's Alert-Info, and `RingCadence`, the
 * state machine that switches the ringer on and off on an injected clock.
 *
 * A cadence is a list of alternating on/off times in ms, starting with "on", repeated until stopped.
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';

export type Cadence = readonly number[];

export const COUNTRY_RING_CADENCES: Readonly<Record<string, Cadence>> = Object.freeze({
  us: [2000, 4000],
  uk: [400, 200, 400, 2000],
  de: [1000, 4000],
  fr: [1500, 3500],
  nl: [1000, 4000],
  it: [1000, 4000],
  au: [400, 200, 400, 2000],
  jp: [1000, 2000],
});

/** Telcordia GR-506 distinctive ringing, which Alert-Info names as Bellcore-dr1 .. Bellcore-dr5. */
export const BELLCORE_CADENCES: Readonly<Record<string, Cadence>> = Object.freeze({
  'Bellcore-dr1': [2000, 4000],
  'Bellcore-dr2': [800, 400, 800, 4000],
  'Bellcore-dr3': [400, 200, 400, 200, 800, 4000],
  'Bellcore-dr4': [300, 200, 1000, 200, 300, 4000],
  'Bellcore-dr5': [500, 5500],
});

/** PBXs mark calls from their own extensions `info=alert-internal`; those ring long-long like most desk phones do. */
const INTERNAL_RING = 'Bellcore-dr2';
const MAX_ALERT_INFO = 1024;

export class CadenceError extends Error {
  constructor(readonly cadence: unknown, readonly reason: string) {
    super(`bad ring cadence ${JSON.stringify(cadence)}: ${reason}`);
    this.name = 'CadenceError';
  }
}

/** Checks a cadence from config: 2..16 whole ms values in 50..20000, even count. */
export function validateCadence(c: unknown): Cadence {
  if (!Array.isArray(c) || c.length < 2 || c.length > 16 || c.length % 2 !== 0) throw new CadenceError(c, 'needs an even number (2-16) of on/off times');
  for (const v of c) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 50 || v > 20000) throw new CadenceError(c, `time ${String(v)} is not a whole number of ms in 50..20000`);
  }
  return Object.freeze([...c]);
}

export interface ChosenRing {
  /** `normal`, or the distinctive ring's name (Bellcore-drN). */
  name: string;
  cadence: Cadence;
}

/**
 * Which ring an Alert-Info header value asks for: `Bellcore-drN` anywhere in a URI (`<http://127.0.0.1/Bellcore-dr2>`),
 * `info=alert-internal`, or RFC 7462 `urn:alert:source:internal`. Returns null for anything else (ring normally).
 */
export function distinctiveRingFromAlertInfo(alertInfo: string | undefined): string | null {
  if (typeof alertInfo !== 'string' || alertInfo.length === 0) return null;
  const v = alertInfo.slice(0, MAX_ALERT_INFO).toLowerCase();
  const dr = /bellcore-dr([1-5])(?![0-9])/.exec(v);
  if (dr) return `Bellcore-dr${dr[1]}`;
  if (/info\s*=\s*"?alert-internal/.test(v) || v.includes('urn:alert:source:internal')) return INTERNAL_RING;
  return null;
}

/** The cadence for a call: the distinctive ring Alert-Info asks for, else the country's (us when unknown). */
export function chooseRing(country: string, alertInfo?: string): ChosenRing {
  const dr = distinctiveRingFromAlertInfo(alertInfo);
  if (dr) return { name: dr, cadence: BELLCORE_CADENCES[dr] };
  const own = Object.prototype.hasOwnProperty.call(COUNTRY_RING_CADENCES, country) ? COUNTRY_RING_CADENCES[country] : COUNTRY_RING_CADENCES.us;
  return { name: 'normal', cadence: own };
}

export interface RingEvents {
  ringOn(): void;
  ringOff(): void;
  /**
   * The first silent interval long enough for caller ID has begun and lasts `silenceMs` (Bell caller ID goes
   * here). Once per start. "Long enough" skips the short gap inside a double ring (uk 0.2 s).
   */
  firstSilence?(silenceMs: number): void;
}

/** Shortest gap that can carry caller ID: 0.5 s lead, a short SDMF burst, 0.2 s guard. */
export const MIN_CALLER_ID_SILENCE_MS = 1000;

/** Drives the ringer through a cadence. Whole cadence cycles are counted so the line can give up after N rings. */
export class RingCadence {
  state: 'idle' | 'on' | 'off' = 'idle';
  /** Whole cadence cycles completed since start. */
  cycles = 0;
  private cadence: Cadence = [];
  private index = 0;
  private timer: TimerHandle | undefined;
  private sawSilence = false;

  constructor(private readonly clock: Clock, private readonly events: RingEvents) {}

  /** Starts ringing now with the first "on" of the cadence. Restarting while ringing begins the cadence anew. */
  start(cadence: Cadence): void {
    const c = validateCadence(cadence as unknown);
    this.clock.clearTimeout(this.timer);
    this.cadence = c;
    this.index = 0;
    this.cycles = 0;
    this.sawSilence = false;
    this.state = 'on';
    this.events.ringOn();
    this.arm();
  }

  /** Stops at once (answer, cancel); the ringer is switched off if it was on. */
  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const wasOn = this.state === 'on';
    this.state = 'idle';
    if (wasOn) this.events.ringOff();
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => this.segmentEnded(), this.cadence[this.index]);
  }

  private segmentEnded(): void {
    this.timer = undefined;
    if (this.state === 'idle') return;
    this.index = (this.index + 1) % this.cadence.length;
    if (this.index === 0) this.cycles++;
    if (this.state === 'on') {
      this.state = 'off';
      this.events.ringOff();
      this.arm();
      if (!this.sawSilence && this.cadence[this.index] >= MIN_CALLER_ID_SILENCE_MS) {
        this.sawSilence = true;
        this.events.firstSilence?.(this.cadence[this.index]);
      }
    } else {
      this.state = 'on';
      this.events.ringOn();
      this.arm();
    }
  }
}
