/**
 * A re-INVITE we send in a confirmed dialog (RFC 3261 sec. 14.1): how the phone puts a call on hold and takes it
 * back (RFC 3264 sec. 8.4, a=sendonly then a=sendrecv). One at a time, as 14.1 requires. The 2xx is acknowledged
 * here with the re-INVITE's CSeq, every copy of it, since our ACK may be lost. A 491 (the far end was re-INVITing at
 * the same moment) is retried once after the random wait 14.1 gives: 2.1-4 s when we chose the Call-ID, 0-2 s when
 * the far end did. Any other failure leaves the session as it was (14.1), which the caller learns from the result.
 *
 * SDP is opaque here, as in InviteSession.
 */
import type { Clock, Random, TimerHandle } from '../../hal/clock.js';
import type { Dialog } from './dialog.js';
import type { SipResponse } from './message.js';
import type { TransactionLayer } from './transaction-layer.js';

export type ReinviteResult =
  | { kind: 'answered'; sdp: string }
  | { kind: 'refused'; status: number }
  | { kind: 'failed'; why: string };

export interface ReinviteSenderOptions {
  transactions: TransactionLayer;
  clock: Clock;
  random: Random;
  userAgent: string;
  /** Our Contact URI (a re-INVITE carries it again, RFC 3261 14.1). */
  contact: string;
  allow: string;
  /** True when we sent the dialog's first INVITE (we own its Call-ID): it sets the 491 back-off range. */
  weCalled: boolean;
  log(msg: string, fields?: Record<string, unknown>): void;
}

export class ReinviteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReinviteError';
  }
}

export class ReinviteSender {
  state: 'idle' | 'pending' | 'backing-off' = 'idle';
  private retryTimer: TimerHandle | undefined;
  /** Settles the promise of a re-INVITE waiting out its 491 back-off. */
  private waiting: ((r: ReinviteResult) => void) | null = null;

  constructor(private readonly o: ReinviteSenderOptions) {}

  /** Whether one of ours is in progress: a re-INVITE from the far end meanwhile gets 491 (RFC 3261 14.2). */
  get busy(): boolean {
    return this.state !== 'idle';
  }

  /** Sends `sdp` as a new offer; resolves with the far end's answer or why there is none. Rejects when busy. */
  send(dialog: Dialog, sdp: string): Promise<ReinviteResult> {
    if (this.state !== 'idle') return Promise.reject(new ReinviteError('a re-INVITE is already in progress'));
    return new Promise((resolve) => this.attempt(dialog, sdp, true, resolve));
  }

  /** The dialog ended: a pending back-off is dropped (its promise settles as failed). */
  cancel(): void {
    this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const waiting = this.waiting;
    this.waiting = null;
    if (this.state === 'backing-off') this.state = 'idle';
    waiting?.({ kind: 'failed', why: 'the call has ended' });
  }

  private attempt(dialog: Dialog, sdp: string, mayRetry: boolean, done: (r: ReinviteResult) => void): void {
    if (dialog.state === 'terminated') {
      this.state = 'idle';
      done({ kind: 'failed', why: 'the call has ended' });
      return;
    }
    this.state = 'pending';
    const invite = dialog.createRequest(
      'INVITE',
      [
        ['Contact', `<${this.o.contact}>`],
        ['Allow', this.o.allow],
        ['User-Agent', this.o.userAgent],
        ['Content-Type', 'application/sdp'],
      ],
      sdp,
    );
    const seq = invite.parsed.cseq.seq;
    let settled = false;
    const settle = (r: ReinviteResult): void => {
      if (settled) return;
      settled = true;
      this.state = 'idle';
      done(r);
    };
    this.o.transactions.sendRequest(invite, {
      onProvisional: () => undefined,
      onFinal: (res: SipResponse) => {
        if (res.status >= 200 && res.status < 300) {
          // Every copy of the 2xx gets an ACK: the one we sent may have been lost.
          const ack = dialog.createRequest('ACK', [['User-Agent', this.o.userAgent]], '', seq);
          this.o.transactions.sendStateless(ack).catch((err) => this.o.log('ACK to re-INVITE not sent', { err: String(err) }));
          settle({ kind: 'answered', sdp: res.body });
          return;
        }
        if (settled) return;
        if (res.status === 491 && mayRetry) {
          const wait = this.o.weCalled ? 2100 + this.o.random() * 1900 : this.o.random() * 2000;
          this.o.log('re-INVITE crossed one from the far end (491): trying again', { wait_ms: Math.round(wait) });
          this.state = 'backing-off';
          settled = true;
          this.waiting = done;
          this.retryTimer = this.o.clock.setTimeout(() => {
            this.retryTimer = undefined;
            this.waiting = null;
            this.attempt(dialog, sdp, false, done);
          }, wait);
          return;
        }
        settle({ kind: 'refused', status: res.status });
      },
      onError: (err) => settle({ kind: 'failed', why: `${err.failure}: ${err.message}` }),
    });
  }
}
