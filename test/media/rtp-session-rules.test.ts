import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { rtpPacket as rtp, untilArrived as until } from '../support/rtp-wire.js';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from '../../src/media/g711.js';
import { RtpPacketView } from '../../src/media/rtp-packet.js';
import { RTCP_RR, RTCP_SDES, RTCP_SR, RtcpReportView } from '../../src/media/rtcp.js';
import { RtpSession, type RtpSessionOptions } from '../../src/media/rtp-session.js';

// RFC 3550 and 3551 rules of an RtpSession, each against real UDP sockets on loopback with time faked. Waiting is
// for datagrams to arrive (I/O), never for time.
const settle = async (): Promise<void> => {
  for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
};

interface Datagram {
  bytes: Buffer;
  port: number;
  at: number;
}

/** A bare UDP socket as the far end's RTP or RTCP port, recording what it receives and when (on the fake clock). */
async function socketAt(clock: FakeClock, address = '127.0.0.1') {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  const got: Datagram[] = [];
  socket.on('message', (bytes, rinfo) => got.push({ bytes, port: rinfo.port, at: clock.now() }));
  toClose.push(socket);
  const session = address.includes(':') ? '::1' : '127.0.0.1'; // where the sessions under test listen
  return { socket, got, port: socket.address().port, send: (b: Buffer, port: number) => socket.send(b, port, session) };
}


const toClose: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});

let seed = 100;
async function session(clock: FakeClock, remotePort: number, extra: Partial<RtpSessionOptions> = {}) {
  const s = await RtpSession.open({ clock, random: seededRandom(seed++), localAddress: '127.0.0.1', ports: { min: 20000, max: 29999 }, remoteAddress: '127.0.0.1', remotePort, codec: 'PCMU', ...extra });
  toClose.push(s);
  return s;
}

const frame = new Int16Array(160).map((_, i) => Math.round(6000 * Math.sin(i / 3)));
const mu = encodeMuLaw(frame);

/** Sends packets one by one, each taken in before the next (a frame read per packet, as the earpiece does). */
async function feed(s: RtpSession, far: { send(b: Buffer, port: number): void }, packets: Buffer[], clock?: FakeClock) {
  for (const p of packets) {
    const before = s.stats();
    far.send(p, s.localPort);
    await until(() => {
      const now = s.stats();
      return now.packetsReceived + now.strangers + now.probation + now.looped + now.wrongPayloadType !== before.packetsReceived + before.strangers + before.probation + before.looped + before.wrongPayloadType;
    }, 'the packet taken in');
    s.readFrame(new Int16Array(160));
    clock?.advance(20);
  }
}

function stream(ssrc: number, seq0: number, ts0: number, count: number, skip: (k: number) => boolean = () => false): Buffer[] {
  const out: Buffer[] = [];
  for (let k = 0; k < count; k++) if (!skip(k)) out.push(rtp(0, (seq0 + k) & 0xffff, ts0 + k * 160, ssrc, mu));
  return out;
}

describe('RtpSession: what it sends (RFC 3550 5.1, RFC 3551)', () => {
  it('SSRC, first sequence number and first timestamp are random: three sessions with three seeds share none of them', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const firsts: RtpPacketView[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await session(clock, far.port);
      s.sendFrame(frame);
      await until(() => far.got.length === i + 1, 'the first packet');
      const v = new RtpPacketView();
      expect(v.parse(far.got[i].bytes, far.got[i].bytes.length)).toBe('ok');
      firsts.push(v);
    }
    for (const field of ['ssrc', 'sequence', 'timestamp'] as const) expect(new Set(firsts.map((v) => v[field])).size).toBe(3);
  });

  it('the payload type is the one the SDP negotiated (PCMA on a dynamic 96 here), and the payload its A-law', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port, { codec: 'PCMA', payloadType: 96 });
    s.sendFrame(frame);
    await until(() => far.got.length === 1, 'a packet');
    const v = new RtpPacketView();
    v.parse(far.got[0].bytes, far.got[0].bytes.length);
    expect(v.payloadType).toBe(96);
    expect(Array.from(far.got[0].bytes.subarray(12))).toEqual(Array.from(encodeALaw(frame)));
  });
});

describe('RtpSession: refusing bad options and requests with a typed error', () => {
  it('a ptime it cannot do is refused before binding: the port pair stays free for the next session', async () => {
    const clock = new FakeClock();
    const ports = { min: 39010, max: 39011 }; // room for one pair only
    for (let i = 0; i < 2; i++) await expect(session(clock, 9, { ports, ptimeMs: 25 })).rejects.toMatchObject({ name: 'RtpSessionError', reason: 'ptime' });
    const s = await session(clock, 9, { ports });
    expect(s.localPort).toBe(39010);
  });

  it('a DTMF duration that is not a finite number (NaN, Infinity) is a typed error; nothing is sent', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port, { telephoneEventPayloadType: 101 });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) expect(() => s.sendDtmf('5', bad)).toThrow(expect.objectContaining({ reason: 'dtmf-duration' }));
    clock.advance(1000);
    await settle();
    expect(far.got.length).toBe(0);
  });
});

