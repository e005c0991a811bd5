/**
 * One analog (FXS) port: a board's line and audio, joined to the line controller. It owns the per-line signal
 * path: the capture clock of the audio port paces everything; each 20 ms frame from the mouthpiece goes to the
 * DTMF detector while the phone dials and to the call while one is up, and each tick pulls one frame for the
 * earpiece (caller ID, tones, far-end audio, silence).
 *
 * Hook edges are decoded by the HookDetector the agent attaches; its events arrive here as `hookEvent`.
 */
import type { AudioPort } from '../../hal/audio-port.js';
import type { Clock } from '../../hal/clock.js';
import type { Line } from '../../hal/line.js';
import { DtmfDetector } from '../media/dtmf-detector.js';
import type { Cadence } from '../media/ring-cadence.js';
import type { TonePlan } from '../media/tone-plan.js';
import { DigitMap } from './digit-map.js';
import type { HookEvent } from './hook-detector.js';
import { Earpiece, type RemoteAudio } from './earpiece.js';
import { LineController, type LineState } from './line-controller.js';
import type { CallCause, CallInfo, Hotline, IncomingCall, LineTimers } from './line-seams.js';
import { Ringer, type CallerIdTiming } from './ringer.js';


/** The network side of a line: the agent places, answers and ends calls. */
export interface CallSide {
  placeCall(port: FxsPort, target: { digits: string; uri?: string }): void;
  answerCall(port: FxsPort): void;
  hangUp(port: FxsPort, reason: 'on-hook' | 'timeout'): void;
  /** Hook flash with a second call: hold the one in the earpiece, take the other (LineSeams.swapCalls). */
  swapCalls(port: FxsPort): void;
  /** Consultation, conference and transfer (LineSeams.consult, endConsultation, conference ...). */
  consult(port: FxsPort): void;
  endConsultation(port: FxsPort): void;
  conference(port: FxsPort): void;
  endConference(port: FxsPort): void;
  transferCalls(port: FxsPort): void;
}

/** Caller ID for one incoming call, ready to play: the clip and, for ETSI FSK, the alert before it. */
export interface CallerIdSignal {
  clip: Int16Array;
  alert: Int16Array | null;
}

export interface FxsPortOptions {
  id: number;
  line: Line;
  audio: AudioPort;
  clock: Clock;
  dialPlan: string;
  speedDial?: Readonly<Record<string, string>>;
  /** Off-hook auto-dial (`[[line]] hotline`, `hotline_delay_s`). */
  hotline?: Hotline;
  tonePlan: TonePlan;
  /** The ring cadence for a call (the line's country, or the distinctive ring its Alert-Info asks for). */
  ringCadence(call: IncomingCall): Cadence;
  callerIdTiming: CallerIdTiming;
  /** Builds the caller-ID signal for a call, or null when caller ID is off. */
  callerId(call: IncomingCall): CallerIdSignal | null;
  calls: CallSide;
  /** Whether a second call may wait on a busy line (`[[line]] call_waiting`). */
  callWaiting?: boolean;
  /** Whether a flash in a lone call starts a consultation, and hanging up then transfers (`[[line]] transfer`). */
  transfer?: boolean;
  timers?: Partial<LineTimers>;
  /** A call began, was answered or ended (the call log). */
  onCall?(port: FxsPort, event: 'started' | 'answered' | 'ended', call: CallInfo, cause?: CallCause): void;
  onStateChange?(port: FxsPort, from: LineState, to: LineState): void;
  /** A digit was recognised, and how (for logs and the status API). */
  onDigit?(port: FxsPort, digit: string, how: 'dtmf' | 'pulse'): void;
}

export class FxsPort {
  readonly controller: LineController;
  readonly earpiece: Earpiece;
  private readonly ringer: Ringer;
  private readonly dtmf = new DtmfDetector();
  private readonly earFrame = new Int16Array(160);
  /** Where mouthpiece audio goes while a call is up (set by the call layer). */
  private mouthpieceSink: ((pcm: Int16Array) => void) | null = null;

  constructor(private readonly o: FxsPortOptions) {
    this.earpiece = new Earpiece(o.tonePlan);
    this.ringer = new Ringer({
      clock: o.clock,
      line: o.line,
      playSignal: (s) => this.earpiece.playSignal(s),
      cancelSignal: () => this.earpiece.cancelSignal(),
    });
    this.controller = new LineController(
      o.id,
      {
        clock: o.clock,
        digitMap: new DigitMap(o.dialPlan),
        speedDial: o.speedDial,
        ...(o.hotline ? { hotline: o.hotline } : {}),
        playTone: (t) => this.earpiece.setTone(t),
        startRinging: (call) => {
          const cid = o.callerId(call);
          this.ringer.start(o.ringCadence(call), o.callerIdTiming, cid?.clip ?? null, cid?.alert ?? null);
        },
        stopRinging: () => this.ringer.stop(),
        placeCall: (target) => o.calls.placeCall(this, target),
        answerCall: () => o.calls.answerCall(this),
        hangUp: (reason) => o.calls.hangUp(this, reason),
        swapCalls: () => o.calls.swapCalls(this),
        consult: () => o.calls.consult(this),
        endConsultation: () => o.calls.endConsultation(this),
        conference: () => o.calls.conference(this),
        endConference: () => o.calls.endConference(this),
        transferCalls: () => o.calls.transferCalls(this),
        transfer: o.transfer ?? true,
        callWaitingTone: (on) => this.earpiece.setOverlay(on ? 'call-waiting' : null),
        callWaiting: o.callWaiting ?? true,
        onCall: (event, call, cause) => o.onCall?.(this, event, call, cause),
        onStateChange: (from, to) => o.onStateChange?.(this, from, to),
      },
      o.timers,
    );
    this.dtmf.onDigit((d) => {
      o.onDigit?.(this, d, 'dtmf');
      this.controller.digit(d);
    });
    o.audio.onFrame((pcm) => this.frame(pcm));
  }

  get id(): number {
    return this.o.id;
  }

  get ringerState(): Ringer['state'] {
    return this.ringer.state;
  }

  /** An event from the hook detector. */
  hookEvent(e: HookEvent): void {
    switch (e.type) {
      case 'off-hook':
        this.controller.offHook();
        return;
      case 'on-hook':
        this.controller.onHook();
        return;
      case 'flash':
        this.controller.flash();
        return;
      case 'digit':
        this.o.onDigit?.(this, e.digit, 'pulse');
        this.controller.digit(e.digit);
        return;
    }
  }

  /**
   * The call layer connects the line's audio to a call (or disconnects it with nulls). `early`: before the answer
   * (early media), the far end's audio goes before our own call-progress tone when it has any.
   */
  connectAudio(mouthpiece: ((pcm: Int16Array) => void) | null, earpiece: RemoteAudio | null, early = false): void {
    this.mouthpieceSink = mouthpiece;
    this.earpiece.setRemote(earpiece, early);
  }

  /** One 20 ms capture frame: the tick of this line's audio clock. */
  private frame(pcm: Int16Array): void {
    const state = this.controller.state;
    // DTMF is listened for only while dialing, so a caller's voice or the far end's tones cannot dial.
    if (state === 'dialtone' || state === 'dialing') this.dtmf.process(pcm);
    if (state === 'connected') this.mouthpieceSink?.(pcm);
    this.earpiece.fill(this.earFrame);
    this.o.audio.play(this.earFrame);
  }
}
