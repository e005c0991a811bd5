import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { eventPayload, rtpPacket as rtp, untilArrived as until } from '../support/rtp-wire.js';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { decodeMuLaw, encodeMuLaw } from '../../src/media/g711.js';
import { RtpPacketView } from '../../src/media/rtp-packet.js';
import { RtpSession, RtpSessionError, type RtpSessionOptions } from '../../src/media/rtp-session.js';
import { nativeBinder } from '../../src/media/rtp-port-pair.js';
import { mediaIo, mediaIoMissing } from '../../hal/media-io.js';

// Real UDP sockets on loopback; only time is fake. Waiting here is for datagrams to arrive (I/O), never for time.

interface Captured {
  view: RtpPacketView;
  bytes: Buffer;
  port: number;
  address: string;
}

/** A bare UDP socket as the far end, recording what it receives and able to send raw RTP. */
async function farEnd(address = '127.0.0.1') {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, address, () => r()));
  const got: Captured[] = [];
  socket.on('message', (msg, rinfo) => {
    const view = new RtpPacketView();
    if (view.parse(msg, msg.length) === 'ok') got.push({ view, bytes: msg, port: rinfo.port, address: rinfo.address });
  });
  return { socket, got, port: socket.address().port };
}


const toClose: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});

// A seed of its own per session: two sessions with one seed would share an SSRC, and each would drop the other's
// packets as its own stream looped back.
let seed = 7;
async function session(clock: FakeClock, remotePort: number, extra: Partial<RtpSessionOptions> = {}) {
  const s = await RtpSession.open({ clock, random: seededRandom(seed++), localAddress: '127.0.0.1', ports: { min: 20000, max: 29999 }, remoteAddress: '127.0.0.1', remotePort, codec: 'PCMU', telephoneEventPayloadType: 101, ...extra });
  toClose.push(s);
  return s;
}

/** A session on loopback with a raw far end, recording the digits it hears. */
async function listeningForDigits() {
  const clock = new FakeClock();
  const far = await farEnd();
  toClose.push(far.socket);
  const s = await session(clock, far.port);
  const digits: string[] = [];
  s.onDtmf((d) => digits.push(d));
  return { clock, far, s, digits };
}

function sine(n: number, phase: number): Int16Array {
  const f = new Int16Array(160);
  for (let i = 0; i < 160; i++) f[i] = Math.round(8000 * Math.sin(((n * 160 + i + phase) * 2 * Math.PI * 400) / 8000));
  return f;
}

