import type { Clock, Random } from '../../hal/clock.js';
import { getHeaders, type SipMessage, type SipRequest, type SipResponse, type Via } from './message.js';
import { buildRequest, buildResponse } from './serializer.js';
import { formatVia } from './header-values.js';
import { formatUri } from './uri.js';
import {
  createClientTransaction,
  InviteClientTransaction,
  NonInviteClientTransaction,
  type ClientTransaction,
  type ClientTransactionHandlers,
} from './client-transaction.js';
import { createServerTransaction, InviteServerTransaction, type ServerTransaction } from './server-transaction.js';
import { NatLearner, type PublicAddress } from './nat.js';
import { DEFAULT_TIMER_BASE, transactionTimers, type TimerBase } from './timers.js';
import { TransactionError } from './transaction-error.js';
import type { TransactionContext } from './transaction-context.js';
import { SipTransportLayer, TargetError, type SipLog } from './transport-layer.js';
import { TransportError, type Endpoint, type Peer, type TransportProtocol } from './transport.js';

export interface RequestTarget {
  transport: TransportProtocol;
  host: string;
  port: number;
}

/** Why a message reached the stray hook. */
export type StrayKind = 'ack' | 'response' | 'cancel';
export type StrayHandler = (msg: SipMessage, source: Peer, kind: StrayKind) => void;
export type RequestHandler = (req: SipRequest, st: ServerTransaction, source: Peer) => void;

export interface TransactionLayerOptions {
  transport: SipTransportLayer;
  clock: Clock;
  random: Random;
  timerBase?: TimerBase;
  log?: SipLog;
}

const BRANCH_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** RFC 3261 8.1.1.7: the magic cookie, then enough randomness to be unique in space and time (16 chars, ~95 bits). */
export function newBranch(random: Random): string {
  let s = 'z9hG4bK';
  for (let i = 0; i < 16; i++) s += BRANCH_ALPHABET[Math.floor(random() * 62) % 62];
  return s;
}

/** Key for a client transaction (RFC 3261 17.1.3): top Via branch and CSeq method. */
function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

/**
 * Key for a server transaction (RFC 3261 17.2.3). With an RFC 3261 branch: branch, sent-by and method (ACK counts
 * as INVITE), plus Call-ID and CSeq number: a retransmission, the ACK of a non-2xx and a CANCEL all repeat those,
 * so matching is unchanged for them, but a client that reuses a branch for a different request (RFC 4475's
 * unkscm/novelsc, cparam01/cparam02 do) gets that request answered instead of the old response replayed. Without one (RFC 2543 peers): Request-URI, From tag, Call-ID, CSeq, top Via and method; the To tag
 * is left out for INVITE/ACK because the INVITE usually has none and the ACK carries ours.
 */
export function serverKey(req: SipRequest, method: string = req.method === 'ACK' ? 'INVITE' : req.method): string {
  const via = req.parsed.via[0];
  const branch = via?.params.get('branch');
  const sentBy = via ? `${via.host}:${via.port ?? ''}` : '';
  const p = req.parsed;
  if (branch && branch.startsWith('z9hG4bK')) return `${branch}|${sentBy}|${method}|${p.callId}|${p.cseq.seq}`;
  const toTag = method === 'INVITE' ? '' : (p.to.params.get('tag') ?? '');
  return `2543|${formatUri(req.uri)}|${p.from.params.get('tag') ?? ''}|${toTag}|${p.callId}|${p.cseq.seq}|${via ? formatVia(viaWithoutStamps(via)) : ''}|${method}`;
}

function viaWithoutStamps(via: Via): Via {
  const params = new Map(via.params);
  params.delete('received');
  params.delete('rport');
  return { ...via, params };
}

interface ClientMeta {
  peer?: Peer;
  sentBy?: Endpoint;
}

/**
 * The transaction layer the TUs (registration, INVITE sessions, OPTIONS answering) use: client transactions for
 * what we send, server transactions for what we receive, and matching of everything that comes in.
 */
export class TransactionLayer {
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private readonly meta = new WeakMap<ClientTransaction, ClientMeta>();
  private readonly nat = new Map<TransportProtocol, NatLearner>();
  private requestHandler: RequestHandler | undefined;
  private strayHandler: StrayHandler | undefined;
  private publicAddressHandler: ((addr: PublicAddress & { transport: TransportProtocol }, previous?: PublicAddress) => void) | undefined;
  private readonly base: TimerBase;

