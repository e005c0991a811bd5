/**
 * The agent's SIP side: the transports on `[sip] listen`, the transaction layer above them, the UAS core's answers
 * to requests, and for each account its registration and NAT keep-alive. Calls (INVITE sessions) plug in through
 * `onInvite`; until a call layer claims them, INVITEs are refused with 480 so the caller hears a clear failure.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Clock, Random } from '../hal/clock.js';
import type { AccountConfig, AtaConfig } from './config/schema.js';
import type { Logger } from './log.js';
import type { SipTraceSink } from './sip-trace.js';
import { SipCredentials } from './sip/digest.js';
import { DTMF_INFO_TYPES } from './sip/dtmf-info.js';
import { KeepAlive } from './sip/keepalive.js';
import type { SipRequest, SipUri } from './sip/message.js';
import { buildRequest, buildResponse } from './sip/serializer.js';
import { Registration, type RegistrationStatus } from './sip/registration.js';
import { SIPFRAG_TYPE } from './sip/call-transfer.js';
import { MESSAGE_SUMMARY_TYPE } from './sip/message-summary.js';
import { TransactionRequestSender } from './sip/registration-sender.js';
import type { ServerTransaction } from './sip/server-transaction.js';
import { TcpTransport } from './sip/tcp-transport.js';
import { TransactionLayer } from './sip/transaction-layer.js';
import { SipTransportLayer } from './sip/transport-layer.js';
import type { Endpoint, Peer, Transport } from './sip/transport.js';
import { UaCore } from './sip/ua-core.js';
import { UdpTransport } from './sip/udp-transport.js';
import { parseUri } from './sip/uri.js';

export class SipStartError extends Error {
  override readonly name = 'SipStartError';
  constructor(
    readonly configKey: string,
    message: string,
  ) {
    super(`${configKey}: ${message}`);
  }
}

export interface AccountRuntime {
  config: AccountConfig;
  aor: string;
  registration: Registration;
  keepAlive: KeepAlive | null;
}

/**
 * What the call layer (INVITE sessions) plugs into the stack: it claims INVITEs and in-dialog requests, and tells
 * the UAS core which dialogs and INVITE transactions exist so BYE/CANCEL for unknown ones get 481.
 */
export interface CallLayer {
  /** An INVITE (initial or re-INVITE) or an in-dialog request (BYE, ACK for 2xx is via `onAck`) the core accepted. */
  onRequest(req: SipRequest, st: ServerTransaction, source: Peer): void;
  /** ACK for a 2xx (outside any transaction, RFC 3261 17.2.1 / RFC 6026). */
  onAck(req: SipRequest, source: Peer): void;
  hasDialog(req: SipRequest): boolean;
  hasInviteForCancel(req: SipRequest): boolean;
}

export interface SipStackOptions {
  config: AtaConfig;
  clock: Clock;
  random: Random;
  log: Logger;
  trace: SipTraceSink;
}

export class SipStack {
  readonly accounts: AccountRuntime[] = [];
  readonly transport: SipTransportLayer;
  readonly transactions: TransactionLayer;
  private readonly ua: UaCore;
  private readonly udp: UdpTransport | undefined;
  private callLayer: CallLayer | undefined;
  /** The address learned from received/rport; null until a registrar told us (or when it is our own). */
  private publicAddress: { host: string; port: number } | null = null;