describe('RtpSession: who it listens to (symmetric RTP, RFC 3550 8)', () => {
  it('once latched, packets from the same host but another port are strangers, until the far end has been silent for a second: then the new port takes over', async () => {
    const clock = new FakeClock();
    const a = await socketAt(clock);
    const b = await socketAt(clock);
    const s = await session(clock, a.port);
    await feed(s, a, stream(0x11, 1, 1000, 3), clock);
    await feed(s, b, stream(0x22, 500, 9000, 2), clock);
    expect(s.stats().strangers).toBe(2);
    expect(s.stats().packetsReceived).toBe(3);
    clock.advance(1000);
    await feed(s, b, stream(0x22, 502, 9320, 2), clock);
    expect(s.stats().packetsReceived).toBe(5);
    s.sendFrame(frame);
    await until(() => b.got.length === 1, 'our packet goes to the new port');
  });

  it('an IPv6 far end written in another spelling in the SDP (0:0:0:0:0:0:0:1 for ::1) is heard, not taken for a stranger', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock, '::1');
    const s = await session(clock, far.port, { localAddress: '::1', remoteAddress: '0:0:0:0:0:0:0:1' });
    await feed(s, far, stream(0x33, 1, 1000, 3), clock);
    expect(s.stats().strangers).toBe(0);
    expect(s.stats().packetsReceived).toBe(3);
    s.setRemote('0::1', far.port);
    await feed(s, far, stream(0x33, 4, 1480, 2), clock);
    expect(s.stats().packetsReceived).toBe(5);
  });

  it('a re-INVITE that names the same address and port (a session refresh, hold) keeps the latch: our audio still goes where the far end really sends from', async () => {
    const clock = new FakeClock();
    const signalled = await socketAt(clock); // what the SDP says; the far end's NAT sends from another port
    const real = await socketAt(clock);
    const s = await session(clock, signalled.port);
    await feed(s, real, stream(0x44, 1, 1000, 2), clock);
    s.setRemote('127.0.0.1', signalled.port);
    s.sendFrame(frame);
    await until(() => real.got.length === 1, 'our packet at the latched port');
    expect(signalled.got.length).toBe(0);
  });

  it('a packet with our own SSRC (our stream looped back, or a collision) is dropped and counted, never played', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port);
    await feed(s, far, stream(s.ssrc, 1, 1000, 3), clock);
    expect(s.stats().looped).toBe(3);
    expect(s.stats().packetsReceived).toBe(0);
  });

  it('a new SSRC takes over at its second packet in sequence; a straggler of the old one afterwards does not flip it back', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port);
    await feed(s, far, stream(0xa, 100, 1000, 20), clock);
    await feed(s, far, stream(0xb, 7000, 500_000, 2), clock);
    await feed(s, far, [rtp(0, 119, 1000 + 19 * 160, 0xa, mu)], clock); // an old packet, reordered behind
    await feed(s, far, stream(0xb, 7002, 500_320, 20), clock);
    const st = s.stats();
    expect(st.probation).toBe(2); // B's first packet, then the straggler
    expect(st.jitterBuffer.resyncs).toBe(1);
    expect(st.packetsReceived).toBe(20 + 21);
  });
});

