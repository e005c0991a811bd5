/**
 * One account's registration (RFC 3261 sec. 10), as a state machine with one transition per event.
 *
 * It talks to the network only through `RequestSender`, a seam the transaction layer satisfies (see
 * `transactionRequestSender` in registration-sender.ts), so it runs on FakeClock against a scripted registrar in
 * unit tests and against a real Kamailio in the integration test. At most one REGISTER is in flight at any time:
 * a refresh or unregister asked for meanwhile waits for the answer.
 */
import type { Clock, Random, TimerHandle } from '../../hal/clock.js';
import type { SipResponse } from './message.js';
import { getHeader, getHeaders } from './message.js';
import { DigestAuthenticator, DigestAuthError, type SipCredentials } from './digest.js';
import { type RegistrationPolicy, makeRegistrationPolicy, refreshDelayMs, backoffDelayMs, parseRetryAfterMs } from './registration-policy.js';
import { type ContactAddress, contactUri, contactValue, grantedExpires } from './registration-contact.js';

/** A request as the serializer's buildRequest takes it. */
export interface OutgoingRequest {
  method: string;
  uri: string;
  headers: Array<[string, string]>;
  body?: string;
  /** Where to send it: the outbound proxy when there is one, else the Request-URI (RFC 3261 sec. 8.1.2). */
  nextHop: string;
}

export interface ResponseHandlers {
  onProvisional?(res: SipResponse): void;
  onFinal(res: SipResponse): void;
  /** Transport failure or transaction timeout (Timer F). */
  onError(err: Error): void;
}

export interface RequestSender {
  send(request: OutgoingRequest, handlers: ResponseHandlers): void;
}

export type RegistrationState =
  | 'unregistered'
  | 'registering'
  | 'registered'
  | 'refreshing'
  | 'retry-wait'
  | 'unregistering'
  /** Credentials rejected or 403: waiting long (policy.forbiddenWaitMs) before trying again. */
  | 'failed';

export interface RegistrationStatus {
  state: RegistrationState;
  /** True while the registrar holds a binding for us that has not expired. */
  registered: boolean;
  /** Seconds until our binding expires, 0 when there is none. */
  expiresIn: number;
  lastError: string | null;
  lastStatus: number | null;
  /** When the next REGISTER is due (clock ms), for the status page. */
  nextAttemptIn: number | null;
}

export interface RegistrationAccount {
  /** AOR user and domain: To/From are sip:user@domain. */
  user: string;
  domain: string;
  displayName?: string;
  credentials: SipCredentials;
  /** Request-URI of the REGISTER; default sip:domain. */
  registrar?: string;
  /** Outbound proxy URI; pre-loaded as a loose route and used as next hop. */
  outboundProxy?: string;
  /** RFC 5626 instance id, a "urn:uuid:..." */
  instanceId?: string;
  userAgent?: string;
}

export interface RegistrationOptions {
  account: RegistrationAccount;
  sender: RequestSender;
  clock: Clock;
  random: Random;
  /** Our address for the Contact, asked before every REGISTER: NAT learning may have changed it. */
  contactAddress: () => ContactAddress;
  policy?: Partial<RegistrationPolicy>;
  onChange?: (status: RegistrationStatus) => void;
  /** Every final response to our REGISTERs, e.g. for NAT learning from Via received/rport. */
  onResponse?: (res: SipResponse) => void;
  log?: (msg: string) => void;
}

type Purpose = 'register' | 'unregister';

function randomToken(random: Random, chars: number): string {
  let s = '';
  while (s.length < chars) s += Math.floor(random() * 0x100000000).toString(36);
  return s.slice(0, chars);
}

export class Registration {
  private _state: RegistrationState = 'unregistered';
  private readonly policy: RegistrationPolicy;
  private readonly auth: DigestAuthenticator;
  private readonly callId: string;
  private readonly fromTag: string;
  private cseq: number;
  private requestedExpires: number;
  private timer: TimerHandle | undefined;
  private timerDue: number | undefined;
  /** Attempt number of the REGISTER in flight; responses to older attempts are ignored. */
  private inFlight: number | undefined;
  private attempt = 0;
  private failures = 0;
  private bindingExpiresAt: number | undefined;
  private lastError: string | null = null;
  private lastStatus: number | null = null;
  private registeredContact: string | undefined;
  private refreshWanted = false;
  private unregisterWaiters: Array<() => void> = [];
  private unregisterTimer: TimerHandle | undefined;

  constructor(private readonly o: RegistrationOptions) {
    this.policy = makeRegistrationPolicy(o.policy);
    this.requestedExpires = this.policy.expires;
    this.auth = new DigestAuthenticator(o.account.credentials, o.random, o.log);
    this.callId = `${randomToken(o.random, 16)}@ata`;
    this.fromTag = randomToken(o.random, 10);
    this.cseq = 1 + Math.floor(o.random() * 10000);
  }

