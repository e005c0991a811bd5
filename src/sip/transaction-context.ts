import type { Clock } from '../../hal/clock.js';
import type { SipMessage, SipRequest, SipResponse } from './message.js';
import type { TransactionError } from './transaction-error.js';
import type { TransactionTimers } from './timers.js';

/**
 * What a transaction needs from below: a clock, the timer values for its transport, and a way to hand a message to
 * the transport. `send` does not report errors synchronously: the layer calls `transportError()` on the
 * transaction when the transport says a send failed, so the state machine sees it as one more event.
 */
export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TransactionTimers;
  send(msg: SipMessage): void;
}

/** The TU's side of a client transaction. */
export interface ClientTransactionHandlers {
  onProvisional?(res: SipResponse): void;
  onFinal(res: SipResponse): void;
  onError(err: TransactionError): void;
}

/** Called once when a transaction reaches "terminated" (the layer forgets it then). */
export type TerminatedListener = () => void;

/** Transaction id used in logs and errors: the branch and the method, as RFC 3261 17.1.3 matches them. */
export function transactionIdOf(request: SipRequest): string {
  const branch = request.parsed.via[0]?.params.get('branch') ?? '';
  return `${branch}/${request.method === 'ACK' ? 'INVITE' : request.method}`;
}
