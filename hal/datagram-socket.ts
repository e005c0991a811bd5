/**
 * A UDP socket as a media stream uses it. Two kinds implement it: Node's dgram (src/media/rtp-port-pair.ts), driven
 * by the event loop, and NativeUdpSocket (hal/native-udp-socket.ts), drained by the stream itself once per frame.
 */
export interface DatagramSource {
  address: string;
  port: number;
  /** When the datagram arrived, on the media loop's clock, if the socket knows (the kernel's timestamp). */
  arrivedAt?: number;
}

/**
 * `bytes` holds the datagram in [0, length). It may be the socket's own receive buffer, valid only during the call:
 * a listener copies what it keeps. `from` may be reused for the next datagram too.
 */
export type DatagramListener = (bytes: Buffer, length: number, from: DatagramSource) => void;

export interface DatagramSocket {
  readonly localPort: number;
  /** Sends bytes[offset, offset + length) to an IP literal and port; a failure is dropped (UDP), never thrown. */
  send(bytes: Uint8Array, offset: number, length: number, port: number, address: string, done?: () => void): void;
  onDatagram(listener: DatagramListener): void;
  /**
   * Hands the datagrams queued on the socket to the listener now; how many. A socket the event loop reads has none
   * queued (0); one read by its owner (NativeUdpSocket) is drained here, before its owner reads what they make.
   */
  drain(): number;
  close(): void;
}
