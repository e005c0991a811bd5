/**
 * Server transactions (RFC 3261 17.2). The TU receives one with each new request and answers through
 * `st.respond(response)`; retransmissions of the request and of our responses are the transaction's business.
 */
import { InviteServerTransaction } from './invite-server-transaction.js';
import { NonInviteServerTransaction } from './non-invite-server-transaction.js';
import type { SipRequest } from './message.js';
import type { TransactionContext } from './transaction-context.js';

export { InviteServerTransaction } from './invite-server-transaction.js';
export type { InviteServerState, AckDisposition } from './invite-server-transaction.js';
export { NonInviteServerTransaction } from './non-invite-server-transaction.js';
export type { NonInviteServerState } from './non-invite-server-transaction.js';

export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

export function createServerTransaction(request: SipRequest, ctx: TransactionContext): ServerTransaction {
  return request.method === 'INVITE' ? new InviteServerTransaction(request, ctx) : new NonInviteServerTransaction(request, ctx);
}
