/**
 * What a line's state machine (line-controller.ts) deals in, and the seams through which it acts: the calls it
 * knows of (CallInfo, IncomingCall, the second call beside one), how they end, the tones it asks for, its timers,
 * and the LineSeams the agent gives it to play tones, ring the phone and place, answer, hold and transfer calls.
 */
import type { Clock } from '../../hal/clock.js';
import type { DigitMap } from './digit-map.js';
import type { LineState } from './line-controller.js';

/** The call-progress tones the controller asks for; the tone plan of the line decides how they sound. */
export type LineTone = 'dial' | 'stutter' | 'ringback' | 'busy' | 'congestion' | 'off-hook-warning' | 'call-waiting';

export interface IncomingCall {
  /** Caller's number and name as they should appear on the phone's display; absent when withheld/unknown. */
  number?: string;
  name?: string;
  /** 'private' when the caller withheld it, 'unavailable' when the network doesn't know. */
  withheld?: 'private' | 'unavailable';
  /** The INVITE's Alert-Info, for distinctive ring. */
  alertInfo?: string;
  remote: string;
}

export interface CallInfo {
  direction: 'in' | 'out';
  remote: string;
  codec: string | null;
  startedAt: number;
  answeredAt: number | null;
  /** The call's media once it is answered (set by the call layer): its quality so far, for the log and status. */
  media?: CallQualitySource | null;
}

/** A call's quality as its media measured it (RFC 3550 figures), for the call log and the status API. */
export interface CallQuality {
  packetsSent: number;
  packetsReceived: number;
  /** Cumulative loss of the far end's stream (RFC 3550 A.3). */
  lost: number;
  /** Interarrival jitter of the far end's stream (RFC 3550 A.8), in ms. */
  jitterMs: number;
  /** Round-trip time from the far end's RTCP reports; null until one came. */
  rttMs: number | null;
  /** Earpiece frames that had lost audio filled in by concealment. */
  concealedFrames: number;
  playoutDelayMs: number;
}

export interface CallQualitySource {
  quality(): CallQuality;
}

/**
 * The line's second call, beside the one in the earpiece: a call waiting to be answered (heard as the call-waiting
 * beep) or one we put on hold with a hook flash.
 */
export interface OtherCall {
  /** 'conference': not held but in the earpiece too, mixed with `call` (a three-way conference). */
  kind: 'waiting' | 'held' | 'conference';
  call: CallInfo;
  /** A waiting call's caller, for the caller ID when the phone is rung for it after a hang-up. */
  caller?: IncomingCall;
  /**
   * Held by a flash in a lone call, to call someone else (a consultation): hanging up once that call is placed
   * transfers this one to it.
   */
  transfer?: boolean;
}

/** How a call ended, for the call log (GET /api/calls). */
export type CallCause = 'normal' | 'busy' | 'failed' | 'remote-hangup' | 'no-answer' | 'cancelled' | 'transferred';

/** What the line controller needs from the rest of the agent. */
/**
 * Off-hook auto-dial. With no delay (a hotline: door phones, lift phones) lifting the handset calls `uri` at once
 * and the phone never hears dial tone; with one (a warm line) the phone hears dial tone and may dial as usual, and
 * `uri` is called only when no digit came within `delayMs`.
 */
export interface Hotline {
  uri: string;
  delayMs: number;
}

export interface LineSeams {
  clock: Clock;
  digitMap: DigitMap;
  /** Dial-plan targets for speed-dial codes (digits -> URI). */
  speedDial?: Readonly<Record<string, string>>;
  hotline?: Hotline;
  /** Plays a tone into the earpiece, or silence with null. */
  playTone(tone: LineTone | null): void;
  /** Starts the ring cadence (with caller ID at the right moment) or stops it. */
  startRinging(call: IncomingCall): void;
  stopRinging(): void;
  /** Places a call to the dialed digits (or a speed-dial URI); the agent reports back with the call* methods. */
  placeCall(target: { digits: string; uri?: string }): void;
  /** Answers the ringing call. */
  answerCall(): void;
  /** Ends the line's call in the earpiece (BYE, CANCEL or a final response to an INVITE). */
  hangUp(reason: 'on-hook' | 'timeout'): void;
  /**
   * Hook flash with a second call: the call in the earpiece (if it is still up) goes on hold and the other one
   * comes to the earpiece, answered if it was waiting, taken off hold if it was held.
   */
  swapCalls(): void;
  /**
   * Hook flash in a lone call (`transfer` on): the call in the earpiece goes on hold for a consultation call; the
   * phone hears dial tone.
   */
  consult(): void;
  /** Back from a consultation to the held call: the consultation call, if placed, is hung up. */
  endConsultation(): void;
  /** Hook flash once the consultation call is answered: the held call joins it in a three-way conference. */
  conference(): void;
  /** Hook flash in the conference: the party added last (the consultation call) is hung up; the first stays. */
  endConference(): void;
  /**
   * Hung up during a consultation call: the held call is transferred to the consultation's target, and our part of
   * both ends. The agent reports the outcome with transferDone.
   */
  transferCalls(): void;
  /** Whether a flash in a lone call starts a consultation (`[[line]] transfer`); default true. */
  transfer?: boolean;
  /** The call-waiting beep over the call, on or off. */
  callWaitingTone(on: boolean): void;
  /** Whether a second incoming call may wait on a busy line (`[[line]] call_waiting`); default true. */
  callWaiting?: boolean;
  /** A call began, was answered or ended: for the call log. */
  onCall?(event: 'started' | 'answered' | 'ended', call: CallInfo, cause?: CallCause): void;
  /** The state changed: for status, logs and the call log. */
  onStateChange?(from: LineState, to: LineState): void;
}

export interface LineTimers {
  /** Dial tone without a first digit, then the off-hook warning (ms). */
  firstDigitMs: number;
  /** Inter-digit timer while nothing matches yet (ms). */
  longMs: number;
  /** Inter-digit timer once a rule is complete but a longer one could still match (ms). */
  shortMs: number;
  /** How long busy/congestion play before the off-hook warning (ms). */
  toneTimeoutMs: number;
}

export const DEFAULT_LINE_TIMERS: LineTimers = { firstDigitMs: 15_000, longMs: 10_000, shortMs: 3_000, toneTimeoutMs: 60_000 };

