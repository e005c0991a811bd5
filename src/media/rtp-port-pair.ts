/**
 * The two UDP sockets of one media stream: RTP on an even port from `[media] rtp_ports` and RTCP on the next
 * (RFC 3550 11), bound on the address the stream is signalled with. Node's dgram sockets by default; the agent
 * and the media thread pass a binder of NativeUdpSockets when hal/media-io.ts is built.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Clock, Random } from '../../hal/clock.js';
import type { DatagramListener, DatagramSocket } from '../../hal/datagram-socket.js';
import type { MediaIo } from '../../hal/media-io.js';
import { NativeUdpSocket } from '../../hal/native-udp-socket.js';

/** Binds one socket on an address and port; undefined when the port is taken. */
export type SocketBinder = (address: string, port: number) => Promise<DatagramSocket | undefined> | DatagramSocket | undefined;

/**
 * Remote addresses are IP literals (checked on open), so name lookup is the identity. Answering synchronously
 * spares dgram's default dns.lookup a process.nextTick and its closures on every send.
 */
function literalLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, isIP(address));
}

/** A dgram socket as a DatagramSocket: the event loop delivers each datagram in a Buffer of its own. */
class DgramDatagramSocket implements DatagramSocket {
  constructor(private readonly socket: dgram.Socket) {
    // ICMP port unreachable and the like surface here: a send failing must not end the call or crash the agent.
    socket.on('error', () => {});
  }
  get localPort(): number {
    return this.socket.address().port;
  }
  send(bytes: Uint8Array, offset: number, length: number, port: number, address: string, done?: () => void): void {
    try {
      this.socket.send(bytes, offset, length, port, address, done ? () => done() : undefined);
    } catch {
      // dgram throws at once for a closed socket or a port it will not send to (0); the datagram is lost, as UDP's are.
      done?.();
    }
  }
  onDatagram(listener: DatagramListener): void {
    this.socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => listener(msg, msg.length, rinfo));
  }
  drain(): number {
    return 0; // the event loop delivers each datagram as it arrives
  }
  close(): void {
    this.socket.close();
  }
}

export const bindDgram: SocketBinder = (address, port) =>
  new Promise((resolve) => {
    const socket = dgram.createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4', lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      resolve(new DgramDatagramSocket(socket));
    });
  });

/** NativeUdpSockets on hal/media-io.ts, read once per frame, their arrival times on `clock` (a monotonic one). */
export function nativeBinder(io: MediaIo, clock: Pick<Clock, 'now'>): SocketBinder {
  return (address, port) => NativeUdpSocket.open(io, address, port, clock);
}

export interface RtpPortPair {
  rtp: DatagramSocket;
  rtcp: DatagramSocket;
  port: number;
}

/**
 * Tries the even ports of the range starting at a random place in it, so that calls do not all race for one port.
 * Undefined when every pair in the range is taken.
 */
export async function bindRtpPortPair(address: string, range: { min: number; max: number }, random: Random, bind: SocketBinder = bindDgram): Promise<RtpPortPair | undefined> {
  const first = Math.ceil(range.min / 2) * 2;
  const count = Math.max(0, Math.floor((range.max - 1 - first) / 2) + 1);
  const offset = Math.floor(random() * count);
  for (let i = 0; i < count; i++) {
    const port = first + ((offset + i) % count) * 2;
    const rtp = await bind(address, port);
    if (!rtp) continue;
    const rtcp = await bind(address, port + 1);
    if (rtcp) return { rtp, rtcp, port };
    rtp.close();
  }
  return undefined;
}
