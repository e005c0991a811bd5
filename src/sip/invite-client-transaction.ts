import type { TimerHandle } from '../../hal/clock.js';
import { getHeaders, type HeaderEntry, type SipRequest, type SipResponse } from './message.js';
import { TransactionError } from './transaction-error.js';
import {
  transactionIdOf,
  type ClientTransactionHandlers,
  type TerminatedListener,
  type TransactionContext,
} from './transaction-context.js';

export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/**
 * INVITE client transaction, RFC 3261 17.1.1 with the "Accepted" state of RFC 6026 sec. 7.2: after a 2xx the
 * transaction stays alive for Timer M so that 2xx retransmissions (and 2xx from other forks) reach the TU, which
 * acknowledges them itself; the ACK for a non-2xx final is generated here with the INVITE's branch.
 */
export class InviteClientTransaction {
  state: InviteClientState = 'calling';
  readonly id: string;
  readonly kind = 'invite-client' as const;
  private timerA: TimerHandle | undefined;
  private timerB: TimerHandle | undefined;
  private timerD: TimerHandle | undefined;
  private timerM: TimerHandle | undefined;
  private cancelGuard: TimerHandle | undefined;
  private aInterval = 0;
  private ack: SipRequest | undefined;
  private started = false;
  onTerminated: TerminatedListener | undefined;
  /** Called once when the transaction leaves Calling (the layer holds a CANCEL back until then, RFC 3261 9.1). */
  onLeaveCalling: (() => void) | undefined;

  constructor(
    readonly request: SipRequest,
    private readonly ctx: TransactionContext,
    private readonly tu: ClientTransactionHandlers,
  ) {
    this.id = transactionIdOf(request);
  }

  /** Sends the INVITE and starts Timers A and B. Separate from the constructor so the layer can resolve first. */
  start(): void {
    if (this.started || this.state !== 'calling') return;
    this.started = true;
    const { A, B } = this.ctx.timers;
    if (A !== undefined) {
      this.aInterval = A;
      this.timerA = this.ctx.clock.setTimeout(() => this.onTimerA(), A);
    }
    this.timerB = this.ctx.clock.setTimeout(() => this.onTimerB(), B);
    this.ctx.send(this.request);
  }

  onTimerA(): void {
    if (this.state !== 'calling') return;
    this.ctx.send(this.request);
    // RFC 3261 17.1.1.2: INVITE retransmissions double without the T2 cap that non-INVITE ones have.
    this.aInterval *= 2;
    this.timerA = this.ctx.clock.setTimeout(() => this.onTimerA(), this.aInterval);
  }

  onTimerB(): void {
    this.timerB = undefined;
    if (this.state !== 'calling') return;
    this.abort(new TransactionError('timeout', this.id, `no response to INVITE within ${this.ctx.timers.B} ms (Timer B)`));
  }

  receiveResponse(res: SipResponse): void {
    const wasCalling = this.state === 'calling';
    this.handleResponse(res);
    if (wasCalling && this.state !== 'calling') this.leftCalling();
  }

  private leftCalling(): void {
    const f = this.onLeaveCalling;
    this.onLeaveCalling = undefined;
    f?.();
  }