describe('RtpSession: the call\'s figures (RFC 3550 6.4.1, A.3, A.8)', () => {
  it('packets and losses are the call\'s: an SSRC change and a re-INVITE to the same address keep them', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port);
    await feed(s, far, stream(0xa, 100, 1000, 110, (k) => k % 11 === 5), clock); // 10 of 110 lost
    expect(s.stats()).toMatchObject({ packetsReceived: 100, lost: 10 });
    s.setRemote('127.0.0.1', far.port); // a session refresh: same address and port
    await feed(s, far, stream(0xa, 210, 1000 + 110 * 160, 5), clock);
    expect(s.stats()).toMatchObject({ packetsReceived: 105, lost: 10 });
    await feed(s, far, stream(0xb, 9000, 77_000, 6), clock); // a new SSRC: its first packet is on probation
    expect(s.stats()).toMatchObject({ packetsReceived: 110, lost: 10 });
  });

  it('interarrival jitter: packets on time read 0 ms; every other packet 8 ms late reads about 7.5 ms (RFC 3550 A.8 converges to 15/16 of the mean |D|)', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port);
    const packets = stream(0xc, 1, 1000, 200);
    for (let k = 0; k < packets.length; k++) {
      // The first 50 on time, then every other one 8 ms late.
      const late = k >= 50 && k % 2 === 1 ? 8 : 0;
      clock.advance(late);
      await feed(s, far, [packets[k]]);
      clock.advance(20 - late);
      if (k === 49) expect(s.stats().jitterMs).toBe(0);
    }
    // |D| is 8 ms for every packet after the first late one; A.8's estimate approaches it from below.
    expect(s.stats().jitterMs).toBeGreaterThan(7);
    expect(s.stats().jitterMs).toBeLessThan(8.01);
  });

  it('the other G.711 codec of the far end\'s answer (PCMA on 8 beside our PCMU) is taken and decoded as A-law; before receiveAlso it was a wrong payload type', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port);
    const alaw = encodeALaw(frame);
    await feed(s, far, [rtp(8, 1, 1000, 0x55, alaw)], clock);
    expect(s.stats().wrongPayloadType).toBe(1);
    s.receiveAlso({ codec: 'PCMA', payloadType: 8 });
    const heard: Int16Array[] = [];
    for (let k = 2; k < 12; k++) {
      far.send(rtp(8, k, 1000 + k * 160, 0x55, alaw), s.localPort);
      await until(() => s.stats().packetsReceived === k - 1, 'the A-law packet');
      const out = new Int16Array(160);
      if (s.readFrame(out) === 'audio') heard.push(out);
      clock.advance(20);
    }
    expect(s.stats().wrongPayloadType).toBe(1);
    // The same frame is sent again and again, so what plays is it, shifted by the playout delay: decoded as A-law it
    // matches within G.711's quantisation at some shift; the same codes decoded as mu-law match at none.
    const bestError = (out: Int16Array, ref: Int16Array): number => {
      let best = Infinity;
      for (let shift = 0; shift < 160; shift++) {
        let e = 0;
        for (let i = 0; i < 160; i++) e += Math.abs(out[i] - ref[(i + shift) % 160]);
        best = Math.min(best, e / 160);
      }
      return best;
    };
    const last = heard.at(-1)!;
    expect(bestError(last, decodeALaw(alaw))).toBeLessThan(50);
    expect(bestError(decodeMuLaw(alaw), decodeALaw(alaw))).toBeGreaterThan(1000);
  });

  it('another ptime from the far end (30 ms packets to a 20 ms stream) is received and played, not dropped', async () => {
    const clock = new FakeClock();
    const far = await socketAt(clock);
    const s = await session(clock, far.port);
    const long = encodeMuLaw(new Int16Array(240).map((_, i) => Math.round(6000 * Math.sin(i / 3))));
    const packets = Array.from({ length: 20 }, (_, k) => rtp(0, k + 1, 1000 + k * 240, 0xd, long));
    let heard = 0;
    // Two 30 ms packets, then three 20 ms frames read: the far end's pace and ours.
    for (let k = 0; k < packets.length; k += 2) {
      far.send(packets[k], s.localPort);
      far.send(packets[k + 1], s.localPort);
      await until(() => s.stats().packetsReceived === k + 2, 'two packets');
      for (let i = 0; i < 3; i++) {
        const out = new Int16Array(160);
        if (s.readFrame(out) === 'audio' && out.some((x) => Math.abs(x) > 3000)) heard++;
        clock.advance(20);
      }
    }
    expect(s.stats().packetsReceived).toBe(20);
    expect(heard).toBeGreaterThan(25); // of 30 frames: all but the start delay's
  });
});

