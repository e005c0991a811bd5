import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, seededRandom, type Clock } from '../../hal/clock.js';
import { encodeMuLaw, MU_LAW_SILENCE } from '../../src/media/g711.js';
import { FrameRing } from '../../src/media/frame-ring.js';
import { RtpPacketView } from '../../src/media/rtp-packet.js';
import { RtpSession } from '../../src/media/rtp-session.js';
import { RtpStreamPump } from '../../src/media/rtp-stream-pump.js';

// Real UDP on loopback, fake time: waiting here is for datagrams (I/O), never for time.
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

const toClose: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});

async function setup(clock: Clock = new FakeClock()) {
  const far = dgram.createSocket('udp4');
  await new Promise<void>((r) => far.bind(0, '127.0.0.1', () => r()));
  toClose.push(far);
  const payloads: Uint8Array[] = [];
  const stamps: number[] = [];
  far.on('message', (msg) => {
    const v = new RtpPacketView();
    if (v.parse(msg, msg.length) !== 'ok') return;
    payloads.push(Uint8Array.from(msg.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength)));
    stamps.push(v.timestamp);
  });
  const session = await RtpSession.open({ clock, random: seededRandom(3), localAddress: '127.0.0.1', ports: { min: 20000, max: 29999 }, remoteAddress: '127.0.0.1', remotePort: far.address().port, codec: 'PCMU' });
  toClose.push(session);
  const mouth = FrameRing.create(160, 4);
  const ear = FrameRing.create(160, 2);
  const pump = new RtpStreamPump(clock, 20, session, mouth, ear);
  return { clock: clock as FakeClock, session, mouth, ear, pump, payloads, stamps };
}

const tone = (k: number) => Int16Array.from({ length: 160 }, (_, i) => Math.round(5000 * Math.sin((i + k * 7) / 4)));

describe('RtpStreamPump (the media thread\'s clock-driven loop, on fake time)', () => {
  it('sends one queued mouth frame per 20 ms tick, in order, and nothing before the first deadline', async () => {
    const { clock, mouth, pump, payloads } = await setup();
    for (let k = 0; k < 3; k++) mouth.write(tone(k));
    pump.start();
    clock.advance(19.9);
    expect(mouth.available).toBe(3);
    clock.advance(0.1 + 40);
    await until(() => payloads.length === 3, 'three packets');
    for (let k = 0; k < 3; k++) expect(Array.from(payloads[k])).toEqual(Array.from(encodeMuLaw(tone(k))));
    expect(pump.underruns).toBe(0);
  });

  it('an empty mouth queue at a tick sends silence and counts an underrun, keeping RTP on real time', async () => {
    const { clock, mouth, pump, payloads, session } = await setup();
    mouth.write(tone(1));
    pump.start();
    clock.advance(60);
    await until(() => payloads.length === 3, 'three packets');
    expect(pump.underruns).toBe(2);
    expect(payloads[1].every((c) => c === MU_LAW_SILENCE)).toBe(true);
    expect(session.stats().packetsSent).toBe(3);
  });

  it('each tick puts one earpiece frame in the ear ring; when the reader falls behind the ring drops and counts', async () => {
    const { clock, ear, pump } = await setup();
    pump.start();
    clock.advance(40);
    expect(ear.available).toBe(2);
    clock.advance(20);
    expect(ear.available).toBe(2);
    expect(ear.overflows).toBe(1);
    pump.stop();
    clock.advance(100);
    expect(ear.overflows).toBe(1);
  });

  it('after a stall longer than the catch-up burst, the frames the clock skipped still move the RTP timestamp: it stays on real time', async () => {
    const fake = new FakeClock();
    // A clock whose time can leap ahead of its timers, as real time does past a thread that stalled.
    let leap = 0;
    const clock = { ...fake, now: () => fake.now() + leap, setTimeout: fake.setTimeout.bind(fake), clearTimeout: fake.clearTimeout.bind(fake), wallTime: fake.wallTime.bind(fake) };
    const { pump, stamps } = await setup(clock);
    pump.start();
    for (let i = 0; i < 5; i++) fake.advance(20);
    leap = 1000; // a one-second stall: 50 frames became due at once
    fake.advance(20);
    for (let i = 0; i < 5; i++) fake.advance(20);
    pump.stop();
    await until(() => stamps.length === 5 + 3 + 5, 'the packets');
    expect(pump.skippedFrames).toBe(48);
    const elapsedMs = 11 * 20 + 1000;
    // The first packet is frame 0, the last frame 60: 60 frames of timestamp, as much as real time moved.
    expect((stamps.at(-1)! - stamps[0]) >>> 0).toBe((elapsedMs / 20 - 1) * 160);
  });
});

