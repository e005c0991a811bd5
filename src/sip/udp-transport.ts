import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import {
  TransportError,
  errorCode,
  unmapAddress,
  type Endpoint,
  type MessageHandler,
  type Transport,
} from './transport.js';

/** SIP over UDP (RFC 3261 sec. 18): one socket for sending and receiving, so responses come back to our Via port. */
export class UdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  private handler: MessageHandler | undefined;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly local: Endpoint,
    private readonly ipv6: boolean,
  ) {
    socket.on('message', (data, rinfo) => {
      if (this.closed || !this.handler) return;
      this.handler(data, { host: unmapAddress(rinfo.address), port: rinfo.port });
    });
    // An async socket error (rare on UDP) must not become an uncaught 'error' event.
    socket.on('error', () => undefined);
  }

  static listen(bind: Endpoint): Promise<UdpTransport> {
    const v6 = isIP(bind.host) === 6;
    const socket = createSocket({ type: v6 ? 'udp6' : 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        socket.close();
        reject(new TransportError('udp', bind, errorCode(err), `cannot listen on udp ${bind.host}:${bind.port}: ${err.message}`));
      };
      socket.once('error', onError);
      socket.bind(bind.port, bind.host, () => {
        socket.off('error', onError);
        const a = socket.address();
        resolve(new UdpTransport(socket, { host: a.address, port: a.port }, v6));
      });
    });
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  hasConnection(): boolean {
    return false;
  }

  onConnectionLost(): void {
    // Datagrams have no connection to lose; ICMP errors are not reported to unconnected sockets by Node.
  }

  send(data: Buffer, dest: Endpoint): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError('udp', dest, 'ECLOSED', 'udp transport is closed'));
    // A dual-stack ("::") socket reaches IPv4 peers through mapped addresses; a udp4 socket cannot reach IPv6.
    let host = dest.host;
    const family = isIP(host);
    if (this.ipv6 && family === 4) host = '::ffff:' + host;
    if (!this.ipv6 && family === 6) {
      return Promise.reject(new TransportError('udp', dest, 'EAFNOSUPPORT', `cannot send to IPv6 ${dest.host} from an IPv4 socket`));
    }
    return new Promise((resolve, reject) => {
      this.socket.send(data, dest.port, host, (err) => {
        if (err) reject(new TransportError('udp', dest, errorCode(err), `udp send to ${dest.host}:${dest.port} failed: ${err.message}`));
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