  constructor(private readonly opts: TransactionLayerOptions) {
    this.base = opts.timerBase ?? DEFAULT_TIMER_BASE;
    opts.transport.onRequest((req, source) => this.receiveRequest(req, source));
    opts.transport.onResponse((res, source) => this.receiveResponse(res, source));
    opts.transport.onConnectionLost((peer) => this.connectionLost(peer));
  }

  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /** ACKs for 2xx, responses that match no transaction (2xx retransmissions after Timer M), unmatched CANCELs. */
  onStray(handler: StrayHandler): void {
    this.strayHandler = handler;
  }

  /** First public address learned from received/rport, and each change after it (at most once per change). */
  onPublicAddress(handler: (addr: PublicAddress & { transport: TransportProtocol }, previous?: PublicAddress) => void): void {
    this.publicAddressHandler = handler;
  }

  /** Number of live transactions (status page, tests). */
  get size(): { clients: number; servers: number } {
    return { clients: this.clients.size, servers: this.servers.size };
  }

  /**
   * Sends a request in a new client transaction. Any Via the request carries (buildRequest needs one) is replaced
   * by ours: a fresh branch, `;rport`, and the sent-by of the transport chosen. Errors (resolution, transport,
   * timeout) arrive through `handlers.onError`, never as a throw.
   */
  sendRequest(request: SipRequest, handlers: ClientTransactionHandlers): ClientTransaction;
  sendRequest(request: SipRequest, target: RequestTarget | undefined, handlers: ClientTransactionHandlers): ClientTransaction;
  sendRequest(
    request: SipRequest,
    targetOrHandlers: RequestTarget | ClientTransactionHandlers | undefined,
    maybeHandlers?: ClientTransactionHandlers,
  ): ClientTransaction {
    const target = maybeHandlers ? (targetOrHandlers as RequestTarget | undefined) : undefined;
    const handlers = maybeHandlers ?? (targetOrHandlers as ClientTransactionHandlers);
    let protocol: TransportProtocol = target?.transport ?? 'udp';
    let early: TargetError | undefined;
    try {
      protocol = this.opts.transport.nextHopProtocol(request, target);
    } catch (err) {
      early = err instanceof TargetError ? err : new TargetError('', String(err));
    }
    const branch = newBranch(this.opts.random);
    const via: Via = { protocol: 'SIP/2.0', transport: protocol.toUpperCase(), host: 'invalid', params: new Map<string, string | null>([['branch', branch], ['rport', null]]) };
    setOnlyVia(request, via);
    const meta: ClientMeta = {};
    const ctx = this.context(protocol, (msg) => {
      const peer = meta.peer;
      if (!peer) return;
      this.opts.transport.sendRequest(msg as SipRequest, peer).catch((err) => tx.transportError(err));
    });
    const tx = createClientTransaction(request, ctx, this.guard(handlers));
    const key = clientKey(branch, request.method);
    this.clients.set(key, tx);
    this.meta.set(tx, meta);
    tx.onTerminated = () => {
      if (this.clients.get(key) === tx) this.clients.delete(key);
    };
    void this.startClient(tx, request, via, meta, target, early);
    return tx;
  }

  private async startClient(tx: ClientTransaction, request: SipRequest, via: Via, meta: ClientMeta, target: RequestTarget | undefined, early: TargetError | undefined): Promise<void> {
    try {
      if (early) throw early;
      const peer = await this.opts.transport.resolveTarget(request, target);
      const sentBy = await this.opts.transport.sentBy(peer.transport, peer);
      via.host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
      via.port = sentBy.port;
      setOnlyVia(request, via);
      meta.peer = peer;
      meta.sentBy = sentBy;
    } catch (err) {
      const failure = err instanceof TargetError ? 'resolve' : 'transport';
      tx.abort(new TransactionError(failure, tx.id, err instanceof Error ? err.message : String(err), err));
      return;
    }
    tx.start();
  }

