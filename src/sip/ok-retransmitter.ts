/**
 * The UAS core's own retransmission of a 2xx to an INVITE or re-INVITE (RFC 3261 13.3.1.4, 14.2): the INVITE server
 * transaction ends with its 2xx, so reliability is the TU's job. The response is re-sent at T1, doubling up to T2,
 * until the ACK stops it; with no ACK after 64*T1 the owner is told to give up (and ends the call with a BYE).
 */
import type { Clock, TimerHandle } from '../../hal/clock.js';
import type { TimerBase } from './timers.js';

export interface OkRetransmitterOptions {
  clock: Clock;
  base: TimerBase;
  /** Sends the 2xx again. */
  resend(): void;
  /** 64*T1 passed without the ACK. */
  giveUp(): void;
}

export class OkRetransmitter {
  private timer: TimerHandle | undefined;
  private interval: number;
  private readonly giveUpAt: number;

  /** Starts the schedule; the 2xx itself has just been sent by the caller. */
  constructor(private readonly o: OkRetransmitterOptions) {
    this.interval = o.base.t1;
    this.giveUpAt = o.clock.now() + 64 * o.base.t1;
    this.timer = o.clock.setTimeout(() => this.fire(), this.interval);
  }

  /** The ACK came (or the call ended): no more retransmissions. */
  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.o.clock.now() >= this.giveUpAt) {
      this.o.giveUp();
      return;
    }
    this.o.resend();
    this.interval = Math.min(2 * this.interval, this.o.base.t2);
    this.timer = this.o.clock.setTimeout(() => this.fire(), this.interval);
  }
}
