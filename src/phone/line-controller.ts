/**
 * One state machine per FXS line: it joins what the phone does (hook events and digits, already decoded by the
 * HookDetector and the DtmfDetector) to what the line plays (tones, ringing, caller ID) and to the calls the agent
 * places and answers. It knows neither SIP nor the hardware: the agent gives it the seams in line-seams.ts.
 *
 * The states are the ones the status API promises (shared/INTERFACES.md).
 */
import type { TimerHandle } from '../../hal/clock.js';
import { DEFAULT_LINE_TIMERS, type CallCause, type CallInfo, type CallQualitySource, type IncomingCall, type LineSeams, type LineTimers, type OtherCall } from './line-seams.js';

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

export class LineController {
  state: LineState = 'idle';
  hook: 'on' | 'off' = 'on';
  /** Digits collected in the current dialing attempt (shown by the status API). */
  digits = '';
  call: CallInfo | null = null;
  /** A call waiting or on hold beside `call`; at most one. */
  other: OtherCall | null = null;
  /**
   * Messages wait in the line's voicemail (the server's message-summary NOTIFY says so): the phone hears stutter
   * dial tone instead of dial tone, as on any commercial line, until a NOTIFY says they were heard.
   */
  messageWaiting = false;
  /** The voicemail's counts from that NOTIFY, when it gave them. */
  voiceMessages: { new: number; old: number } | null = null;
  /** The two calls of a transfer whose REFER is unanswered: their end goes in the call log with its outcome. */
  private transferring: { held: OtherCall; consultation: CallInfo } | null = null;
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
        this.startOver();
        return;
      case 'ringing':
        this.seams.stopRinging();
        this.seams.answerCall();
        // A call rung again after a hang-up (it was on hold) was answered long ago.
        if (this.call && this.call.answeredAt === null) this.answered(this.call);
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
    if (this.other?.transfer && this.call && (this.state === 'calling' || this.state === 'ringback' || this.state === 'connected')) {
      // Hanging up with a consultation call placed (ringing or answered) hands the held call over to it.
      this.transferring = { held: this.other, consultation: this.call };
      this.call = null;
      this.other = null;
      this.digits = '';
      this.enter('idle');
      this.seams.transferCalls();
      return;
    }
    switch (this.state) {
      case 'calling':
      case 'ringback':
      case 'connected':
        this.seams.hangUp('on-hook');
        if (this.call) this.ended(this.call, this.state === 'connected' ? 'normal' : 'cancelled');
        break;
      case 'ringing':
        return; // the phone was on hook already while ringing: nothing changes
      default:
        break;
    }
    this.call = null;
    this.digits = '';
    const other = this.other;
    if (other) {
      // Hanging up with a call waiting or on hold rings the phone for it, as commercial adapters do: it is answered
      // (or taken off hold) by picking up.
      this.other = null;
      if (other.kind === 'waiting') this.seams.callWaitingTone(false);
      this.call = other.call;
      this.enter('ringing');
      this.seams.startRinging(other.caller ?? { remote: other.call.remote });
      return;
    }
    this.enter('idle');
  }

  /**
   * Hook flash. With a second call (waiting or on hold), in a call or after the far end hung up: swap to it. With
   * no call, during dial tone or dialing: start over with fresh dial tone (or the hotline's call). A flash in a lone call does nothing
   * (no consultation call or transfer yet).
   */
  flash(): void {
    if (this.state === 'connected' && this.other?.transfer) {
      if (this.other.kind === 'held') this.conference();
      else this.leaveConference();
      return;
    }
    if ((this.state === 'connected' || this.state === 'disconnected') && this.other) {
      this.swap();
      return;
    }
    const dialling = this.state === 'dialing' || this.state === 'busy' || this.state === 'congestion' || this.state === 'dialtone';
    if (this.other?.transfer && (dialling || this.state === 'calling' || this.state === 'ringback')) {
      this.backToHeld();
      return;
    }
    if (this.state === 'connected' && this.seams.transfer !== false) {
      this.consult();
      return;
    }
    if (dialling) this.startOver();
  }

  /** A flash in a lone call: it goes on hold and the phone gets dial tone for a second call. */
  private consult(): void {
    this.other = { kind: 'held', call: this.call!, transfer: true };
    this.call = null;
    this.seams.consult();
    this.startOver();
  }

  /** A flash once the consultation call is answered: the held call joins it, and the phone talks to both. */
  private conference(): void {
    this.other = { ...this.other!, kind: 'conference' };
    this.seams.conference();
  }

  /** A flash in the conference: the consultation call is hung up and the line is back to the first call alone. */
  private leaveConference(): void {
    const first = this.other!;
    if (this.call) this.ended(this.call, 'normal');
    this.call = first.call;
    this.other = null;
    this.seams.endConference();
  }

  /** A flash during a consultation, before its call is answered: that call is dropped and the held one comes back. */
  private backToHeld(): void {
    const held = this.other!;
    this.disarm();
    this.seams.playTone(null);
    if (this.call) this.ended(this.call, 'cancelled');
    this.call = held.call;
    this.other = null;
    this.digits = '';
    this.seams.endConsultation();
    this.enter('connected');
  }

  /**
   * Off hook, or a flash to start again: fresh dial tone and an empty number; on a hotline, its call instead (a
   * flash after a failed hotline call tries it again).
   */
  private startOver(): void {
    this.disarm();
    this.digits = '';
    const hotline = this.seams.hotline;
    if (hotline?.delayMs === 0) {
      this.seams.playTone(null);
      this.startCall({ digits: '', uri: hotline.uri });
      return;
    }
    this.seams.playTone(this.messageWaiting ? 'stutter' : 'dial');
    this.arm(hotline ? hotline.delayMs : this.timers.firstDigitMs);
    this.enter('dialtone');
  }

  private swap(): void {
    const other = this.other!;
    if (other.kind === 'waiting') this.seams.callWaitingTone(false);
    const previous = this.state === 'connected' ? this.call : null;
    this.call = other.call;
    this.other = previous ? { kind: 'held', call: previous } : null;
    this.seams.swapCalls(); // after the exchange: the agent reads the line's new call (its codec) as it answers
    if (other.call.answeredAt === null) this.answered(other.call);
    if (this.state === 'disconnected') {
      this.disarm();
      this.seams.playTone(null);
      this.enter('connected');
    }
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

  /** The voicemail's news; it shows at the next dial tone (one already sounding is left as it is). */
  setMessageWaiting(waiting: boolean, voice: { new: number; old: number } | null): void {
    this.messageWaiting = waiting;
    this.voiceMessages = voice;
  }

  incomingCall(call: IncomingCall): boolean {
    if (this.state !== 'idle' || this.hook !== 'on') return false; // busy: the agent answers 486
    this.call = { direction: 'in', remote: call.remote, codec: null, startedAt: this.seams.clock.now(), answeredAt: null };
    this.seams.onCall?.('started', this.call);
    this.enter('ringing');
    this.seams.startRinging(call);
    return true;
  }

  /**
   * A second incoming call while the phone is in a call: it waits, announced by the call-waiting beep, until a
   * flash answers it. Refused (false: the agent answers 486) when call waiting is off or a second call exists.
   */
  callWaiting(call: IncomingCall): boolean {
    if (this.state !== 'connected' || this.other || this.seams.callWaiting === false) return false;
    const info: CallInfo = { direction: 'in', remote: call.remote, codec: null, startedAt: this.seams.clock.now(), answeredAt: null };
    this.other = { kind: 'waiting', call: info, caller: call };
    this.seams.onCall?.('started', info);
    this.seams.callWaitingTone(true);
    return true;
  }

  /**
   * The outcome of the transfer asked for at hang-up. Accepted: both calls end as transferred. Refused: the
   * consultation ended normally, and the phone is rung for the held call (true: the agent keeps it for the answer)
   * unless the line is busy again by now (false: the agent ends it). Gone: the held call's far end hung up first.
   */
  transferDone(outcome: 'accepted' | 'refused' | 'gone'): boolean {
    const t = this.transferring;
    this.transferring = null;
    if (!t) return false;
    if (outcome === 'accepted') {
      this.ended(t.consultation, 'transferred');
      this.ended(t.held.call, 'transferred');
      return false;
    }
    this.ended(t.consultation, t.consultation.answeredAt === null ? 'cancelled' : 'normal');
    if (outcome === 'gone') {
      this.ended(t.held.call, 'remote-hangup');
      return false;
    }
    if (this.state !== 'idle' || this.hook !== 'on') {
      this.ended(t.held.call, 'failed');
      return false;
    }
    this.call = t.held.call;
    this.enter('ringing');
    this.seams.startRinging({ remote: t.held.call.remote });
    return true;
  }

  /** The waiting caller gave up, or the far end of the held call hung up. */
  otherCallEnded(): void {
    const other = this.other;
    if (!other) return;
    this.other = null;
    if (other.kind === 'waiting') this.seams.callWaitingTone(false);
    this.ended(other.call, other.kind === 'waiting' ? 'no-answer' : 'remote-hangup');
  }

  /** The caller gave up (CANCEL) or the call failed before we answered (or, rung again, the held call ended). */
  incomingCallEnded(): void {
    if (this.state !== 'ringing') return;
    this.seams.stopRinging();
    if (this.call) this.ended(this.call, this.call.answeredAt === null ? 'no-answer' : 'remote-hangup');
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
  callAnswered(codec: string | null, media: CallQualitySource | null = null): void {
    if (this.state !== 'calling' && this.state !== 'ringback') return;
    this.seams.playTone(null);
    if (this.call) {
      this.call.codec = codec;
      this.call.media = media;
      this.answered(this.call);
    }
    this.enter('connected');
  }

  /** The outgoing call failed: busy (486/600) or anything else (congestion). */
  callFailed(kind: 'busy' | 'congestion'): void {
    if (this.state !== 'calling' && this.state !== 'ringback') return;
    if (this.call) this.ended(this.call, kind === 'busy' ? 'busy' : 'failed');
    this.call = null;
    this.seams.playTone(kind);
    this.arm(this.timers.toneTimeoutMs);
    this.enter(kind);
  }

  /** The far end hung up a connected call. */
  remoteHangUp(): void {
    if (this.state !== 'connected') return;
    if (this.call) this.ended(this.call, 'remote-hangup');
    if (this.other?.kind === 'conference') {
      // One party of the conference left: the phone goes on talking to the other.
      this.call = this.other.call;
      this.other = null;
      return;
    }
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
    this.seams.onCall?.('started', this.call);
    this.enter('calling');
    this.seams.placeCall(target);
  }

  private onTimer(): void {
    this.timer = undefined;
    switch (this.state) {
      case 'dialtone':
        if (this.seams.hotline) {
          // A warm line with no digit dialled in time: its call goes.
          this.seams.playTone(null);
          this.startCall({ digits: '', uri: this.seams.hotline.uri });
        } else this.seams.playTone('off-hook-warning'); // as below
        return;
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

  private answered(call: CallInfo): void {
    call.answeredAt = this.seams.clock.now();
    this.seams.onCall?.('answered', call);
  }

  private ended(call: CallInfo, cause: CallCause): void {
    this.seams.onCall?.('ended', call, cause);
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
