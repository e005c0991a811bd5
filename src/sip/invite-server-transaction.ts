import type { TimerHandle } from '../../hal/clock.js';
import type { SipRequest, SipResponse } from './message.js';
import { buildResponse } from './serializer.js';
import { TransactionError } from './transaction-error.js';
import { transactionIdOf, type TerminatedListener, type TransactionContext } from './transaction-context.js';

export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** What the layer does with an ACK that matched this transaction. */
export type AckDisposition = 'absorbed' | 'to-tu';

/**
 * INVITE server transaction, RFC 3261 17.2.1 with RFC 6026 sec. 7.1 ("Accepted": after a 2xx the transaction
 * absorbs INVITE retransmissions for Timer L while the TU retransmits the 2xx itself until its ACK arrives).
 * Sends 100 Trying on its own after 200 ms unless the TU has answered by then.
 */
export class InviteServerTransaction {
  state: InviteServerState = 'proceeding';
  readonly id: string;
  readonly kind = 'invite-server' as const;
  private lastProvisional: SipResponse | undefined;
  private finalResponse: SipResponse | undefined;
  private timerTrying: TimerHandle | undefined;
  private timerG: TimerHandle | undefined;
  private timerH: TimerHandle | undefined;
  private timerI: TimerHandle | undefined;
  private timerL: TimerHandle | undefined;
  private gInterval = 0;
  onTerminated: TerminatedListener | undefined;
  /** Set by the TU: a CANCEL for this INVITE arrived (the layer has already answered the CANCEL with 200). */
  onCancel: ((cancel: SipRequest) => void) | undefined;
  /** Set by the TU: Timer H fired (no ACK) or the transport failed. */
  onError: ((err: TransactionError) => void) | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly ctx: TransactionContext,
  ) {
    this.id = transactionIdOf(request);
    this.timerTrying = ctx.clock.setTimeout(() => this.onTryingTimer(), ctx.timers.trying);
  }

  onTryingTimer(): void {
    this.timerTrying = undefined;
    if (this.state !== 'proceeding' || this.lastProvisional) return;
    this.sendProvisional(buildResponse(this.request, 100));
  }

  /** Sends a response from the TU. Returns false when the state no longer allows it (e.g. after the final). */
  respond(res: SipResponse): boolean {
    const s = res.status;
    if (this.state === 'proceeding') {
      if (s < 200) {
        this.sendProvisional(res);
      } else if (s < 300) {
        this.clearTimers();
        this.state = 'accepted';
        this.finalResponse = res;
        this.timerL = this.ctx.clock.setTimeout(() => this.onTimerL(), this.ctx.timers.L);
        this.ctx.send(res);
      } else {
        this.clearTimers();
        this.state = 'completed';
        this.finalResponse = res;
        const { G, H } = this.ctx.timers;
        if (G !== undefined) {
          this.gInterval = G;
          this.timerG = this.ctx.clock.setTimeout(() => this.onTimerG(), G);
        }
        this.timerH = this.ctx.clock.setTimeout(() => this.onTimerH(), H);
        this.ctx.send(res);
      }
      return true;
    }
    // RFC 6026 7.1: in Accepted the TU's 2xx retransmissions (13.3.1.4) and 2xx to other forks pass through.
    if (this.state === 'accepted' && s >= 200 && s < 300) {
      this.ctx.send(res);
      return true;
    }
    return false;
  }

  /** A retransmission of the INVITE. */
  receiveRequest(_req: SipRequest): void {
    if (this.state === 'proceeding') {
      // Our provisional may have been lost; with none sent yet, answer 100 now rather than stay silent.
      if (!this.lastProvisional) this.sendProvisional(buildResponse(this.request, 100));
      else this.ctx.send(this.lastProvisional);
    } else if (this.state === 'completed' && this.finalResponse) {
      this.ctx.send(this.finalResponse);
    }
    // Accepted, Confirmed: absorbed.
  }

  /** An ACK that matched this transaction. Non-2xx ACKs are absorbed; an ACK in Accepted belongs to the TU. */
  receiveAck(_ack: SipRequest): AckDisposition {
    if (this.state === 'completed') {
      this.clearTimers();
      this.state = 'confirmed';
      this.timerI = this.ctx.clock.setTimeout(() => this.onTimerI(), this.ctx.timers.I);
      return 'absorbed';
    }
    if (this.state === 'accepted') return 'to-tu';
    return 'absorbed';
  }

  receiveCancel(cancel: SipRequest): void {
    if (this.state === 'proceeding') this.onCancel?.(cancel);
  }

  onTimerG(): void {
    this.timerG = undefined;
    if (this.state !== 'completed' || !this.finalResponse) return;
    this.ctx.send(this.finalResponse);
    this.gInterval = Math.min(2 * this.gInterval, this.ctx.timers.t2);
    this.timerG = this.ctx.clock.setTimeout(() => this.onTimerG(), this.gInterval);
  }

  onTimerH(): void {
    this.timerH = undefined;
    if (this.state !== 'completed') return;
    this.terminate();
    this.onError?.(new TransactionError('no-ack', this.id, `no ACK for the ${this.finalResponse?.status} within ${this.ctx.timers.H} ms (Timer H)`));
  }

  onTimerI(): void {
    this.timerI = undefined;
    if (this.state === 'confirmed') this.terminate();
  }

  onTimerL(): void {
    this.timerL = undefined;
    if (this.state === 'accepted') this.terminate();
  }

  transportError(cause: unknown): void {
    if (this.state === 'terminated') return;
    const wasWaiting = this.state === 'proceeding' || this.state === 'completed' || this.state === 'accepted';
    this.terminate();
    if (wasWaiting) {
      this.onError?.(TransactionError.transport(this.id, cause));
    }
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.clearTimers();
    this.state = 'terminated';
    this.onTerminated?.();
  }

  private sendProvisional(res: SipResponse): void {
    this.ctx.clock.clearTimeout(this.timerTrying);
    this.timerTrying = undefined;
    this.lastProvisional = res;
    this.ctx.send(res);
  }

  private clearTimers(): void {
    const c = this.ctx.clock;
    c.clearTimeout(this.timerTrying);
    c.clearTimeout(this.timerG);
    c.clearTimeout(this.timerH);
    c.clearTimeout(this.timerI);
    c.clearTimeout(this.timerL);
    this.timerTrying = this.timerG = this.timerH = this.timerI = this.timerL = undefined;
  }
}
