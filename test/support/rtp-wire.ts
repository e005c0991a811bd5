/**
 * Test support for RTP on real loopback sockets with time faked: raw packets as a far end sends them, and a wait
 * for datagrams to arrive (I/O, never time).
 */
import { writeRtpHeader } from '../../src/media/rtp-packet.js';

/** Turns of the event loop until `cond` holds: datagrams on loopback arrive within a few. */
export async function untilArrived(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

/** One RTP packet as bytes. */
export function rtpPacket(pt: number, seq: number, ts: number, ssrc: number, payload: Uint8Array, marker = false): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  writeRtpHeader(b, marker, pt, seq, ts, ssrc);
  b.set(payload, 12);
  return b;
}

/** An RFC 4733 payload: event code, end bit, volume 10, duration in timestamp units. */
export function eventPayload(code: number, end: boolean, duration: number): Uint8Array {
  return Uint8Array.from([code, end ? 0x8a : 0x0a, duration >> 8, duration & 0xff]);
}