  private handleResponse(res: SipResponse): void {
    const s = res.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (s < 200) {
          this.clear('A');
          this.clear('B'); // Timer B covers only the Calling state; once ringing, the TU decides when to give up.
          this.state = 'proceeding';
          this.tu.onProvisional?.(res);
        } else if (s < 300) {
          this.clearAll();
          this.state = 'accepted';
          this.timerM = this.ctx.clock.setTimeout(() => this.onTimerM(), this.ctx.timers.M);
          this.tu.onFinal(res);
        } else {
          this.clearAll();
          this.state = 'completed';
          this.ack = buildNonSuccessAck(this.request, res);
          this.ctx.send(this.ack);
          const d = this.ctx.timers.D;
          this.timerD = this.ctx.clock.setTimeout(() => this.onTimerD(), d);
          this.tu.onFinal(res);
        }
        return;
      case 'completed':
        // A retransmitted final: our ACK was lost. Re-send it; the TU has already seen the response.
        if (s >= 300 && this.ack) this.ctx.send(this.ack);
        return;
      case 'accepted':
        if (s >= 200 && s < 300) this.tu.onFinal(res);
        return;
      case 'terminated':
        return;
    }
  }

  onTimerD(): void {
    this.timerD = undefined;
    if (this.state === 'completed') this.terminate();
  }

  onTimerM(): void {
    this.timerM = undefined;
    if (this.state === 'accepted') this.terminate();
  }

  /**
   * The TU has sent a CANCEL for this INVITE. RFC 3261 9.1: if no final response arrives within 64*T1 the
   * transaction is considered cancelled, so that a far end that never answers cannot keep it forever.
   */
  cancelSent(): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    if (this.cancelGuard) return;
    this.cancelGuard = this.ctx.clock.setTimeout(() => {
      this.cancelGuard = undefined;
      if (this.state === 'calling' || this.state === 'proceeding') {
        this.abort(new TransactionError('timeout', this.id, 'no final response to a cancelled INVITE within 64*T1'));
      }
    }, this.ctx.timers.cancelGuard);
  }

  transportError(cause: unknown): void {
    if (this.state === 'terminated') return;
    // In Completed or Accepted the TU already has its final response; a failed ACK resend is not news to it.
    if (this.state === 'completed' || this.state === 'accepted') {
      this.terminate();
      return;
    }
    this.abort(TransactionError.transport(this.id, cause));
  }

  /** Ends the transaction without telling the TU (the layer is shutting down). */
  terminate(): void {
    if (this.state === 'terminated') return;
    const wasCalling = this.state === 'calling';
    this.clearAll();
    this.state = 'terminated';
    this.onTerminated?.();
    if (wasCalling) this.leftCalling();
  }

  /** Ends the transaction and reports `err` to the TU (resolution failure, layer decisions). */
  abort(err: TransactionError): void {
    if (this.state === 'terminated') return;
    this.terminate();
    this.tu.onError(err);
  }

  private clear(which: 'A' | 'B'): void {
    if (which === 'A') {
      this.ctx.clock.clearTimeout(this.timerA);
      this.timerA = undefined;
    } else {
      this.ctx.clock.clearTimeout(this.timerB);
      this.timerB = undefined;
    }
  }

  private clearAll(): void {
    const c = this.ctx.clock;
    c.clearTimeout(this.timerA);
    c.clearTimeout(this.timerB);
    c.clearTimeout(this.timerD);
    c.clearTimeout(this.timerM);
    c.clearTimeout(this.cancelGuard);
    this.timerA = this.timerB = this.timerD = this.timerM = this.cancelGuard = undefined;
  }
}

/**
 * The ACK for a non-2xx final response (RFC 3261 17.1.1.3): same Request-URI, Call-ID, From and CSeq number as the
 * INVITE, To from the response (it carries the UAS's tag), only the INVITE's top Via (same branch), and the
 * INVITE's Route headers.
 */
export function buildNonSuccessAck(invite: SipRequest, res: SipResponse): SipRequest {
  const topVia = invite.parsed.via[0];
  const headers: HeaderEntry[] = [];
  const viaText = firstViaValue(invite);
  if (viaText !== undefined) headers.push({ name: 'Via', value: viaText });
  for (const r of getHeaders(invite, 'Route')) headers.push({ name: 'Route', value: r });
  headers.push({ name: 'Max-Forwards', value: '70' });
  headers.push({ name: 'From', value: headerText(invite.headers, 'From') });
  headers.push({ name: 'To', value: headerText(res.headers, 'To') });
  headers.push({ name: 'Call-ID', value: headerText(invite.headers, 'Call-ID') });
  headers.push({ name: 'CSeq', value: `${invite.parsed.cseq.seq} ACK` });
  headers.push({ name: 'Content-Length', value: '0' });
  return {
    type: 'request',
    method: 'ACK',
    uri: invite.uri,
    headers,
    parsed: {
      via: topVia ? [topVia] : [],
      from: invite.parsed.from,
      to: res.parsed.to,
      callId: invite.parsed.callId,
      cseq: { seq: invite.parsed.cseq.seq, method: 'ACK' },
      contentLength: 0,
      maxForwards: 70,
    },
    body: '',
  };
}

function headerText(headers: HeaderEntry[], name: string): string {
  for (const h of headers) if (h.name === name) return h.value;
  return '';
}

/** The first Via value of the first Via line (a line may hold several, comma-separated). */
export function firstViaValue(msg: { headers: HeaderEntry[] }): string | undefined {
  for (const h of msg.headers) {
    if (h.name !== 'Via') continue;
    return splitFirstValue(h.value)[0];
  }
  return undefined;
}

/** Splits "a, b, c" at the first top-level comma (commas inside quoted strings do not count). */
export function splitFirstValue(value: string): [string, string | undefined] {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) return [value.slice(0, i).trim(), value.slice(i + 1).trim()];
  }
  return [value.trim(), undefined];
}