  get state(): RegistrationState {
    return this._state;
  }

  status(): RegistrationStatus {
    const now = this.o.clock.now();
    const left = this.bindingExpiresAt === undefined ? 0 : Math.max(0, Math.round((this.bindingExpiresAt - now) / 1000));
    return {
      state: this._state,
      registered: left > 0,
      expiresIn: left,
      lastError: this.lastError,
      lastStatus: this.lastStatus,
      nextAttemptIn: this.timerDue === undefined ? null : Math.max(0, Math.round((this.timerDue - now) / 1000)),
    };
  }

  /** Event: start registering (from unregistered, or to retry now from retry-wait/failed). */
  start(): void {
    if (this._state === 'unregistered' || this._state === 'retry-wait' || this._state === 'failed') {
      this.clearTimer();
      if (this._state === 'failed') this.auth.reset();
      this.sendRegister('registering', 'register');
    }
  }

  /** Event: refresh now (network came back, NAT mapping changed). Deferred if a REGISTER is in flight. */
  refreshNow(): void {
    if (this.inFlight !== undefined) {
      this.refreshWanted = true;
      return;
    }
    if (this._state === 'registered' || this._state === 'retry-wait') {
      this.clearTimer();
      this.sendRegister(this._state === 'registered' ? 'refreshing' : 'registering', 'register');
    }
  }

  /** Event: remove our binding (Expires: 0). Resolves when answered or after policy.unregisterTimeoutMs. */
  unregister(): Promise<void> {
    this.clearTimer();
    if (this._state === 'unregistered') return Promise.resolve();
    const done = new Promise<void>((resolve) => this.unregisterWaiters.push(resolve));
    if (this._state !== 'unregistering') {
      const wasInFlight = this.inFlight !== undefined;
      this.setState('unregistering');
      this.unregisterTimer = this.o.clock.setTimeout(() => this.finishUnregister('unregister timed out'), this.policy.unregisterTimeoutMs);
      if (!wasInFlight) this.sendRegister('unregistering', 'unregister');
    }
    return done;
  }

  /** Event: stop without unregistering (shutdown of the stack). */
  stop(): void {
    this.clearTimer();
    this.o.clock.clearTimeout(this.unregisterTimer);
    this.inFlight = undefined;
    this.bindingExpiresAt = undefined;
    this.setState('unregistered');
    this.flushUnregisterWaiters();
  }

  private sendRegister(state: RegistrationState, purpose: Purpose): void {
    const a = this.o.account;
    const registrar = a.registrar ?? `sip:${a.domain}`;
    const aor = `sip:${a.user}@${a.domain}`;
    const contact = contactUri(a.user, this.o.contactAddress());
    const expires = purpose === 'unregister' ? 0 : this.requestedExpires;
    const headers: Array<[string, string]> = [];
    if (a.outboundProxy) headers.push(['Route', `<${a.outboundProxy}${/;lr(\b|$)/i.test(a.outboundProxy) ? '' : ';lr'}>`]);
    const from = a.displayName ? `"${a.displayName.replace(/[\\"]/g, (c) => '\\' + c)}" <${aor}>` : `<${aor}>`;
    headers.push(['From', `${from};tag=${this.fromTag}`], ['To', `<${aor}>`], ['Call-ID', this.callId]);
    headers.push(['CSeq', `${++this.cseq} REGISTER`], ['Max-Forwards', '70']);
    if (purpose === 'unregister') {
      headers.push(['Contact', contactValue(this.registeredContact ?? contact, a.instanceId)]);
    } else {
      headers.push(['Contact', contactValue(contact, a.instanceId)]);
      // Our address moved (NAT rebinding): drop the old binding in the same request rather than leave it to expire.
      if (this.registeredContact && this.registeredContact !== contact) headers.push(['Contact', contactValue(this.registeredContact, undefined, 0)]);
    }
    headers.push(['Expires', String(expires)]);
    if (a.userAgent) headers.push(['User-Agent', a.userAgent]);
    const authz = this.auth.authorize('REGISTER', registrar);
    if (authz) headers.push([authz.name, authz.value]);
    const attempt = ++this.attempt;
    this.inFlight = attempt;
    const hadCredentials = authz !== undefined;
    this.setState(state);
    const request: OutgoingRequest = { method: 'REGISTER', uri: registrar, headers, nextHop: a.outboundProxy ?? registrar };
    this.o.sender.send(request, {
      onFinal: (res) => this.onFinal(attempt, res, purpose, contact, hadCredentials),
      onError: (err) => this.onTransportError(attempt, err),
    });
  }

