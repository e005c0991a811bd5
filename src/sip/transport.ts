import { isIP } from 'node:net';

/** The transports this stack speaks. TLS and WebSocket are refused at start-up (not in this version). */
export type TransportProtocol = 'udp' | 'tcp';

/** An address as sockets use it: host is an IP literal without brackets. */
export interface Endpoint {
  host: string;
  port: number;
}

/** A network peer as the SIP layers see it. */
export interface Peer extends Endpoint {
  transport: TransportProtocol;
}

export type MessageHandler = (data: Buffer, source: Endpoint) => void;

/**
 * One listening socket (UDP) or listener plus its connections (TCP). `onMessage` delivers one SIP message's bytes
 * per call: a datagram for UDP, one framed message for TCP. Bytes are untrusted.
 */
export interface Transport {
  readonly protocol: TransportProtocol;
  /** Reliable transports retransmit themselves: the transaction timers A, E, G are off on them. */
  readonly reliable: boolean;
  /** The bound address (the real port when 0 was asked for). */
  readonly local: Endpoint;
  /** Resolves when the bytes are handed to the kernel; rejects with TransportError when they cannot be. */
  send(data: Buffer, dest: Endpoint): Promise<void>;
  onMessage(handler: MessageHandler): void;
  /** True when a connection to `dest` is open now (always false for UDP). RFC 3261 18.2.2 prefers it for responses. */
  hasConnection(dest: Endpoint): boolean;
  /** A connection closed or failed (TCP); transactions waiting on it fail instead of waiting for Timer B/F. */
  onConnectionLost(handler: (peer: Endpoint) => void): void;
  close(): Promise<void>;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly protocol: TransportProtocol,
    readonly dest: Endpoint | undefined,
    /** errno code when the OS gave one (ECONNREFUSED, EHOSTUNREACH ...), else a word of ours. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Parse a configured listen address: "0.0.0.0:5060", "127.0.0.1:5062", "[::]:5060", "[::1]:0". */
export function parseListenAddress(text: string): Endpoint {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m) throw new TransportError('udp', undefined, 'EINVAL', `listen address "${text}" is not host:port or [ipv6]:port`);
  const host = m[1];
  const port = Number(m[2]);
  if (isIP(host) === 0) throw new TransportError('udp', undefined, 'EINVAL', `listen host "${host}" is not an IP address`);
  if (port > 65535) throw new TransportError('udp', undefined, 'EINVAL', `listen port ${port} is out of range`);
  return { host, port };
}

/** "::ffff:192.0.2.1" (what a dual-stack socket reports for IPv4 peers) to "192.0.2.1". */
export function unmapAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** host:port as written in Via and URIs: IPv6 in brackets. */
export function formatHostPort(ep: Endpoint): string {
  return (isIP(ep.host) === 6 ? `[${ep.host}]` : ep.host) + ':' + ep.port;
}

export function endpointKey(ep: Endpoint): string {
  return `${ep.host}|${ep.port}`;
}

export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}
