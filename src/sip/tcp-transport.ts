import { createServer, connect, isIP, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../hal/clock.js';
import {
  TransportError,
  endpointKey,
  errorCode,
  unmapAddress,
  type Endpoint,
  type MessageHandler,
  type Transport,
} from './transport.js';
import { SipStreamFramer } from './stream-framer.js';

export interface TcpTransportOptions {
  clock: Clock;
  /** Close a connection after this long without traffic either way (ms). Keep-alives count as traffic. */
  idleMs?: number;
  /** Largest message accepted; a peer that sends more without a frame boundary is disconnected. */
  maxMessageBytes?: number;
  /** Told about connections dropped for framing errors (the peer sent something that is not SIP). */
  onFramingError?(peer: Endpoint, fault: string): void;
}

const CRLF = Buffer.from('\r\n');

interface Connection {
  socket: Socket;
  peer: Endpoint;
  lastActivity: number;
  idleTimer: TimerHandle | undefined;
  framer: SipStreamFramer;
}

/**
 * SIP over TCP: one listener for inbound connections and at most one connection per peer address, reused in both
 * directions (a response goes back on the connection its request came on, RFC 3261 18.2.2).
 */
export class TcpTransport implements Transport {
  readonly protocol = 'tcp' as const;
  readonly reliable = true;
  private handler: MessageHandler | undefined;
  private lostHandler: ((peer: Endpoint) => void) | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly connecting = new Map<string, Promise<Connection>>();
  private closed = false;
  private readonly idleMs: number;
  private readonly maxBytes: number;

  private constructor(
    private readonly server: Server,
    readonly local: Endpoint,
    private readonly opts: TcpTransportOptions,
  ) {
    // Long enough that a registration refreshed every few minutes, or kept alive every 30 s, keeps its connection.
    this.idleMs = opts.idleMs ?? 120_000;
    this.maxBytes = opts.maxMessageBytes ?? 65535;
    server.on('connection', (socket) => {
      const peer = { host: unmapAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
      this.adopt(socket, peer);
    });
    server.on('error', () => undefined);
  }

  static listen(bind: Endpoint, opts: TcpTransportOptions): Promise<TcpTransport> {
    const server = createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        server.close();
        reject(new TransportError('tcp', bind, errorCode(err), `cannot listen on tcp ${bind.host}:${bind.port}: ${err.message}`));
      };
      server.once('error', onError);
      server.listen({ host: bind.host, port: bind.port, ipv6Only: false }, () => {
        server.off('error', onError);
        const a = server.address();
        const local = typeof a === 'object' && a ? { host: a.address, port: a.port } : bind;
        resolve(new TcpTransport(server, local, opts));
      });
    });
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  onConnectionLost(handler: (peer: Endpoint) => void): void {
    this.lostHandler = handler;
  }

  hasConnection(dest: Endpoint): boolean {
    return this.connections.has(endpointKey(dest));
  }

  /** Number of open connections (for status and tests). */
  get connectionCount(): number {
    return this.connections.size;
  }

  async send(data: Buffer, dest: Endpoint): Promise<void> {
    if (this.closed) throw new TransportError('tcp', dest, 'ECLOSED', 'tcp transport is closed');
    const conn = this.connections.get(endpointKey(dest)) ?? (await this.connectTo(dest));
    conn.lastActivity = this.opts.clock.now();
    await new Promise<void>((resolve, reject) => {
      conn.socket.write(data, (err) => {
        if (err) reject(new TransportError('tcp', dest, errorCode(err), `tcp write to ${dest.host}:${dest.port} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  private connectTo(dest: Endpoint): Promise<Connection> {
    const key = endpointKey(dest);
    const pending = this.connecting.get(key);
    if (pending) return pending;
    const p = new Promise<Connection>((resolve, reject) => {
      const family = isIP(dest.host);
      if (family === 0) {
        reject(new TransportError('tcp', dest, 'EINVAL', `tcp destination ${dest.host} is not an IP address`));
        return;
      }
      const socket = connect({ host: dest.host, port: dest.port, noDelay: true });
      const onError = (err: Error) => {
        socket.destroy();
        reject(new TransportError('tcp', dest, errorCode(err), `tcp connect to ${dest.host}:${dest.port} failed: ${err.message}`));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        if (this.closed) {
          socket.destroy();
          reject(new TransportError('tcp', dest, 'ECLOSED', 'tcp transport closed while connecting'));
          return;
        }
        resolve(this.adopt(socket, dest));
      });
    });
    this.connecting.set(key, p);
    const forget = () => this.connecting.delete(key);
    p.then(forget, forget);
    return p;
  }

  private adopt(socket: Socket, peer: Endpoint): Connection {
    const key = endpointKey(peer);
    const old = this.connections.get(key);
    if (old && old.socket !== socket) old.socket.destroy();
    const conn: Connection = { socket, peer, lastActivity: this.opts.clock.now(), idleTimer: undefined, framer: new SipStreamFramer({ maxMessageBytes: this.maxBytes }) };
    this.connections.set(key, conn);
    this.armIdle(conn, this.idleMs);
    socket.on('data', (chunk: Buffer) => {
      conn.lastActivity = this.opts.clock.now();
      let frames: Buffer[];
      const linesBefore = conn.framer.keepAliveLines;
      try {
        frames = conn.framer.push(chunk);
      } catch (err) {
        this.opts.onFramingError?.(peer, err instanceof Error ? err.message : String(err));
        socket.destroy();
        return;
      }
      // RFC 5626 3.5.1: a CRLFCRLF ping is answered with one CRLF pong. (A lone CRLF, which is itself a pong or
      // padding, is not answered, so two peers never ping-pong forever.)
      if (conn.framer.keepAliveLines - linesBefore >= 2) socket.write(CRLF);
      for (const f of frames) if (this.handler && !this.closed) this.handler(f, peer);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.opts.clock.clearTimeout(conn.idleTimer);
      if (this.connections.get(key) === conn) this.connections.delete(key);
      if (!this.closed) this.lostHandler?.(peer);
    });
    return conn;
  }

  private armIdle(conn: Connection, ms: number): void {
    conn.idleTimer = this.opts.clock.setTimeout(() => {
      const quiet = this.opts.clock.now() - conn.lastActivity;
      if (quiet >= this.idleMs) conn.socket.end(() => conn.socket.destroy());
      else this.armIdle(conn, this.idleMs - quiet);
    }, ms);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const c of this.connections.values()) {
      this.opts.clock.clearTimeout(c.idleTimer);
      c.socket.destroy();
    }
    this.connections.clear();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
