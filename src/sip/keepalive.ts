/**
 * NAT keep-alive towards the registrar or outbound proxy. Firewalls often drop a UDP mapping after about 30 s
 * without traffic (REFERENCE.md), so something must go out more often than that: a CRLF (RFC 5626 sec. 3.5.1 style,
 * cheap, ignored by servers) or an OPTIONS (answered, so it also proves the server is alive). Each send is at a
 * random point in 80-100 % of the interval so that many adapters behind one NAT do not send in lock-step.
 */
import type { Clock, Random, TimerHandle } from '../../hal/clock.js';

export type KeepAliveMode = 'crlf' | 'options';
export type KeepAliveState = 'stopped' | 'running';

export interface KeepAliveOptions {
  clock: Clock;
  random: Random;
  mode?: KeepAliveMode;
  /** Default 25 000 ms. */
  intervalMs?: number;
  /** Send "\r\n\r\n" to the registrar/proxy over the account's UDP socket. */
  sendCrlf: () => void;
  /** Send an OPTIONS and call `done(true)` on any final response, `done(false)` on timeout or transport error. */
  sendOptions?: (done: (answered: boolean) => void) => void;
  /** OPTIONS mode: called after this many unanswered probes in a row (e.g. to refresh the registration). */
  onUnreachable?: (misses: number) => void;
  unreachableAfter?: number;
}

export class KeepAliveConfigError extends Error {
  override readonly name = 'KeepAliveConfigError';
  constructor(readonly field: string, detail: string) {
    super(`keep-alive ${field}: ${detail}`);
  }
}

export class KeepAlive {
  private _state: KeepAliveState = 'stopped';
  private timer: TimerHandle | undefined;
  private readonly intervalMs: number;
  private readonly mode: KeepAliveMode;
  private generation = 0;
  /** Unanswered OPTIONS probes in a row. */
  misses = 0;
  sent = 0;

  constructor(private readonly o: KeepAliveOptions) {
    this.intervalMs = o.intervalMs ?? 25_000;
    this.mode = o.mode ?? 'crlf';
    if (!(this.intervalMs >= 1000 && Number.isFinite(this.intervalMs))) throw new KeepAliveConfigError('intervalMs', `must be >= 1000, got ${this.intervalMs}`);
    if (this.mode === 'options' && !o.sendOptions) throw new KeepAliveConfigError('sendOptions', 'OPTIONS mode needs a sender');
  }

  get state(): KeepAliveState {
    return this._state;
  }

  /** Event: start (idempotent). */
  start(): void {
    if (this._state === 'running') return;
    this._state = 'running';
    this.scheduleNext();
  }

  /** Event: stop; answers to probes sent before stopping are ignored. */
  stop(): void {
    this._state = 'stopped';
    this.generation++;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Event: other traffic just went to the same peer (e.g. a REGISTER), so the next probe can wait a full interval. */
  trafficSent(): void {
    if (this._state !== 'running') return;
    this.o.clock.clearTimeout(this.timer);
    this.scheduleNext();
  }

  private scheduleNext(): void {
    const delay = Math.floor(this.intervalMs * (0.8 + 0.2 * this.o.random()));
    this.timer = this.o.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = undefined;
    if (this._state !== 'running') return;
    this.sent++;
    if (this.mode === 'crlf') this.o.sendCrlf();
    else {
      const gen = this.generation;
      this.o.sendOptions!((answered) => {
        if (gen !== this.generation) return;
        if (answered) this.misses = 0;
        else if (++this.misses >= (this.o.unreachableAfter ?? 2)) this.o.onUnreachable?.(this.misses);
      });
    }
    this.scheduleNext();
  }
}
