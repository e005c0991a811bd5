/** Why a transaction ended without a final response reaching the TU (or, for servers, without an ACK). */
export type TransactionFailure =
  /** Timer B or F fired (client), or the CANCEL guard of RFC 3261 9.1 expired. */
  | 'timeout'
  /** Timer H fired: our non-2xx final response to an INVITE was never acknowledged. */
  | 'no-ack'
  /** The transport could not send (socket error, connection refused or reset, ICMP unreachable). */
  | 'transport'
  /** The target host could not be resolved (RFC 3263 minimal: A/AAAA lookup failed). */
  | 'resolve'
  /** The request was never sent: a CANCEL whose INVITE ended before any provisional response (RFC 3261 9.1). */
  | 'aborted';

export class TransactionError extends Error {
  override readonly name = 'TransactionError';
  constructor(
    readonly failure: TransactionFailure,
    /** Transaction id (top Via branch + method) for the log. */
    readonly transactionId: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }

  /** The transport failed under transaction `id`; `cause` is what the socket or the resolver threw. */
  static transport(id: string, cause: unknown): TransactionError {
    return new TransactionError('transport', id, `transport error: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
}
