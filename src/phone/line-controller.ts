/**
 * One state machine per FXS line: it joins what the phone does (hook events and digits, already decoded by the
 * HookDetector and the DtmfDetector) to what the line plays (tones, ringing, caller ID) and to the calls the agent
 * places and answers. It knows neither SIP nor the hardware: the agent gives it the seams below.
 *
 * The states are the ones the status API promises (shared/INTERFACES.md).
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { DigitMap } from './digit-map.js';

export type LineState =
  | 'idle'
  | 'dialtone'
  | 'dialing'
  | 'calling'
  | 'ringback'
  | 'ringing'
  | 'connected'
  | 'busy'
  | 'congestion'
  | 'disconnected';

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
}

/** What the line controller needs from the rest of the agent. */
export interface LineSeams {
  clock: Clock;
  digitMap: DigitMap;
  /** Dial-plan targets for speed-dial codes (digits -> URI). */
  speedDial?: Readonly<Record<string, string>>;
  /** Plays a tone into the earpiece, or silence with null. */
  playTone(tone: LineTone | null): void;
  /** Starts the ring cadence (with caller ID at the right moment) or stops it. */
  startRinging(call: IncomingCall): void;
  stopRinging(): void;
  /** Places a call to the dialed digits (or a speed-dial URI); the agent reports back with the call* methods. */
  placeCall(target: { digits: string; uri?: string }): void;
  /** Answers the ringing call. */
  answerCall(): void;
  /** Ends whatever call exists (BYE, CANCEL or a final response to an INVITE). */
  hangUp(reason: 'on-hook' | 'timeout'): void;
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

export class LineController {
  state: LineState = 'idle';
  hook: 'on' | 'off' = 'on';
  /** Digits collected in the current dialing attempt (shown by the status API). */
  digits = '';
  call: CallInfo | null = null;
  private timer: TimerHandle | undefined;
  private readonly timers: LineTimers;

  constructor(
    readonly id: number,
    private readonly seams: LineSeams,
    timers: Partial<LineTimers> = {},
  ) {
    this.timers = { ...DEFAULT_LINE_TIMERS, ...timers };
  }

  // --- events from the phone -----------------------------------------------------------------------------------

  offHook(): void {
    this.hook = 'off';
    switch (this.state) {
      case 'idle':
      case 'disconnected':
        this.digits = '';
        this.enter('dialtone');
        this.seams.playTone('dial');
        this.arm(this.timers.firstDigitMs);
        return;
      case 'ringing':
        this.seams.stopRinging();
        this.seams.answerCall();
        if (this.call) this.call.answeredAt = this.seams.clock.now();
        this.enter('connected');
        return;
      default:
        return; // already off hook: a repeated event changes nothing
    }
  }

  onHook(): void {
    this.hook = 'on';
    this.disarm();
    this.seams.playTone(null);
    switch (this.state) {
      case 'calling':
      case 'ringback':
      case 'connected':
        this.seams.hangUp('on-hook');
        break;
      case 'ringing':
        return; // the phone was on hook already while ringing: nothing changes
      default:
        break;
    }
    this.call = null;
    this.digits = '';
    this.enter('idle');
  }

  /** Hook flash: with no call, a flash during dial tone or dialing starts over with fresh dial tone. */
  flash(): void {
    if (this.state === 'dialing' || this.state === 'busy' || this.state === 'congestion' || this.state === 'dialtone') {
      this.disarm();
      this.digits = '';
      this.seams.playTone('dial');
      this.arm(this.timers.firstDigitMs);
      this.enter('dialtone');
    }
    // In a call, flash belongs to call waiting / transfer, which arrive with the INVITE session work.
  }

  /** A digit from the DTMF detector or the rotary pulse decoder. */
  digit(d: string): void {
    if (this.state !== 'dialtone' && this.state !== 'dialing') return; // digits in a call go to the far end elsewhere
    if (this.state === 'dialtone') {
      this.seams.playTone(null);
      this.enter('dialing');
    }
    this.digits += d;
    this.decide(false);
  }

  // --- events from the network side --------------------------------------------------------------------------

