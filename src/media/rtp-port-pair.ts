/**
 * The two UDP sockets of one media stream: RTP on an even port from `[media] rtp_ports` and RTCP on the next
 * (RFC 3550 11), bound on the address the stream is signalled with.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Random } from '../../hal/clock.js';

/**
 * Remote addresses are IP literals (checked on open), so name lookup is the identity. Answering synchronously
 * spares dgram's default dns.lookup a process.nextTick and its closures on every send.
 */
function literalLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  callback(null, address, isIP(address));
}

function bindSocket(family: 'udp4' | 'udp6', address: string, port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket({ type: family, lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

export interface RtpPortPair {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  port: number;
}

/**
 * Tries the even ports of the range starting at a random place in it, so that calls do not all race for one port.
 * Undefined when every pair in the range is taken.
 */
export async function bindRtpPortPair(family: 'udp4' | 'udp6', address: string, range: { min: number; max: number }, random: Random): Promise<RtpPortPair | undefined> {
  const first = Math.ceil(range.min / 2) * 2;
  const count = Math.max(0, Math.floor((range.max - 1 - first) / 2) + 1);
  const offset = Math.floor(random() * count);
  for (let i = 0; i < count; i++) {
    const port = first + ((offset + i) % count) * 2;
    const rtp = await bindSocket(family, address, port);
    if (!rtp) continue;
    const rtcp = await bindSocket(family, address, port + 1);
    if (rtcp) return { rtp, rtcp, port };
    rtp.close();
  }
  return undefined;
}
