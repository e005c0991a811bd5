/**
 * What the CLI and the HTTP API need from a running agent (src/agent.ts, written by the integrator). The JSON
 * shapes are the user contract of INTERFACES.md: scripts parse them, so names are snake_case as documented.
 */
import type { AtaConfig } from './config/schema.js';
import type { Logger } from './log.js';
import type { SipTraceSink } from './sip-trace.js';
import type { LineState } from './phone/line-controller.js';

/** The line states the status API reports are the line controller's own (INTERFACES.md lists them). */
export type LineCallState = LineState;

export interface AccountStatus {
  line: number;
  /** Address of record, "sip:100@sip.example.org". */
  aor: string;
  registered: boolean;
  /** Registration state machine's state, as it names it. */
  state: string;
  /** Seconds until the binding expires, null when not registered. */
  expires_in: number | null;
  last_error: string | null;
}

export interface LineCallStatus {
  direction: 'in' | 'out';
  remote: string;
  codec: string;
  duration_s: number;
  /** The call's media figures so far; null before it is answered. */
  quality: CallQualityJson | null;
}

/** A call's quality as its media measured it (RFC 3550): what a commercial adapter's call-quality page shows. */
export interface CallQualityJson {
  packets_sent: number;
  packets_received: number;
  /** Packets of the far end's stream that never came (RFC 3550 A.3). */
  packets_lost: number;
  /** Interarrival jitter of the far end's stream (RFC 3550 A.8), ms. */
  jitter_ms: number;
  /** From the far end's RTCP reports; null when none came. */
  rtt_ms: number | null;
  /** Earpiece frames in which lost audio was concealed. */
  concealed_frames: number;
  /** The jitter buffer's playout delay, ms. */
  playout_delay_ms: number;
}

export interface LineStatus {
  id: number;
  hook: 'on' | 'off';
  state: LineCallState;
  /** Digits collected in the current dialing attempt ("" when none): shows what the detectors recognised. */
  digits: string;
  call: LineCallStatus | null;
  /** The line's second call beside `call`: a call waiting to be answered by a hook flash, or one on hold. */
  other_call: { state: 'waiting' | 'held' | 'conference'; direction: 'in' | 'out'; remote: string } | null;
  /** Voicemail waiting, as the server's last message-summary NOTIFY said (the phone hears stutter dial tone). */
  message_waiting: boolean;
  /** That NOTIFY's voice-message counts, when it gave them. */
  voice_messages: { new: number; old: number } | null;
}

export interface StatusJson {
  version: string;
  uptime_s: number;
  accounts: AccountStatus[];
  lines: LineStatus[];
}

export interface CallRecord {
  direction: 'in' | 'out';
  remote: string;
  /** ISO 8601 times. */
  start: string;
  answered: string | null;
  end: string | null;
  /** Why the call ended: "normal", "busy", "no-answer", "486 Busy Here", ... */
  cause: string | null;
  /** The media's figures (at the end, or so far while the call lasts); null for a call never answered. */
  quality: CallQualityJson | null;
}

export type HookAction = 'off' | 'on' | 'flash';
export type DialMethod = 'dtmf' | 'pulse';

export interface AgentControl {
  status(): StatusJson;
  /** Recent calls, newest first. */
  calls(): CallRecord[];
  /** The most recent SIP messages as readable text. */
  sipTrace(limit?: number): string;
  /** Throws NoSuchLineError, NotSupportedError (not a sim board) or BadRequestError. */
  hook(line: number, state: HookAction): void;
  /** Throws NoSuchLineError, NotSupportedError (not a sim board) or BadRequestError (bad digits, line on hook). */
  dial(line: number, digits: string, method: DialMethod): void;
  /**
   * Test hook of the sim board: an incoming ring with this caller ID, without any SIP. Throws NoSuchLineError,
   * NotSupportedError (not a sim board) or BadRequestError (the line is busy).
   */
  ring(line: number, call: TestRing): void;
}

/** Caller ID for a test ring; `withheld` sends the "private"/"unavailable" reason instead of a number. */
export interface TestRing {
  number?: string;
  name?: string;
  withheld?: 'private' | 'unavailable';
  alert_info?: string;
}

export interface RunningAgent {
  control: AgentControl;
  /** Unregisters, ends calls with BYE, closes sockets and devices. */
  stop(reason: string): Promise<void>;
}

export interface AgentOptions {
  log: Logger;
  trace: SipTraceSink;
}

export type StartAgent = (config: AtaConfig, options: AgentOptions) => Promise<RunningAgent>;

/** The request cannot be done on this agent, e.g. driving the phone of a real board (HTTP 409). */
export class NotSupportedError extends Error {
  readonly operation: string;
  constructor(operation: string, reason: string) {
    super(`${operation}: ${reason}`);
    this.name = 'NotSupportedError';
    this.operation = operation;
  }
}

/** The request is malformed or does not fit the state (HTTP 400). */
export class BadRequestError extends Error {
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'BadRequestError';
    this.field = field;
  }
}

/** No line with that id (HTTP 404). */
export class NoSuchLineError extends Error {
  readonly line: number;
  constructor(line: number) {
    super(`no line ${line}`);
    this.name = 'NoSuchLineError';
    this.line = line;
  }
}
