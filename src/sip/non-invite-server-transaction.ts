import type { TimerHandle } from '../../hal/clock.js';
import type { SipRequest, SipResponse } from './message.js';
import { TransactionError } from './transaction-error.js';
import { transactionIdOf, type TerminatedListener, type TransactionContext } from './transaction-context.js';

export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Non-INVITE server transaction (RFC 3261 17.2.2). */
export class NonInviteServerTransaction {
  state: NonInviteServerState = 'trying';
  readonly id: string;
  readonly kind = 'non-invite-server' as const;
  private lastResponse: SipResponse | undefined;
  private timerJ: TimerHandle | undefined;
  onTerminated: TerminatedListener | undefined;
  onError: ((err: TransactionError) => void) | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly ctx: TransactionContext,
  ) {
    this.id = transactionIdOf(request);
  }

  respond(res: SipResponse): boolean {
    if (this.state !== 'trying' && this.state !== 'proceeding') return false;
    this.lastResponse = res;
    if (res.status < 200) {
      this.state = 'proceeding';
    } else {
      this.state = 'completed';
      this.timerJ = this.ctx.clock.setTimeout(() => this.onTimerJ(), this.ctx.timers.J);
    }
    this.ctx.send(res);
    return true;
  }

  /** A retransmission of the request: absorbed in Trying, answered with our last response afterwards. */
  receiveRequest(_req: SipRequest): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) this.ctx.send(this.lastResponse);
  }

  onTimerJ(): void {
    this.timerJ = undefined;
    if (this.state === 'completed') this.terminate();
  }

  transportError(cause: unknown): void {
    if (this.state === 'terminated') return;
    const wasWaiting = this.state !== 'completed';
    this.terminate();
    if (wasWaiting) {
      this.onError?.(TransactionError.transport(this.id, cause));
    }
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.ctx.clock.clearTimeout(this.timerJ);
    this.timerJ = undefined;
    this.state = 'terminated';
    this.onTerminated?.();
  }
}
