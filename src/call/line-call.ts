/**
 * A line's call as the call layer keeps it, and what the two halves of a call's life (outgoing-call.ts places
 * calls, incoming-call.ts answers them) need from the layer that owns every line's calls (call-layer.ts).
 *
 * A line has at most two calls: the one in the earpiece (`calls`) and a second one (`others`), waiting to be
 * answered or held by a hook flash. A call is in at most one of the two slots; taking it out of its slot is what
 * ends its part in the line, and everything asynchronous that comes back later (an answer, an ACK, a stream that
 * finished opening) checks that the call is still where it left it before it touches the line.
 */
import type { Clock } from '../../hal/clock.js';
import type { AccountConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FxsPort } from '../phone/fxs-port.js';
import type { InviteSession, SessionBase } from '../sip/invite-session.js';
import type { TransactionLayer } from '../sip/transaction-layer.js';
import type { CallMedia, CallMediaOptions } from './call-media.js';

/** One call of a line: the signalling and the media, either of which may not exist yet. */
export interface LineCall {
  port: FxsPort;
  session: InviteSession | null;
  media: CallMedia | null;
  /** The phone hung up while the media was still being set up. */
  abandoned: boolean;
  /** Early media being set up from a 180/183 with SDP; the answer waits for it. */
  early?: Promise<void>;
  /** For a call we placed: the Request-URI we called (where a transfer to it sends the transferee). */
  target?: string;
}

export type CallSlot = Map<number, LineCall>;

/** What placing, answering and three-way calling need from the call layer. */
export interface CallDesk {
  readonly log: Logger;
  readonly clock: Clock;
  readonly userAgent: string;
  readonly transactions: TransactionLayer;
  /** Each line's call in the earpiece. */
  readonly calls: CallSlot;
  /** Each line's second call: waiting to be answered, or held by a hook flash. */
  readonly others: CallSlot;
  accountOf(lineId: number): AccountConfig | undefined;
  sessionBase(lineId: number, contactUser: string, events: SessionBase['events']): SessionBase;
  mediaOptions(lineId: number): CallMediaOptions;
  /** Takes `call` out of `slot` and closes its media; false when it was not there. */
  release(slot: CallSlot, call: LineCall): boolean;
  /** Releases the line's call in the earpiece, if any. */
  drop(lineId: number): void;
  /** Releases `call` and hangs it up (BYE, CANCEL or a final response, whichever its state needs). */
  end(slot: CallSlot, call: LineCall): void;
  /** The line's second call becomes its call (the phone is rung for it, or goes back to it). */
  promoteOther(lineId: number): void;
  /** A To tag for a final response that creates no dialog of ours (a refusal, an out-of-dialog NOTIFY's 200). */
  newTag(): string;
  /** Our Contact URI for the line's dialogs. */
  contactUri(lineId: number): string;
  /** Logs a hold or retrieval (call-hold.ts). */
  logHold(fields: Record<string, unknown>, msg: string): void;
  /** The call ended while it was the line's second call: releases it and tells the line; false when it was not. */
  otherEnded(call: LineCall): boolean;
  /** In either slot of its line. */
  isLive(call: LineCall): boolean;
  /** Keeps the session's BYE, if one is on its way, for shutdown to wait on. */
  track(session: InviteSession | null): void;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