  /** Event: final response to the REGISTER in flight. */
  private onFinal(attempt: number, res: SipResponse, purpose: Purpose, contact: string, hadCredentials: boolean): void {
    if (attempt !== this.inFlight) return;
    this.inFlight = undefined;
    this.lastStatus = res.status;
    this.o.onResponse?.(res);
    if (res.status === 401 || res.status === 407) {
      try {
        this.auth.onChallenge(res, hadCredentials);
      } catch (err) {
        if (err instanceof DigestAuthError) return this.onRejected(`${res.status} ${err.message}`);
        throw err;
      }
      return this.sendRegister(this._state, this._state === 'unregistering' ? 'unregister' : purpose);
    }
    this.auth.onNonChallengeFinal();
    if (purpose === 'unregister' || this._state === 'unregistering') {
      if (this._state === 'unregistering' && purpose !== 'unregister') {
        // Unregister was asked while a REGISTER was in flight: now send the Expires: 0.
        if (res.status >= 200 && res.status < 300) this.registeredContact = contact;
        return this.sendRegister('unregistering', 'unregister');
      }
      return this.finishUnregister(res.status >= 200 && res.status < 300 ? null : `${res.status} ${res.reason}`);
    }
    if (res.status >= 200 && res.status < 300) return this.onRegistered(res, contact);
    if (res.status === 423) {
      const min = Number((getHeader(res, 'Min-Expires') ?? '').trim());
      if (Number.isInteger(min) && min > this.requestedExpires && min <= 86400 * 7) {
        this.requestedExpires = min;
        return this.sendRegister(this._state, 'register');
      }
      return this.onTransientFailure(`423 without a usable Min-Expires`, undefined);
    }
    if (res.status === 403) return this.onRejected(`403 ${res.reason}`);
    const retryAfter = parseRetryAfterMs(getHeader(res, 'Retry-After'), this.policy);
    this.onTransientFailure(`${res.status} ${res.reason}`, retryAfter);
  }

  private onRegistered(res: SipResponse, contact: string): void {
    const granted = grantedExpires(getHeaders(res, 'Contact'), getHeader(res, 'Expires'), contact, this.o.account.instanceId) ?? this.requestedExpires;
    this.failures = 0;
    this.lastError = null;
    if (granted <= 0) {
      // The registrar accepted but kept no binding for us: treat as failure rather than refresh in a loop.
      this.bindingExpiresAt = undefined;
      return this.onTransientFailure('200 without a binding for our Contact', undefined);
    }
    this.registeredContact = contact;
    this.bindingExpiresAt = this.o.clock.now() + granted * 1000;
    this.schedule(refreshDelayMs(granted, this.policy, this.o.random), () => this.sendRegister('refreshing', 'register'));
    this.setState('registered');
    if (this.refreshWanted) {
      this.refreshWanted = false;
      this.refreshNow();
    }
  }

  /** Event: the transaction layer reports a transport error or timeout. */
  private onTransportError(attempt: number, err: Error): void {
    if (attempt !== this.inFlight) return;
    this.inFlight = undefined;
    this.lastStatus = null;
    if (this._state === 'unregistering') return this.finishUnregister(`transport: ${err.message}`);
    this.onTransientFailure(`transport: ${err.message}`, undefined);
  }

  private onTransientFailure(reason: string, retryAfterMs: number | undefined): void {
    this.lastError = reason;
    this.failures++;
    this.auth.onNonChallengeFinal();
    const delay = retryAfterMs ?? backoffDelayMs(this.failures, this.policy, this.o.random);
    this.o.log?.(`registration ${this.o.account.user}@${this.o.account.domain}: ${reason}; retry in ${Math.round(delay / 1000)} s`);
    this.schedule(delay, () => this.sendRegister('registering', 'register'));
    this.setState('retry-wait');
  }

  private onRejected(reason: string): void {
    this.lastError = reason;
    this.bindingExpiresAt = undefined;
    this.auth.reset();
    this.o.log?.(`registration ${this.o.account.user}@${this.o.account.domain}: ${reason}; retry in ${Math.round(this.policy.forbiddenWaitMs / 1000)} s`);
    if (this._state === 'unregistering') return this.finishUnregister(reason);
    this.schedule(this.policy.forbiddenWaitMs, () => this.sendRegister('registering', 'register'));
    this.setState('failed');
  }

  private finishUnregister(error: string | null): void {
    this.o.clock.clearTimeout(this.unregisterTimer);
    this.unregisterTimer = undefined;
    this.inFlight = undefined;
    this.bindingExpiresAt = undefined;
    this.registeredContact = undefined;
    if (error) this.lastError = error;
    this.setState('unregistered');
    this.flushUnregisterWaiters();
  }

  private flushUnregisterWaiters(): void {
    const w = this.unregisterWaiters;
    this.unregisterWaiters = [];
    for (const resolve of w) resolve();
  }

  private schedule(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timerDue = this.o.clock.now() + ms;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerDue = undefined;
      fn();
    }, ms);
  }

  private clearTimer(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = undefined;
  }

  private setState(s: RegistrationState): void {
    const changed = s !== this._state;
    this._state = s;
    if (changed) this.o.onChange?.(this.status());
  }
}
