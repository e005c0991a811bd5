/**
 * A UDP socket on hal/media-io.ts's system calls. Nothing happens on arrival: the stream calls `drain()` once per
 * frame, just before it reads its jitter buffer, and each queued datagram is handed to the listener in the socket's
 * one receive buffer, with the kernel's arrival time on the stream's clock. So no thread wakes up for a packet, only
 * for a frame. Nothing is allocated per datagram: the destination's sockaddr is built again only when the address
 * or port changes, and a source is described as a string only when it differs from the previous datagram's.
 *
 * A drain takes at most MAX_DRAIN datagrams: a flood from a hostile peer is left to overflow the kernel's buffer
 * (which drops it) rather than hold the thread; a call brings one or two a frame.
 */
import type { Clock } from './clock.js';
import type { DatagramListener, DatagramSocket, DatagramSource } from './datagram-socket.js';
import { EADDRINUSE, EMSGSIZE, monotonicOffset, type MediaIo } from './media-io.js';

/** Larger than any RTP or RTCP packet a G.711 call carries; a longer datagram is dropped whole and counted (`oversized`). */
const RECEIVE_BYTES = 2048;
/** Datagrams one drain takes at most (a 20 ms frame brings one RTP packet, sometimes an RTCP one or a burst). */
export const MAX_DRAIN = 32;

export class NativeUdpSocketError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'NativeUdpSocketError';
  }
}

export class NativeUdpSocket implements DatagramSocket {
  readonly localPort: number;
  /** Sends the kernel refused (its buffer full, no route): dropped, as UDP would. */
  sendErrors = 0;
  /** Datagrams longer than RECEIVE_BYTES: no RTP or RTCP packet of a call is, so they are dropped unread. */
  oversized = 0;
  private state: 'open' | 'closed' = 'open';
  private listener: DatagramListener = () => {};
  private readonly rx = Buffer.alloc(RECEIVE_BYTES);
  private readonly from: Uint8Array;
  private readonly lastFrom: Uint8Array;
  private lastFromLength = 0;
  private readonly meta = new Float64Array(2);
  private readonly source: DatagramSource = { address: '', port: 0, arrivedAt: 0 };
  private readonly to: Uint8Array;
  private toLength = -1;
  private toAddress = '';
  private toPort = -1;

  /**
   * Binds an IP literal and port (0: any free one). Arrival times are given on `clock` (a monotonic clock, as the
   * system's and the media loop's are; the offset is taken once). Undefined when the port is taken; a
   * NativeUdpSocketError for anything else (a bad address).
   */
  static open(io: MediaIo, address: string, port: number, clock: Pick<Clock, 'now'>): NativeUdpSocket | undefined {
    const fd = io.udpOpen(address, port);
    if (fd === -EADDRINUSE) return undefined;
    if (fd < 0) throw new NativeUdpSocketError(-fd, `cannot bind UDP ${address} port ${port}: errno ${-fd}`);
    return new NativeUdpSocket(io, fd, monotonicOffset(io, clock));
  }

  private constructor(
    private readonly io: MediaIo,
    private readonly fd: number,
    /** monotonicMs() minus the clock's now(). */
    private readonly clockOffset: number,
  ) {
    this.localPort = io.udpLocalPort(fd);
    this.from = new Uint8Array(io.SOCKADDR_BYTES);
    this.lastFrom = new Uint8Array(io.SOCKADDR_BYTES);
    this.to = new Uint8Array(io.SOCKADDR_BYTES);
  }

  onDatagram(listener: DatagramListener): void {
    this.listener = listener;
  }

  send(bytes: Uint8Array, offset: number, length: number, port: number, address: string, done?: () => void): void {
    if (this.state === 'open') {
      if (address !== this.toAddress || port !== this.toPort) {
        this.toLength = this.io.socketAddress(address, port, this.to);
        this.toAddress = address;
        this.toPort = port;
      }
      if (this.toLength < 0 || this.io.udpSend(this.fd, bytes, offset, length, this.to, this.toLength) < 0) this.sendErrors++;
    }
    done?.();
  }

  /** Hands the queued datagrams (at most MAX_DRAIN) to the listener, in arrival order; returns how many. */
  drain(): number {
    let count = 0;
    while (this.state === 'open' && count < MAX_DRAIN) {
      const n = this.io.udpReceive(this.fd, this.rx, this.from, this.meta);
      if (n === -EMSGSIZE) {
        this.oversized++;
        count++; // it was taken off the queue: it counts against MAX_DRAIN like any other
        continue;
      }
      if (n < 0) return count; // -EAGAIN: the queue is empty (an unconnected socket gets no ICMP errors)
      count++;
      this.describeSource();
      this.source.arrivedAt = this.meta[1] - this.clockOffset;
      this.listener(this.rx, n, this.source);
    }
    return count;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.io.udpClose(this.fd);
  }

  private describeSource(): void {
    const length = this.meta[0];
    let same = length === this.lastFromLength;
    for (let i = 0; same && i < length; i++) same = this.from[i] === this.lastFrom[i];
    if (same) return;
    const [address, port] = this.io.describeAddress(this.from, length);
    this.source.address = address;
    this.source.port = port;
    this.lastFrom.set(this.from);
    this.lastFromLength = length;
  }
}

