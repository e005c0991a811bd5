import type { TimerHandle } from '../../hal/clock.js';
import type { SipRequest, SipResponse } from './message.js';
import { TransactionError } from './transaction-error.js';
import {
  transactionIdOf,
  type ClientTransactionHandlers,
  type TerminatedListener,
  type TransactionContext,
} from './transaction-context.js';

export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** Non-INVITE client transaction (RFC 3261 17.1.2): REGISTER, OPTIONS, BYE, CANCEL, INFO ... */
export class NonInviteClientTransaction {
  state: NonInviteClientState = 'trying';
  readonly id: string;
  readonly kind = 'non-invite-client' as const;
  private timerE: TimerHandle | undefined;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private eInterval = 0;
  private started = false;
  onTerminated: TerminatedListener | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly ctx: TransactionContext,
    private readonly tu: ClientTransactionHandlers,
  ) {
    this.id = transactionIdOf(request);
  }

  start(): void {
    if (this.started || this.state !== 'trying') return;
    this.started = true;
    const { E, F } = this.ctx.timers;
    if (E !== undefined) {
      this.eInterval = E;
      this.timerE = this.ctx.clock.setTimeout(() => this.onTimerE(), E);
    }
    this.timerF = this.ctx.clock.setTimeout(() => this.onTimerF(), F);
    this.ctx.send(this.request);
  }

  onTimerE(): void {
    this.timerE = undefined;
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.ctx.send(this.request);
    // Trying: double up to T2. Proceeding: the server is alive, so retransmit only every T2 (17.1.2.2).
    const t2 = this.ctx.timers.t2;
    this.eInterval = this.state === 'trying' ? Math.min(2 * this.eInterval, t2) : t2;
    this.timerE = this.ctx.clock.setTimeout(() => this.onTimerE(), this.eInterval);
  }

  onTimerF(): void {
    this.timerF = undefined;
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.terminate();
    this.tu.onError(
      new TransactionError('timeout', this.id, `no final response to ${this.request.method} within ${this.ctx.timers.F} ms (Timer F)`),
    );
  }

  receiveResponse(res: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return; // Completed absorbs retransmissions.
    if (res.status < 200) {
      this.state = 'proceeding';
      this.tu.onProvisional?.(res);
      return;
    }
    this.clearAll();
    this.state = 'completed';
    this.timerK = this.ctx.clock.setTimeout(() => this.onTimerK(), this.ctx.timers.K);
    this.tu.onFinal(res);
  }

  onTimerK(): void {
    this.timerK = undefined;
    if (this.state === 'completed') this.terminate();
  }

  transportError(cause: unknown): void {
    if (this.state === 'terminated') return;
    if (this.state === 'completed') {
      this.terminate();
      return;
    }
    this.terminate();
    this.tu.onError(TransactionError.transport(this.id, cause));
  }

  /** Ends the transaction and reports `err` to the TU (resolution failure, layer decisions). */
  abort(err: TransactionError): void {
    if (this.state === 'terminated') return;
    this.terminate();
    this.tu.onError(err);
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.clearAll();
    this.state = 'terminated';
    this.onTerminated?.();
  }

  private clearAll(): void {
    const c = this.ctx.clock;
    c.clearTimeout(this.timerE);
    c.clearTimeout(this.timerF);
    c.clearTimeout(this.timerK);
    this.timerE = this.timerF = this.timerK = undefined;
  }
}