describe('RtpSession: RTCP (RFC 3550 6)', () => {
  async function rtcpPair(clock: FakeClock, extra: Partial<RtpSessionOptions> = {}) {
    const farRtp = await socketAt(clock);
    const farRtcp = await socketAt(clock);
    const s = await session(clock, farRtp.port, { remoteRtcpPort: farRtcp.port, ...extra });
    return { farRtp, farRtcp, s };
  }
  function packetTypes(b: Buffer): number[] {
    const types: number[] = [];
    for (let at = 0; at + 4 <= b.length; at += (b.readUInt16BE(at + 2) + 1) * 4) types.push(b[at + 1]);
    return types;
  }

  it('the default schedule is about every 5 s, randomised over 2.5-7.5 s (6.3.5), never on a fixed beat', async () => {
    const clock = new FakeClock();
    const { farRtcp } = await rtcpPair(clock);
    for (let t = 0; t < 60_000; t += 100) {
      clock.advance(100);
      await settle();
    }
    const at = farRtcp.got.map((d) => d.at);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    expect(at[0]).toBeGreaterThanOrEqual(2500);
    expect(at[0]).toBeLessThanOrEqual(7600);
    expect(gaps.length).toBeGreaterThanOrEqual(6);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(2400);
      expect(g).toBeLessThanOrEqual(7600);
    }
    expect(new Set(gaps).size).toBeGreaterThan(2);
  });

  it('each report is a compound SR or RR followed by SDES with our CNAME (6.1)', async () => {
    const clock = new FakeClock();
    const { farRtcp, s } = await rtcpPair(clock, { rtcpIntervalMs: 1000, cname: 'pi-ata@test' });
    s.sendFrame(frame);
    clock.advance(1600);
    await until(() => farRtcp.got.length >= 1, 'a report');
    const b = farRtcp.got[0].bytes;
    expect(packetTypes(b)).toEqual([RTCP_SR, RTCP_SDES]);
    expect(b.includes(Buffer.from('pi-ata@test'))).toBe(true);
  });

  it('SR while we sent in the last two intervals, then RR (6.4); a report block only while the far end is heard (6.4)', async () => {
    const clock = new FakeClock();
    const { farRtp, farRtcp, s } = await rtcpPair(clock, { rtcpIntervalMs: 1000 });
    const view = new RtcpReportView();
    const reports: { sr: boolean; block: boolean; at: number }[] = [];
    const far = stream(0xe, 1, 1000, 50);
    for (let t = 0; t < 8000; t += 20) {
      if (t < 1000) s.sendFrame(frame); // we send for the first second only
      if (t < 1000) farRtp.send(far[t / 20], s.localPort); // and so does the far end
      await settle();
      s.readFrame(new Int16Array(160));
      clock.advance(20);
      while (farRtcp.got.length > reports.length) {
        const d = farRtcp.got[reports.length];
        expect(view.parse(d.bytes, d.bytes.length, 0xe)).toBe('ok');
        reports.push({ sr: view.hasSenderReport, block: view.hasReportForUs, at: d.at });
      }
    }
    await settle();
    expect(reports.length).toBeGreaterThanOrEqual(6);
    // The first report after our last packet (at 980 ms) covers it: SR. The next covers an interval without
    // sending, but the one before it had some: still SR. Only the one after that is an RR, and so are the rest.
    const first = reports.findIndex((r) => r.at > 980);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(reports.slice(0, first + 2).map((r) => r.sr)).toEqual(reports.slice(0, first + 2).map(() => true));
    expect(reports.slice(first + 2).map((r) => r.sr)).toEqual(reports.slice(first + 2).map(() => false));
    // Report blocks: while the far end is heard, and after its last packet (980 ms) one more that covers it.
    expect(reports[0].block).toBe(true);
    expect(reports.slice(first + 1).map((r) => r.block)).toEqual(reports.slice(first + 1).map(() => false));
    expect(packetTypes(farRtcp.got.at(-1)!.bytes)[0]).toBe(RTCP_RR);
  });

  it('RTCP latches our reports onto its source port only once RTP has latched: an early one from the same host cannot take them', async () => {
    const clock = new FakeClock();
    const { farRtp, farRtcp, s } = await rtcpPair(clock, { rtcpIntervalMs: 1000 });
    const early = await socketAt(clock); // the signalled host, another port, before any RTP
    const rr = Buffer.alloc(8);
    rr[0] = 0x80;
    rr[1] = RTCP_RR;
    rr.writeUInt16BE(1, 2);
    rr.writeUInt32BE(0x66, 4);
    early.send(rr, s.localPort + 1);
    await settle();
    clock.advance(1600);
    await until(() => farRtcp.got.length >= 1, 'a report to the signalled RTCP port');
    expect(early.got.length).toBe(0);
    // Once RTP has latched, RTCP from the far end's SSRC moves our reports to where it really sends from.
    await feed(s, farRtp, stream(0x66, 1, 1000, 2), clock);
    early.send(rr, s.localPort + 1);
    await settle();
    clock.advance(1600);
    await until(() => early.got.length >= 1, 'a report to the latched RTCP port');
  });

  it('RTCP from the signalled host but another SSRC than the latched stream is a stranger; from another host too', async () => {
    const clock = new FakeClock();
    const { farRtp, s } = await rtcpPair(clock);
    await feed(s, farRtp, stream(0xf, 1, 1000, 2), clock);
    const other = await socketAt(clock, '127.0.0.2'); // another host (all of 127/8 is loopback on Linux)
    const rr = (ssrc: number): Buffer => {
      const b = Buffer.alloc(8);
      b[0] = 0x80;
      b[1] = RTCP_RR;
      b.writeUInt16BE(1, 2);
      b.writeUInt32BE(ssrc, 4);
      return b;
    };
    const before = s.stats().strangers;
    farRtp.send(rr(0x99), s.localPort + 1); // the signalled host, another SSRC
    other.send(rr(0xf), s.localPort + 1); // the latched SSRC, from another host
    await until(() => s.stats().strangers === before + 2, 'both counted as strangers');
  });
});