  /**
   * CANCEL for an INVITE we sent (RFC 3261 9.1): same Request-URI, Call-ID, From, To, CSeq number, Route and the
   * INVITE's Via (so the same branch), to the same place. Held back until the INVITE has had a provisional
   * response, as 9.1 requires; if the INVITE ends first, the CANCEL ends with failure 'aborted'.
   */
  sendCancel(invite: InviteClientTransaction, handlers: ClientTransactionHandlers): NonInviteClientTransaction {
    const inv = invite.request;
    const headers: Array<[string, string]> = [];
    for (const h of inv.headers) if (h.name === 'Via') { headers.push(['Via', formatVia(inv.parsed.via[0])]); break; }
    for (const r of getHeaders(inv, 'Route')) headers.push(['Route', r]);
    for (const name of ['From', 'To', 'Call-ID']) for (const v of getHeaders(inv, name)) headers.push([name, v]);
    headers.push(['CSeq', `${inv.parsed.cseq.seq} CANCEL`]);
    const cancel = buildRequest({ method: 'CANCEL', uri: inv.uri, headers });
    const invMeta = this.meta.get(invite) ?? {};
    const meta: ClientMeta = invMeta;
    const ctx = this.context(inv.parsed.via[0]?.transport === 'TCP' ? 'tcp' : 'udp', (msg) => {
      if (!meta.peer) return;
      this.opts.transport.sendRequest(msg as SipRequest, meta.peer).catch((err) => tx.transportError(err));
    });
    const tx = new NonInviteClientTransaction(cancel, ctx, this.guard(handlers));
    const key = clientKey(inv.parsed.via[0]?.params.get('branch') ?? '', 'CANCEL');
    this.clients.set(key, tx);
    tx.onTerminated = () => {
      if (this.clients.get(key) === tx) this.clients.delete(key);
    };
    const go = () => {
      if (invite.state === 'proceeding') {
        // The INVITE's Via got its sent-by only after resolution: copy it now, branch and all.
        setOnlyVia(cancel, inv.parsed.via[0]);
        invite.cancelSent();
        tx.start();
      } else {
        tx.abort(new TransactionError('aborted', tx.id, `INVITE is ${invite.state}: nothing to cancel`));
      }
    };
    if (invite.state === 'calling') invite.onLeaveCalling = go;
    else go();
    return tx;
  }

  /**
   * Sends a request outside any transaction: the ACK for a 2xx (RFC 3261 13.2.2.4, new branch each time) or a
   * stateless reply path. Rejects with TargetError or TransportError.
   */
  async sendStateless(request: SipRequest, target?: RequestTarget): Promise<void> {
    const peer = await this.opts.transport.resolveTarget(request, target);
    const sentBy = await this.opts.transport.sentBy(peer.transport, peer);
    const via: Via = {
      protocol: 'SIP/2.0',
      transport: peer.transport.toUpperCase(),
      host: sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host,
      port: sentBy.port,
      params: new Map<string, string | null>([['branch', newBranch(this.opts.random)], ['rport', null]]),
    };
    setOnlyVia(request, via);
    await this.opts.transport.sendRequest(request, peer);
  }

  /** Ends every transaction without telling the TUs (agent shutdown). */
  shutdown(): void {
    for (const t of [...this.clients.values()]) t.terminate();
    for (const t of [...this.servers.values()]) t.terminate();
  }

  private context(protocol: TransportProtocol, send: (msg: SipMessage) => void): TransactionContext {
    const reliable = this.opts.transport.transport(protocol)?.reliable ?? false;
    return { clock: this.opts.clock, timers: transactionTimers(reliable, this.base), send };
  }

  /** TU callbacks run inside network event handlers: one that throws must not take the layer down. */
  private guard(h: ClientTransactionHandlers): ClientTransactionHandlers {
    const wrap = <A>(name: string, f: ((a: A) => void) | undefined) =>
      f &&
      ((a: A) => {
        try {
          f.call(h, a);
        } catch (err) {
          this.opts.log?.('warn', `transaction user ${name} threw`, { error: err instanceof Error ? err.stack : String(err) });
        }
      });
    return {
      onProvisional: wrap('onProvisional', h.onProvisional),
      onFinal: wrap('onFinal', h.onFinal) as (r: SipResponse) => void,
      onError: wrap('onError', h.onError) as (e: TransactionError) => void,
    };
  }