describe('RtpSession on loopback (real UDP, fake clock)', () => {
  it('sends PCMU from an even port: marker on the first packet only, sequence +1, timestamp +160, one SSRC', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await session(clock, far.port);
    expect(s.localPort % 2).toBe(0);
    for (let n = 0; n < 10; n++) s.sendFrame(sine(n, 0));
    await until(() => far.got.length === 10, '10 packets');
    const v = far.got.map((g) => g.view);
    expect(v.map((x) => x.marker)).toEqual([true, false, false, false, false, false, false, false, false, false]);
    expect(v.every((x) => x.payloadType === 0 && x.ssrc === v[0].ssrc && x.payloadLength === 160)).toBe(true);
    for (let i = 1; i < 10; i++) {
      expect(v[i].sequence).toBe((v[0].sequence + i) & 0xffff);
      expect(v[i].timestamp).toBe((v[0].timestamp + 160 * i) >>> 0);
    }
    expect(far.got[0].port).toBe(s.localPort); // symmetric: sent from the port we receive on
    expect(Array.from(far.got[3].bytes.subarray(12))).toEqual(Array.from(encodeMuLaw(sine(3, 0))));
  });

  it('skipFrame (on hold from our side): nothing sent, the timestamp keeps real time, the next packet has the marker', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await session(clock, far.port);
    s.sendFrame(sine(0, 0));
    s.sendFrame(sine(1, 0));
    for (let n = 0; n < 50; n++) s.skipFrame();
    s.sendFrame(sine(52, 0));
    await until(() => far.got.length === 3, '3 packets');
    const v = far.got.map((g) => g.view);
    expect(v.map((x) => x.marker)).toEqual([true, false, true]);
    expect(v[2].sequence).toBe((v[1].sequence + 1) & 0xffff);
    expect(v[2].timestamp).toBe((v[1].timestamp + 51 * 160) >>> 0);
    expect(s.stats().packetsSent).toBe(3);
  });

  it('two sessions carry audio both ways through the jitter buffer: the ear hears the decoded G.711 of the mouth', async () => {
    const clock = new FakeClock();
    const a = await session(clock, 1);
    const b = await session(clock, a.localPort);
    a.setRemote('127.0.0.1', b.localPort);
    const heard: Int16Array[] = [];
    for (let n = 0; n < 30; n++) {
      a.sendFrame(sine(n, 0));
      b.sendFrame(sine(n, 40));
      await until(() => b.stats().packetsReceived === n + 1 && a.stats().packetsReceived === n + 1, `frame ${n}`);
      clock.advance(20);
      const out = new Int16Array(160);
      b.readFrame(out);
      heard.push(out);
      a.readFrame(new Int16Array(160));
    }
    const ref = new Set(Array.from(decodeMuLaw(encodeMuLaw(sine(5, 0)))));
    const lastFrames = heard.slice(-10);
    expect(lastFrames.some((f) => f.some((x) => x !== 0))).toBe(true);
    // After the playout delay every sample heard is a G.711 reconstruction level of the tone sent.
    const allLevels = new Set<number>();
    for (let n = 0; n < 30; n++) for (const x of decodeMuLaw(encodeMuLaw(sine(n, 0)))) allLevels.add(x);
    expect(lastFrames.every((f) => f.every((x) => allLevels.has(x)))).toBe(true);
    expect(ref.size).toBeGreaterThan(10);
    expect(b.stats()).toMatchObject({ packetsSent: 30, packetsReceived: 30, lost: 0, strangers: 0 });
  });

  it('latches onto the far end\'s real source port (NAT) when its packet carries the negotiated payload type', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await session(clock, 40000); // SDP said 40000; the far end really sends from far.port
    far.socket.send(rtp(0, 1, 1, 0xabc, new Uint8Array(160).fill(0xff)), s.localPort, '127.0.0.1');
    await until(() => s.stats().packetsReceived === 1, 'first packet');
    s.sendFrame(sine(0, 0));
    await until(() => far.got.length === 1, 'reply to the latched port');
  });

  it('no RTP bleed: packets from another host, or with a payload type not negotiated, neither play nor latch', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    const stranger = await farEnd('127.0.0.2');
    toClose.push(far.socket, stranger.socket);
    const s = await session(clock, far.port);
    stranger.socket.send(rtp(0, 1, 1, 0xbad, new Uint8Array(160).fill(0x11)), s.localPort, '127.0.0.1');
    far.socket.send(rtp(96, 1, 1, 0xbad, new Uint8Array(160).fill(0x11)), s.localPort, '127.0.0.1');
    await until(() => s.stats().strangers === 1 && s.stats().wrongPayloadType === 1, 'both dropped');
    expect(s.stats().packetsReceived).toBe(0);
    s.sendFrame(sine(0, 0));
    await until(() => far.got.length === 1, 'still sends to the signalled port');
    expect(stranger.got.length).toBe(0);
  });

  it('sendDtmf: RFC 4733 packets on PT 101 with one timestamp, audio muted meanwhile, audio resumes with a marker', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await session(clock, far.port);
    s.sendFrame(sine(0, 0));
    s.sendDtmf('5', 100);
    for (let n = 1; n <= 12; n++) {
      clock.advance(20);
      s.sendFrame(sine(n, 0));
    }
    await until(() => far.got.some((g) => g.view.payloadType === 0 && g.view.marker && g.view.sequence !== far.got[0].view.sequence), 'audio resumes');
    const events = far.got.filter((g) => g.view.payloadType === 101);
    expect(events.map((e) => e.bytes[12])).toEqual(events.map(() => 5));
    expect(events[0].view.marker).toBe(true);
    expect(new Set(events.map((e) => e.view.timestamp)).size).toBe(1);
    expect(events.filter((e) => e.bytes[13] & 0x80).length).toBe(3);
    const firstEvent = far.got.indexOf(events[0]);
    const lastEvent = far.got.indexOf(events[events.length - 1]);
    expect(far.got.slice(firstEvent, lastEvent + 1).every((g) => g.view.payloadType === 101)).toBe(true);
    expect(() => s.sendDtmf('x')).toThrow();
  });

  it('receives RFC 4733 digits once each, and refuses sendDtmf when telephone-event was not negotiated', async () => {
    const { clock, far, s, digits } = await listeningForDigits();
    const ev = (end: boolean, dur: number) => eventPayload(3, end, dur);
    let seq = 10;
    for (const [end, dur] of [[false, 0], [false, 400], [true, 800], [true, 800], [true, 800]] as const) far.socket.send(rtp(101, seq++, 8000, 0x77, ev(end, dur), dur === 0), s.localPort, '127.0.0.1');
    await until(() => s.stats().packetsReceived === 5, 'five event packets');
    expect(digits).toEqual(['3']);
    const plain = await session(clock, far.port, { telephoneEventPayloadType: undefined });
    expect(() => plain.sendDtmf('1')).toThrow(RtpSessionError);
  });

  it('a digit from the far end\'s new stream (new SSRC, timestamps from an earlier random base) is still heard', async () => {
    const { far, s, digits } = await listeningForDigits();
    const ev = eventPayload;
    // Stream A's timestamps are near 3e9; stream B restarts at 2e9, "before" A's as a 32-bit comparison sees it.
    let seq = 10;
    for (const [end, dur] of [[false, 0], [true, 800]] as const) far.socket.send(rtp(101, seq++, 3_000_000_000, 0xa, ev(1, end, dur), dur === 0), s.localPort, '127.0.0.1');
    await until(() => s.stats().packetsReceived === 2, 'stream A\'s digit');
    seq = 5000;
    for (const ts of [2_000_000_000, 2_000_004_000]) {
      for (const [end, dur] of [[false, 0], [true, 800]] as const) far.socket.send(rtp(101, seq++, ts, 0xb, ev(ts === 2_000_000_000 ? 2 : 3, end, dur), dur === 0), s.localPort, '127.0.0.1');
    }
    await until(() => digits.length === 3, `stream B's digits heard (heard ${digits.join('')})`);
    expect(digits).toEqual(['1', '2', '3']);
  });

  it('a digit from the far end is not jitter and not loss: the quality figures stay those of the audio', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await session(clock, far.port);
    const payload = encodeMuLaw(sine(0, 0));
    let seq = 100;
    let ts = 16000;
    const ev = (end: boolean, dur: number) => eventPayload(7, end, dur);
    // Every packet exactly on time: 10 audio frames, a 200 ms digit (updates every 20 ms on one timestamp, three
    // end packets), 10 audio frames again, as a far end that sends events at its packet rate does.
    const plan: Buffer[] = [];
    for (let i = 0; i < 10; i++, ts += 160) plan.push(rtp(0, seq++, ts, 0x5, payload));
    const eventTs = ts;
    for (let d = 160; d <= 1600; d += 160, ts += 160) plan.push(rtp(101, seq++, eventTs, 0x5, ev(d === 1600, d), d === 160));
    for (let i = 0; i < 2; i++, ts += 160) plan.push(rtp(101, seq++, eventTs, 0x5, ev(true, 1600)));
    for (let i = 0; i < 10; i++, ts += 160) plan.push(rtp(0, seq++, ts, 0x5, payload));
    for (const p of plan) {
      far.socket.send(p, s.localPort, '127.0.0.1');
      const before = s.stats().packetsReceived;
      await until(() => s.stats().packetsReceived === before + 1, 'the packet arrives');
      s.readFrame(new Int16Array(160));
      clock.advance(20);
    }
    const st = s.stats();
    expect(st.packetsReceived).toBe(plan.length);
    expect(st.lost).toBe(0);
    expect(st.jitterBuffer.lost).toBe(0);
    expect(st.jitterMs).toBeLessThan(1);
  });

  it('RTCP: reports flow both ways with an RTT, and close() sends a BYE the far end notices', async () => {
    const clock = new FakeClock();
    const a = await session(clock, 1, { rtcpIntervalMs: 1000 });
    const b = await session(clock, a.localPort, { rtcpIntervalMs: 1000 });
    a.setRemote('127.0.0.1', b.localPort);
    for (let n = 0; n < 200; n++) {
      a.sendFrame(sine(n, 0));
      b.sendFrame(sine(n, 0));
      // Let datagrams land before fake time moves on, so the RTT measures loopback, not fake time in flight.
      for (let k = 0; k < 3; k++) await new Promise((r) => setImmediate(r));
      clock.advance(20);
    }
    await until(() => a.stats().rttMs >= 0 && b.stats().rttMs >= 0, 'RTT from both sides');
    expect(a.stats().rttMs).toBeLessThan(100); // loopback on a fake clock: the report comes back within the same tick
    await a.close();
    await until(() => b.stats().remoteBye, 'BYE seen');
  });
});