  incomingCall(call: IncomingCall): boolean {
    if (this.state !== 'idle' || this.hook !== 'on') return false; // busy: the agent answers 486
    this.call = { direction: 'in', remote: call.remote, codec: null, startedAt: this.seams.clock.now(), answeredAt: null };
    this.enter('ringing');
    this.seams.startRinging(call);
    return true;
  }

  /** The caller gave up (CANCEL) or the call failed before we answered. */
  incomingCallEnded(): void {
    if (this.state !== 'ringing') return;
    this.seams.stopRinging();
    this.call = null;
    this.enter('idle');
  }

  /** 180/183 for our outgoing call. */
  callRinging(): void {
    if (this.state !== 'calling') return;
    this.seams.playTone('ringback');
    this.enter('ringback');
  }

  /** 200 for our outgoing call. */
  callAnswered(codec: string | null): void {
    if (this.state !== 'calling' && this.state !== 'ringback') return;
    this.seams.playTone(null);
    if (this.call) {
      this.call.answeredAt = this.seams.clock.now();
      this.call.codec = codec;
    }
    this.enter('connected');
  }

  /** The outgoing call failed: busy (486/600) or anything else (congestion). */
  callFailed(kind: 'busy' | 'congestion'): void {
    if (this.state !== 'calling' && this.state !== 'ringback') return;
    this.call = null;
    this.seams.playTone(kind);
    this.arm(this.timers.toneTimeoutMs);
    this.enter(kind);
  }

  /** The far end hung up a connected call. */
  remoteHangUp(): void {
    if (this.state !== 'connected') return;
    this.call = null;
    this.seams.playTone('congestion');
    this.arm(this.timers.toneTimeoutMs);
    this.enter('disconnected');
  }

  // --- internals ---------------------------------------------------------------------------------------------

  private decide(timedOut: boolean): void {
    this.disarm();
    // Speed-dial codes act as extra literal rules of the dial plan that dial a URI instead of the digits.
    const speedDial = this.seams.speedDial ?? {};
    const speed = speedDial[this.digits];
    const speedLonger = Object.keys(speedDial).some((k) => k.length > this.digits.length && k.startsWith(this.digits));
    let verdict = this.seams.digitMap.evaluate(this.digits, timedOut);
    if (speed) {
      if (timedOut || (!speedLonger && (verdict === 'dial' || verdict === 'reject'))) {
        this.startCall({ digits: this.digits, uri: speed });
      } else {
        this.arm(this.timers.shortMs);
      }
      return;
    }
    if (speedLonger && verdict === 'reject' && !timedOut) verdict = 'wait-long';
    switch (verdict) {
      case 'dial':
        this.startCall({ digits: this.digits });
        return;
      case 'wait-short':
        this.arm(this.timers.shortMs);
        return;
      case 'wait-long':
        this.arm(this.timers.longMs);
        return;
      case 'reject':
        this.seams.playTone('congestion');
        this.arm(this.timers.toneTimeoutMs);
        this.enter('congestion');
        return;
    }
  }

  private startCall(target: { digits: string; uri?: string }): void {
    this.call = { direction: 'out', remote: target.uri ?? target.digits, codec: null, startedAt: this.seams.clock.now(), answeredAt: null };
    this.enter('calling');
    this.seams.placeCall(target);
  }

  private onTimer(): void {
    this.timer = undefined;
    switch (this.state) {
      case 'dialtone':
      case 'busy':
      case 'congestion':
      case 'disconnected':
        // Left off hook doing nothing: the howler tells the household the phone is off the hook.
        this.seams.playTone('off-hook-warning');
        return;
      case 'dialing':
        this.decide(true);
        return;
      default:
        return;
    }
  }

  private arm(ms: number): void {
    this.disarm();
    this.timer = this.seams.clock.setTimeout(() => this.onTimer(), ms);
  }

  private disarm(): void {
    this.seams.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private enter(next: LineState): void {
    const from = this.state;
    if (from === next) return;
    this.state = next;
    this.seams.onStateChange?.(from, next);
  }
}