  private receiveResponse(res: SipResponse, source: Peer): void {
    const via = res.parsed.via[0];
    const branch = via?.params.get('branch');
    const tx = branch ? this.clients.get(clientKey(branch, res.parsed.cseq.method)) : undefined;
    if (!tx) {
      this.strayHandler?.(res, source, 'response');
      return;
    }
    const meta = this.meta.get(tx);
    if (meta?.sentBy && via) this.observeNat(source.transport, via, meta.sentBy);
    tx.receiveResponse(res);
  }

  /** A reliable connection went away: requests still waiting for a final on it will never get one there. */
  private connectionLost(peer: Peer): void {
    for (const tx of [...this.clients.values()]) {
      const p = this.meta.get(tx)?.peer;
      if (!p || p.transport !== peer.transport || p.host !== peer.host || p.port !== peer.port) continue;
      if (tx.state === 'calling' || tx.state === 'trying' || tx.state === 'proceeding') {
        tx.transportError(new TransportError(peer.transport, peer, 'ECONNRESET', `connection to ${peer.host}:${peer.port} closed`));
      }
    }
  }

  private observeNat(protocol: TransportProtocol, via: Via, sentBy: Endpoint): void {
    let learner = this.nat.get(protocol);
    if (!learner) {
      learner = new NatLearner((now, prev) => this.publicAddressHandler?.({ ...now, transport: protocol }, prev));
      this.nat.set(protocol, learner);
    }
    learner.observe(via, sentBy);
  }

  private receiveRequest(req: SipRequest, source: Peer): void {
    if (req.parsed.via.length === 0) return;
    if (req.method === 'ACK') {
      const st = this.servers.get(serverKey(req));
      if (st instanceof InviteServerTransaction && st.receiveAck(req) === 'absorbed') return;
      this.strayHandler?.(req, source, 'ack');
      return;
    }
    const key = serverKey(req);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRequest(req);
      return;
    }
    const st = this.createServer(req, source, key);
    if (req.method === 'CANCEL') {
      const invite = this.servers.get(serverKey(req, 'INVITE'));
      if (!(invite instanceof InviteServerTransaction)) {
        st.respond(buildResponse(req, 481, undefined, [], { toTag: 'cancel481' }));
        this.strayHandler?.(req, source, 'cancel');
        return;
      }
      st.respond(buildResponse(req, 200, undefined, [], { toTag: tagOf(invite) }));
      invite.receiveCancel(req);
      return;
    }
    if (!this.requestHandler) {
      st.respond(buildResponse(req, 503, undefined, [], { toTag: 'notready' }));
      return;
    }
    try {
      this.requestHandler(req, st, source);
    } catch (err) {
      this.opts.log?.('warn', 'request handler threw', { method: req.method, error: err instanceof Error ? err.stack : String(err) });
      st.respond(buildResponse(req, 500, undefined, [], { toTag: 'error500' }));
    }
  }

  private createServer(req: SipRequest, source: Peer, key: string): ServerTransaction {
    const ctx = this.context(source.transport, (msg) => {
      this.opts.transport.sendResponse(msg as SipResponse, source).catch((err) => st.transportError(err));
    });
    const st = createServerTransaction(req, ctx);
    this.servers.set(key, st);
    st.onTerminated = () => {
      if (this.servers.get(key) === st) this.servers.delete(key);
    };
    return st;
  }
}

/** The To tag for a 200 to CANCEL: the one the INVITE's To already has, if any (RFC 3261 9.2 copies To). */
function tagOf(invite: InviteServerTransaction): string {
  return invite.request.parsed.to.params.get('tag') ?? 'cancel200';
}

/** Replaces every Via of a request we originate with the one given (a UAC has exactly one, 8.1.1.7). */
function setOnlyVia(request: SipRequest, via: Via): void {
  const first = request.headers.findIndex((h) => h.name === 'Via');
  const rest = request.headers.filter((h) => h.name !== 'Via');
  const entry = { name: 'Via', value: formatVia(via) };
  rest.splice(first < 0 ? 0 : Math.min(first, rest.length), 0, entry);
  request.headers.length = 0;
  request.headers.push(...rest);
  request.parsed.via = [via];
}