describe.skipIf(!mediaIo)(`RtpSession on NativeUdpSockets (read per frame; skipped only when hal/native is not built: ${mediaIoMissing ?? 'it is'})`, () => {
  async function nativeSession(clock: FakeClock, remotePort: number) {
    const s = await RtpSession.open({ clock, random: seededRandom(9), localAddress: '127.0.0.1', ports: { min: 20000, max: 29999 }, remoteAddress: '127.0.0.1', remotePort, codec: 'PCMU' }, nativeBinder(mediaIo!, clock));
    toClose.push(s);
    return s;
  }
  const payload = encodeMuLaw(sine(0, 0));

  it('takes in what arrived when the earpiece reads a frame, and latches onto the sender as dgram sockets do', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await nativeSession(clock, 9);
    for (let i = 0; i < 3; i++) far.socket.send(rtp(0, 100 + i, 1000 + 160 * i, 0xabc, payload), s.localPort, '127.0.0.1');
    await until(() => {
      s.readFrame(new Int16Array(160));
      return s.stats().packetsReceived === 3;
    }, 'three packets read at frame reads');
    s.sendFrame(sine(1, 0));
    await until(() => far.got.length === 1, 'our packet at the latched far end');
    expect(far.got[0].view.payloadType).toBe(0);
  });

  it('drops what came during a pause (resume), instead of playing it late', async () => {
    const clock = new FakeClock();
    const far = await farEnd();
    toClose.push(far.socket);
    const s = await nativeSession(clock, far.port);
    for (let i = 0; i < 5; i++) far.socket.send(rtp(0, 200 + i, 5000 + 160 * i, 0xdef, payload), s.localPort, '127.0.0.1');
    const probe = dgram.createSocket('udp4');
    toClose.push(probe);
    // The five are queued once a datagram sent after them has arrived too (loopback keeps the order).
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    far.socket.send(Buffer.from('x'), probe.address().port, '127.0.0.1');
    await new Promise((r) => probe.once('message', r));
    s.resume(50);
    expect(s.stats().packetsReceived).toBe(5);
    expect(s.readFrame(new Int16Array(160))).toBe('silence');
  });
});
