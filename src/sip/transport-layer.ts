import { createSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Clock } from '../../hal/clock.js';
import { SipParseError, getHeader, type SipMessage, type SipRequest, type SipResponse, type Uri, type Via } from './message.js';
import { parseMessage } from './parser.js';
import { serializeMessage } from './serializer.js';
import { formatVia, parseNameAddr, splitCommaList } from './header-values.js';
import { malformedRequestReply } from './malformed-reply.js';
import {
  TransportError,
  type Endpoint,
  type Peer,
  type Transport,
  type TransportProtocol,
} from './transport.js';

export interface TraceRecord {
  direction: 'in' | 'out';
  peer: Peer;
  transport: TransportProtocol;
  time: Date;
  /** The message as on the wire (latin1). */
  text: string;
}

export type TraceSink = (record: TraceRecord) => void;
export type SipLog = (level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>) => void;
/** A/AAAA lookup (RFC 3263 minimal: no NAPTR, no SRV). */
export type HostResolver = (host: string) => Promise<string>;

export const defaultResolver: HostResolver = async (host) => (await dnsLookup(host)).address;

export class TargetError extends Error {
  override readonly name = 'TargetError';
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(message);
  }
}

export interface TransportLayerOptions {
  transports: Transport[];
  clock: Clock;
  onTrace?: TraceSink;
  log?: SipLog;
  resolve?: HostResolver;
  /** Address written into Via instead of the socket's (a fixed public address, a port-forwarded router). */
  advertise?: Partial<Record<TransportProtocol, Endpoint>>;
}

/**
 * Between the transactions and the sockets (RFC 3261 sec. 18): turns bytes into messages and back, stamps
 * received/rport on incoming requests, sends responses where their Via says, picks the transport and address of
 * outgoing requests, and shows every message to the trace sink.
 */
export class SipTransportLayer {
  private requestHandler: ((req: SipRequest, source: Peer) => void) | undefined;
  private responseHandler: ((res: SipResponse, source: Peer) => void) | undefined;
  private lostHandler: ((peer: Peer) => void) | undefined;
  private readonly byProtocol = new Map<TransportProtocol, Transport>();
  private readonly routeCache = new Map<string, string>();
  private readonly resolve: HostResolver;

  constructor(private readonly opts: TransportLayerOptions) {
    this.resolve = opts.resolve ?? defaultResolver;
    for (const t of opts.transports) {
      this.byProtocol.set(t.protocol, t);
      t.onMessage((data, source) => this.receive(t, data, source));
      t.onConnectionLost((peer) => this.lostHandler?.({ transport: t.protocol, host: peer.host, port: peer.port }));
    }
  }

  onRequest(handler: (req: SipRequest, source: Peer) => void): void {
    this.requestHandler = handler;
  }

  onResponse(handler: (res: SipResponse, source: Peer) => void): void {
    this.responseHandler = handler;
  }

  onConnectionLost(handler: (peer: Peer) => void): void {
    this.lostHandler = handler;
  }

  transport(protocol: TransportProtocol): Transport | undefined {
    return this.byProtocol.get(protocol);
  }

  /** The transport a request will use, known before any DNS lookup (so the transaction gets its timers at once). */
  nextHopProtocol(req: SipRequest, explicit?: { transport: TransportProtocol }): TransportProtocol {
    let transport: string;
    if (explicit) transport = explicit.transport;
    else {
      const uri = nextHopUri(req);
      if (uri.kind !== 'sip') throw new TargetError(`${uri.scheme}:${uri.rest}`, `cannot route to a ${uri.scheme}: URI`);
      if (uri.scheme === 'sips') throw new TargetError(uri.host, 'sips: needs TLS, which this stack does not implement');
      transport = (uri.params.get('transport') ?? 'udp').toLowerCase();
    }
    if (transport !== 'udp' && transport !== 'tcp') throw new TargetError('', `transport=${transport} is not supported`);
    if (!this.byProtocol.has(transport)) throw new TargetError('', `${transport} transport is not enabled`);
    return transport;
  }

