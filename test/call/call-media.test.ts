import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { CallMedia } from '../../src/call/call-media.js';
import { mediaSchema } from '../../src/config/schema.js';
import { encodeMuLaw } from '../../src/media/g711.js';
import { writeRtpHeader } from '../../src/media/rtp-packet.js';

// CallMedia's offer/answer on a real RTP socket (loopback, Node's dgram); only time is fake.
const toClose: { close(): unknown }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
});

describe('CallMedia: the answer to our offer', () => {
  it('an answer listing PCMA then PCMU: we send PCMA and also take the far end\'s PCMU packets (RFC 3264 7)', async () => {
    const clock = new FakeClock();
    const media = mediaSchema.parse({ codecs: ['PCMA', 'PCMU'], rtp_ports: '30000-30999' });
    const call = await CallMedia.forOffer({ clock, random: seededRandom(3), media, sdpAddress: '127.0.0.1', log: () => {} });
    toClose.push(call);
    const offer = call.offerSdp();
    expect(offer).toMatch(/m=audio \d+ RTP\/AVP 8 0 101/);
    const far = dgram.createSocket('udp4');
    toClose.push(far);
    await new Promise<void>((r) => far.bind(0, '127.0.0.1', () => r()));
    const farPort = far.address().port;
    await call.useAnswer(`v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${farPort} RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`);
    expect(call.codec).toBe('PCMA');
    const payload = encodeMuLaw(new Int16Array(160).fill(1000));
    for (let k = 0; k < 5; k++) {
      const b = Buffer.alloc(172);
      writeRtpHeader(b, k === 0, 0, k + 1, 1000 + k * 160, 0x77);
      b.set(payload, 12);
      far.send(b, portOf(offer), '127.0.0.1');
    }
    for (let i = 0; i < 2000 && call.stats().packetsReceived < 5; i++) await new Promise((r) => setImmediate(r));
    expect(call.stats()).toMatchObject({ packetsReceived: 5, wrongPayloadType: 0 });
  });
});

function portOf(sdp: string): number {
  return Number(/m=audio (\d+)/.exec(sdp)![1]);
}