  private constructor(
    private readonly o: SipStackOptions,
    private readonly transports: Transport[],
  ) {
    const { clock, random, log, trace } = o;
    const sipLog = log.child({ component: 'sip' });
    this.udp = transports.find((t): t is UdpTransport => t.protocol === 'udp');
    this.transport = new SipTransportLayer({
      transports,
      clock,
      onTrace: (r) => trace.record({ direction: r.direction, peer: `${r.peer.host}:${r.peer.port}`, transport: r.transport, time: r.time, text: r.text }),
      log: (level, event, fields) => sipLog[level](fields, event),
    });
    this.transactions = new TransactionLayer({ transport: this.transport, clock, random, log: (level, event, fields) => sipLog[level](fields, event) });
    this.ua = new UaCore({
      allow: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'NOTIFY'],
      // DTMF in INFO bodies (src/sip/dtmf-info.ts), message-waiting NOTIFYs (src/sip/message-summary.ts) and the
      // transfer progress in a REFER's NOTIFYs (src/sip/call-transfer.ts). Each reader checks the body it gets: an
      // INVITE whose body is not SDP (488), an INFO that is not DTMF or a NOTIFY that is not a summary (415).
      accept: ['application/sdp', ...DTMF_INFO_TYPES, MESSAGE_SUMMARY_TYPE, SIPFRAG_TYPE],
      supported: [],
      // Without a call layer no dialog exists: every in-dialog request is for a dialog we do not have.
      hasDialog: (req) => this.callLayer?.hasDialog(req) ?? false,
      hasInviteForCancel: (req) => this.callLayer?.hasInviteForCancel(req) ?? false,
    });
    this.transactions.onRequest((req, st, source) => this.request(req, st, source));
    this.transactions.onStray((msg, source, kind) => {
      if (kind === 'ack' && msg.type === 'request' && this.callLayer) this.callLayer.onAck(msg, source);
      else sipLog.debug({ kind, peer: `${source.host}:${source.port}` }, 'stray SIP message absorbed');
    });
    this.transactions.onPublicAddress((addr, previous) => {
      sipLog.info({ public: `${addr.host}:${addr.port}`, previous: previous ? `${previous.host}:${previous.port}` : null }, 'public address learned');
      this.publicAddress = { host: addr.host, port: addr.port };
      // Each registration re-registers from the new address (and removes the old Contact) at once.
      for (const a of this.accounts) a.registration.refreshNow();
    });
    for (const account of o.config.account) this.accounts.push(this.makeAccount(account, sipLog));
  }

  /** Opens the transports named in `[sip] transports` on `[sip] listen`. */
  static async open(o: SipStackOptions): Promise<SipStack> {
    const bind: Endpoint = { host: o.config.sip.listen.host, port: o.config.sip.listen.port };
    const transports: Transport[] = [];
    try {
      for (const t of o.config.sip.transports) {
        if (t === 'udp') transports.push(await UdpTransport.listen(bind));
        else if (t === 'tcp') transports.push(await TcpTransport.listen(bind, { clock: o.clock, onFramingError: (peer, fault) => o.log.warn({ peer: `${peer.host}:${peer.port}`, fault }, 'SIP over TCP: framing error, connection closed') }));
        else throw new SipStartError('sip.transports', `${t} is not available in this version; use "udp" and/or "tcp"`);
      }
    } catch (err) {
      await Promise.allSettled(transports.map((t) => t.close()));
      if (err instanceof SipStartError) throw err;
      throw new SipStartError('sip.listen', err instanceof Error ? err.message : String(err));
    }
    return new SipStack(o, transports);
  }

  /** The local SIP endpoint (the UDP socket when there is one). */
  get local(): Endpoint {
    return (this.udp ?? this.transports[0]).local;
  }

  /** Installs the call layer; from then on it receives INVITEs and in-dialog requests. */
  setCallLayer(layer: CallLayer): void {
    this.callLayer = layer;
  }

  /** The address to put in Contact and SDP: learned public address, else the bound one (see contactAddress). */
  get contact(): { host: string; port: number } {
    return this.contactAddress();
  }

  start(): void {
    for (const a of this.accounts) {
      a.registration.start();
      a.keepAlive?.start();
    }
  }

  accountStatus(): Array<{ line: number; aor: string; status: RegistrationStatus }> {
    return this.accounts.map((a) => ({ line: a.config.line, aor: a.aor, status: a.registration.status() }));
  }

  /** Unregisters every account (bounded by the registration's own timeout), then closes the sockets. */
  async stop(): Promise<void> {
    for (const a of this.accounts) a.keepAlive?.stop();
    await Promise.allSettled(this.accounts.map((a) => a.registration.unregister()));
    for (const a of this.accounts) a.registration.stop();
    this.transactions.shutdown();
    await Promise.allSettled(this.transports.map((t) => t.close()));
  }

  private makeAccount(a: AccountConfig, log: Logger): AccountRuntime {
    const aor = `sip:${a.user}@${a.domain}`;
    const alog = log.child({ account: aor });
    const registration = new Registration({
      account: {
        user: a.user,
        domain: a.domain,
        ...(a.display_name ? { displayName: a.display_name } : {}),
        credentials: new SipCredentials(a.auth_user, a.password),
        registrar: a.registrar,
        ...(a.outbound_proxy ? { outboundProxy: a.outbound_proxy } : {}),
        userAgent: this.o.config.sip.user_agent,
      },
      sender: new TransactionRequestSender(this.transactions),
      clock: this.o.clock,
      random: this.o.random,
      contactAddress: () => this.contactAddress(),
      policy: { expires: a.expires },
      onChange: (s) => alog.info({ state: s.state, registered: s.registered, expires_in: s.expiresIn, last_error: s.lastError }, 'registration'),
      log: (msg) => alog.debug(msg),
    });
    let keepAlive: KeepAlive | null = null;
    const mode = this.o.config.sip.keepalive;
    if (mode !== 'off' && this.udp) {
      const nextHop = hopOf(a.outbound_proxy ?? a.registrar);
      keepAlive = new KeepAlive({
        clock: this.o.clock,
        random: this.o.random,
        mode,
        intervalMs: this.o.config.sip.keepalive_s * 1000,
        sendCrlf: () => {
          void resolveHop(nextHop).then((dest) => this.udp?.send(Buffer.from('\r\n\r\n', 'latin1'), dest)).catch((err) => alog.debug({ err: String(err) }, 'keep-alive not sent'));
        },
        sendOptions: (done) => {
          const req = buildRequest({
            method: 'OPTIONS',
            uri: a.outbound_proxy ?? a.registrar,
            headers: [
              ['Via', 'SIP/2.0/UDP invalid;branch=z9hG4bKplaceholder'],
              ['Max-Forwards', '70'],
              ['From', `<${aor}>;tag=${Math.floor(this.o.random() * 1e9).toString(36)}`],
              ['To', `<${aor}>`],
              ['Call-ID', `${Math.floor(this.o.random() * 1e12).toString(36)}@ata`],
              ['CSeq', '1 OPTIONS'],
              ['User-Agent', this.o.config.sip.user_agent],
            ],
          });
          this.transactions.sendRequest(req, undefined, { onFinal: () => done(true), onError: () => done(false) });
        },
        onUnreachable: () => registration.refreshNow(),
      });
    }
    return { config: a, aor, registration, keepAlive };
  }

  private contactAddress(): { host: string; port: number; transport?: string } {
    if (this.publicAddress) return this.publicAddress;
    const local = this.local;
    // A wildcard bind cannot go in a Contact; the first registrar response's received/rport replaces this guess.
    const host = local.host === '0.0.0.0' || local.host === '::' ? firstLocalAddress(local.host === '::') : local.host;
    return { host, port: local.port };
  }

  private request(req: SipRequest, st: ServerTransaction, source: Peer): void {
    const verdict = this.ua.inspect(req);
    if (verdict.kind === 'drop') return;
    let headers: Array<[string, string]> = [];
    let status: number;
    let reason: string | undefined;
    if (verdict.kind === 'respond') {
      status = verdict.status;
      reason = verdict.reason;
      headers = verdict.headers;
      if (req.method === 'OPTIONS' && status === 200) headers = [...headers, ...this.ua.capabilityHeaders()];
    } else if (this.callLayer) {
      this.callLayer.onRequest(req, st, source);
      return;
    } else if (req.method === 'INVITE') {
      // The INVITE-session layer (calls) is not part of this agent yet: say so plainly rather than ring forever.
      status = 480;
      reason = 'Temporarily Unavailable';
      headers = [['Warning', `399 ${this.local.host} "calls are not supported by this version of pi-ata"`]];
      this.o.log.warn({ from: req.parsed.from.uri.kind === 'sip' ? (req.parsed.from.uri as SipUri).user : null, peer: `${source.host}:${source.port}` }, 'incoming INVITE refused: calls not supported yet');
    } else {
      status = 481;
    }
    headers.push(['User-Agent', this.o.config.sip.user_agent]);
    try {
      st.respond(buildResponse(req, status, reason, headers, { toTag: status >= 200 ? Math.floor(this.o.random() * 1e12).toString(36) : undefined }));
    } catch (err) {
      this.o.log.warn({ err: String(err) }, 'cannot answer SIP request');
    }
  }
}


function hopOf(uriText: string): { host: string; port: number } {
  const u = parseUri(uriText);
  if (u.kind !== 'sip') return { host: '127.0.0.1', port: 5060 };
  return { host: u.host.replace(/^\[|\]$/g, ''), port: u.port ?? 5060 };
}

async function resolveHop(h: { host: string; port: number }): Promise<Endpoint> {
  if (isIP(h.host)) return h;
  return { host: (await lookup(h.host)).address, port: h.port };
}

function firstLocalAddress(v6: boolean): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && (a.family === 'IPv6') === v6) return a.address;
  }
  return v6 ? '::1' : '127.0.0.1';
}