  /**
   * Where a request goes (RFC 3261 8.1.2, RFC 3263 minimal): the explicit target, else the top Route when it is a
   * loose router, else the Request-URI; port 5060 by default; transport from ;transport=, else UDP.
   */
  async resolveTarget(req: SipRequest, explicit?: { transport: TransportProtocol; host: string; port: number }): Promise<Peer> {
    let host: string;
    let port: number;
    let transport: TransportProtocol;
    if (explicit) {
      ({ host, port, transport } = explicit);
    } else {
      const uri = nextHopUri(req);
      if (uri.kind !== 'sip') throw new TargetError(`${uri.scheme}:${uri.rest}`, `cannot route to a ${uri.scheme}: URI`);
      if (uri.scheme === 'sips') throw new TargetError(uri.host, 'sips: needs TLS, which this stack does not implement');
      const t = (uri.params.get('transport') ?? 'udp').toLowerCase();
      if (t !== 'udp' && t !== 'tcp') throw new TargetError(uri.host, `transport=${t} is not supported`);
      host = uri.host;
      port = uri.port ?? 5060;
      transport = t;
    }
    if (!this.byProtocol.has(transport)) throw new TargetError(host, `${transport} transport is not enabled`);
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(bare) !== 0) return { transport, host: bare, port };
    try {
      return { transport, host: await this.resolve(bare), port };
    } catch (err) {
      throw new TargetError(bare, `cannot resolve ${bare}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The sent-by for our Via toward `dest`: the advertised address, the bound one, or the route's source. */
  async sentBy(protocol: TransportProtocol, dest: Endpoint): Promise<Endpoint> {
    const adv = this.opts.advertise?.[protocol];
    if (adv) return adv;
    const t = this.byProtocol.get(protocol);
    if (!t) throw new TargetError(dest.host, `${protocol} transport is not enabled`);
    const bound = t.local.host;
    if (bound !== '0.0.0.0' && bound !== '::') return t.local;
    return { host: await this.routeSource(dest.host), port: t.local.port };
  }

  /** Which local address the kernel would send from to reach `ip` (a connected UDP socket sends nothing). */
  private async routeSource(ip: string): Promise<string> {
    const cached = this.routeCache.get(ip);
    if (cached) return cached;
    const sock = createSocket(isIP(ip) === 6 ? 'udp6' : 'udp4');
    try {
      const address = await new Promise<string>((resolve, reject) => {
        sock.once('error', reject);
        sock.connect(9, ip, () => resolve(sock.address().address));
      });
      this.routeCache.set(ip, address);
      return address;
    } finally {
      sock.close();
    }
  }

  async sendRequest(req: SipRequest, peer: Peer): Promise<void> {
    await this.sendText(serializeMessage(req), peer);
  }

  /**
   * RFC 3261 18.2.2 and RFC 3581 sec. 4: on a reliable transport reuse the connection the request came on; else
   * to received:rport when the client asked for rport, to received:sent-by-port, or to the sent-by itself.
   */
  async sendResponse(res: SipResponse, requestSource?: Peer): Promise<void> {
    const via = res.parsed.via[0];
    if (!via) throw new TargetError('', 'response without Via');
    // The response goes back over the transport the request really came on (18.2.2). A Via naming another
    // transport than the one the request arrived by is the client's mistake (RFC 4475 sends TCP Vias over
    // UDP); answering where the request came from is what reaches it, as Kamailio does.
    const protocol = requestSource?.transport ?? (via.transport.toLowerCase() as TransportProtocol);
    const t = this.byProtocol.get(protocol);
    if (!t) throw new TargetError(via.host, `response over ${via.transport}, which is not enabled`);
    if (requestSource && t.reliable && requestSource.transport === protocol && t.hasConnection(requestSource)) {
      return this.sendText(serializeMessage(res), requestSource);
    }
    const received = via.params.get('received');
    const rport = via.params.get('rport');
    const sentByPort = via.port ?? 5060;
    let host: string;
    let port: number;
    if (received) {
      host = received;
      port = rport && /^\d{1,5}$/.test(rport) ? Number(rport) : sentByPort;
    } else {
      host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
      port = sentByPort;
      if (isIP(host) === 0) host = await this.resolve(host);
    }
    await this.sendText(serializeMessage(res), { transport: protocol, host, port });
  }

  private async sendText(text: string, peer: Peer): Promise<void> {
    const t = this.byProtocol.get(peer.transport);
    if (!t) throw new TransportError(peer.transport, peer, 'ENOTSUP', `${peer.transport} transport is not enabled`);
    this.trace('out', peer, text);
    await t.send(Buffer.from(text, 'latin1'), peer);
  }

  private trace(direction: 'in' | 'out', peer: Peer, text: string): void {
    if (!this.opts.onTrace) return;
    try {
      this.opts.onTrace({ direction, peer, transport: peer.transport, time: this.opts.clock.wallTime(), text });
    } catch (err) {
      this.log('warn', 'sip trace sink threw', { error: String(err) });
    }
  }

  private log(level: 'debug' | 'info' | 'warn', event: string, fields: Record<string, unknown>): void {
    this.opts.log?.(level, event, fields);
  }

  private receive(t: Transport, data: Buffer, source: Endpoint): void {
    const peer: Peer = { transport: t.protocol, host: source.host, port: source.port };
    if (isKeepAlive(data)) return; // RFC 5626 / RFC 3261 7.5: CRLF keep-alives get no answer on UDP
    const text = data.toString('latin1');
    this.trace('in', peer, text);
    let msg: SipMessage;
    try {
      msg = parseMessage(data);
    } catch (err) {
      const fault = err instanceof SipParseError ? err.fault : String(err);
      const status = err instanceof SipParseError ? err.status : 400;
      this.log('warn', 'malformed SIP message', { peer, fault, bytes: data.length });
      const reply = malformedRequestReply(text, status, fault);
      if (reply) this.sendText(reply, peer).catch((e) => this.log('debug', 'cannot answer malformed request', { peer, error: String(e) }));
      return;
    }
    try {
      if (msg.type === 'request') {
        stampReceived(msg, source.host, source.port);
        this.requestHandler?.(msg, peer);
      } else if (msg.parsed.via.length !== 1) {
        // RFC 3261 18.1.2 / 8.1.3.3: a response to one of our requests carries our Via alone; with more, it was
        // meant for a proxy (or a Via is forged, as RFC 4475 3.3.10 aims a second one at 255.255.255.255).
        this.log('debug', 'response with more than one Via discarded', { peer, vias: msg.parsed.via.length, status: msg.status });
      } else {
        this.responseHandler?.(msg, peer);
      }
    } catch (err) {
      // The layers above are written not to throw; if one does, one message is lost, not the agent.
      this.log('warn', 'SIP message handler threw', { peer, error: err instanceof Error ? err.stack : String(err) });
    }
  }
}

function isKeepAlive(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c !== 13 && c !== 10 && c !== 32 && c !== 9) return false;
  }
  return true;
}

function nextHopUri(req: SipRequest): Uri {
  const route = getHeader(req, 'Route');
  if (route === undefined) return req.uri;
  const first = splitCommaList(route)[0] ?? '';
  try {
    // A loose router (;lr) is the next hop; so is a strict one (rewriting for it, 16.12.1.2, is the TU's job).
    return parseNameAddr(first).uri;
  } catch {
    throw new TargetError(first, `cannot route by the malformed Route "${first}"`);
  }
}

/**
 * RFC 3261 18.2.1 and RFC 3581 sec. 4: note in the top Via where the request really came from. `received` when
 * the sent-by differs from the source (always when rport is asked for), `rport` filled with the source port.
 */
export function stampReceived(req: SipRequest, sourceHost: string, sourcePort: number): void {
  const via = req.parsed.via[0];
  if (!via) return;
  const sentBy = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  const wantsRport = via.params.has('rport');
  if (sentBy !== sourceHost || wantsRport) via.params.set('received', sourceHost);
  if (wantsRport) via.params.set('rport', String(sourcePort));
  rewriteTopVia(req, via);
}

/** Writes `via` back as the first Via value of the first Via line, keeping any other values of that line. */
export function rewriteTopVia(msg: SipMessage, via: Via): void {
  const idx = msg.headers.findIndex((h) => h.name === 'Via');
  if (idx < 0) return;
  const values = splitCommaList(msg.headers[idx].value);
  values[0] = formatVia(via);
  msg.headers[idx] = { name: 'Via', value: values.join(', ') };
}
