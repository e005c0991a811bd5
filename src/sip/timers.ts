/**
 * SIP timer values (RFC 3261 sec. 17 and table 4, RFC 6026 sec. 8.11). The three base values come from
 * configuration; every transaction timer is derived from them, so a test that shrinks T1 shrinks everything.
 *
 * On a reliable transport (TCP, TLS) the transport does the retransmitting: Timers A, E and G are off, and the
 * absorption windows D, I, J and K are zero because no retransmission of the peer's can arrive.
 */
export interface TimerBase {
  /** RTT estimate, ms (500 by default). */
  t1: number;
  /** Cap on non-INVITE request and INVITE response retransmit intervals, ms (4000). */
  t2: number;
  /** Maximum time a message stays in the network, ms (5000). */
  t4: number;
}

export const DEFAULT_TIMER_BASE: Readonly<TimerBase> = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** Derived timer durations, ms. `undefined` means "this timer is not started" (retransmit timers on TCP). */
export interface TransactionTimers {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** INVITE client retransmit, initial interval (doubles without cap: RFC 3261 17.1.1.2). */
  readonly A: number | undefined;
  /** INVITE client transaction timeout. */
  readonly B: number;
  /** INVITE client: wait for response retransmissions after a non-2xx final. */
  readonly D: number;
  /** Non-INVITE client retransmit, initial interval (doubles, capped at T2). */
  readonly E: number | undefined;
  /** Non-INVITE client transaction timeout. */
  readonly F: number;
  /** INVITE server final-response retransmit, initial interval (doubles, capped at T2). */
  readonly G: number | undefined;
  /** INVITE server: wait for ACK. */
  readonly H: number;
  /** INVITE server: absorb ACK retransmissions. */
  readonly I: number;
  /** Non-INVITE server: absorb request retransmissions. */
  readonly J: number;
  /** Non-INVITE client: absorb response retransmissions. */
  readonly K: number;
  /** INVITE server "Accepted" state lifetime (RFC 6026): absorbs INVITE retransmissions after a 2xx. */
  readonly L: number;
  /** INVITE client "Accepted" state lifetime (RFC 6026): passes 2xx retransmissions to the TU. */
  readonly M: number;
  /** Time after which an INVITE server transaction sends 100 Trying if the TU has not (RFC 3261 17.2.1). */
  readonly trying: number;
  /** How long to wait for the final response to an INVITE after CANCEL (RFC 3261 9.1). */
  readonly cancelGuard: number;
}

/** RFC 3261 17.2.1: "if the TU will not generate a provisional response within 200 ms". */
export const TRYING_DELAY_MS = 200;

export function transactionTimers(reliable: boolean, base: TimerBase = DEFAULT_TIMER_BASE): TransactionTimers {
  const { t1, t2, t4 } = base;
  const sixtyFour = 64 * t1;
  return Object.freeze({
    t1,
    t2,
    t4,
    A: reliable ? undefined : t1,
    B: sixtyFour,
    // "at least 32 seconds for unreliable transports": 64*T1 would be shorter than that with a small T1.
    D: reliable ? 0 : Math.max(32_000, sixtyFour),
    E: reliable ? undefined : t1,
    F: sixtyFour,
    G: reliable ? undefined : t1,
    H: sixtyFour,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : sixtyFour,
    K: reliable ? 0 : t4,
    L: sixtyFour,
    M: sixtyFour,
    trying: TRYING_DELAY_MS,
    cancelGuard: sixtyFour,
  });
}
