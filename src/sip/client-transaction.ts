/**
 * Client transactions (RFC 3261 17.1): one class per kind, both with `request`, `state`, `receiveResponse`,
 * `transportError` and `terminate`. The TU gets one of these back from `TransactionLayer.sendRequest`.
 */
import { InviteClientTransaction } from './invite-client-transaction.js';
import { NonInviteClientTransaction } from './non-invite-client-transaction.js';
import type { SipRequest } from './message.js';
import type { ClientTransactionHandlers, TransactionContext } from './transaction-context.js';

export { InviteClientTransaction, buildNonSuccessAck } from './invite-client-transaction.js';
export type { InviteClientState } from './invite-client-transaction.js';
export { NonInviteClientTransaction } from './non-invite-client-transaction.js';
export type { NonInviteClientState } from './non-invite-client-transaction.js';
export type { ClientTransactionHandlers } from './transaction-context.js';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;

export function createClientTransaction(
  request: SipRequest,
  ctx: TransactionContext,
  tu: ClientTransactionHandlers,
): ClientTransaction {
  return request.method === 'INVITE'
    ? new InviteClientTransaction(request, ctx, tu)
    : new NonInviteClientTransaction(request, ctx, tu);
}
