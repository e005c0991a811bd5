import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { answerOffer, buildOffer, parseSdp, readAnswer, SdpNegotiationError, SdpParseError, serializeSdp, type LocalMedia } from '../../src/sip/sdp.js';

// An offer as baresip 1.0 sends it (captured shape; opus/G722 are not ours).
const BARESIP_OFFER = [
  'v=0',
  'o=- 1842948521 2593463817 IN IP4 127.0.0.1',
  's=-',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'm=audio 10120 RTP/AVP 9 0 8 101',
  'b=AS:64',
  'a=rtpmap:9 G722/8000/1',
  'a=rtpmap:0 PCMU/8000/1',
  'a=rtpmap:8 PCMA/8000/1',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-15',
  'a=ptime:20',
  'a=sendrecv',
  'a=rtcp-rsize',
  '',
].join('\r\n');

const local: LocalMedia = { address: '192.0.2.10', port: 10000, codecs: ['PCMA', 'PCMU'], telephoneEvent: 101, ptime: 20, direction: 'sendrecv', sessionId: '42', sessionVersion: 1 };

describe('SDP parse and serialize (RFC 4566)', () => {
  it('parses a real baresip offer', () => {
    const s = parseSdp(BARESIP_OFFER);
    expect(s.origin.address).toBe('127.0.0.1');
    expect(s.connection).toEqual({ addrType: 'IP4', address: '127.0.0.1' });
    const m = s.media[0];
    expect(m.port).toBe(10120);
    expect(m.formats).toEqual(['9', '0', '8', '101']);
    expect(m.rtpmap.get(101)).toEqual({ encoding: 'telephone-event', clockRate: 8000 });
    expect(m.rtpmap.get(0)).toEqual({ encoding: 'PCMU', clockRate: 8000, channels: 1 });
    expect(m.fmtp.get(101)).toBe('0-15');
    expect(m.ptime).toBe(20);
    expect(m.direction).toBe('sendrecv');
    expect(m.attributes).toContain('rtcp-rsize');
  });

  it('round-trips what it writes', () => {
    const offer = buildOffer(local);
    const text = serializeSdp(offer);
    expect(text).toContain('m=audio 10000 RTP/AVP 8 0 101\r\n');
    expect(text).toContain('a=rtpmap:101 telephone-event/8000\r\n');
    expect(text).toContain('a=fmtp:101 0-16\r\n');
    expect(serializeSdp(parseSdp(text))).toBe(text);
  });

  it('accepts LF-only line ends and a media-level c= over the session one', () => {
    const s = parseSdp('v=0\no=x 1 1 IN IP6 ::1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\nc=IN IP6 2001:db8::5\n');
    expect(s.media[0].connection).toEqual({ addrType: 'IP6', address: '2001:db8::5' });
  });

  it.each([
    ['', 'first line must be v=0'],
    ['v=0\r\ns=-\r\n', 'no o= line'],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 99999 RTP/AVP 0\r\n', 'bad port'],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:300 X/8000\r\n', 'bad payload type'],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP9 x\r\n', 'unknown address type'],
    ['v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nmedia\r\n', 'expected type=value'],
  ])('refuses malformed SDP with a typed error (%#)', (body, fault) => {
    expect(() => parseSdp(body)).toThrowError(SdpParseError);
    expect(() => parseSdp(body)).toThrowError(fault);
  });

  it('never throws anything but SdpParseError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom('v=0', 'o=- 1 1 IN IP4 1.1.1.1', 's=-', 'c=IN IP4 1.2.3.4', 'm=audio 1 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', 'a=sendonly', 'a=ptime:x'), fc.string())), (lines) => {
        try {
          parseSdp(lines.join('\r\n'));
        } catch (err) {
          if (!(err instanceof SdpParseError)) throw err;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('offer/answer (RFC 3264)', () => {
  it('answers baresip with our preferred codec, its telephone-event number, one stream', () => {
    const { answer, media } = answerOffer(parseSdp(BARESIP_OFFER), local);
    expect(media).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101, remoteAddress: '127.0.0.1', remotePort: 10120, direction: 'sendrecv', held: false });
    const m = answer.media[0];
    expect(m.formats).toEqual(['8', '101']);
    expect(m.port).toBe(10000);
    expect(answer.connection?.address).toBe('192.0.2.10');
  });

  it('refuses with no-common-codec when only G.722 is offered', () => {
    const offer = parseSdp(BARESIP_OFFER.replace('RTP/AVP 9 0 8 101', 'RTP/AVP 9 101'));
    expect(() => answerOffer(offer, local)).toThrowError(SdpNegotiationError);
    try {
      answerOffer(offer, local);
    } catch (e) {
      expect((e as SdpNegotiationError).fault).toBe('no-common-codec');
    }
  });

  it('keeps the stream count: a video stream is refused with port 0', () => {
    const offer = parseSdp(BARESIP_OFFER + 'm=video 10122 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n');
    const { answer } = answerOffer(offer, local);
    expect(answer.media.map((m) => [m.type, m.port])).toEqual([['audio', 10000], ['video', 0]]);
  });

  it('sees hold: sendonly offer is answered recvonly, and c=0.0.0.0 is hold too', () => {
    const held = answerOffer(parseSdp(BARESIP_OFFER.replace('a=sendrecv', 'a=sendonly')), local);
    expect(held.media.direction).toBe('recvonly');
    expect(held.media.held).toBe(true);
    expect(held.answer.media[0].direction).toBe('recvonly');
    const old = answerOffer(parseSdp(BARESIP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 0.0.0.0')), local);
    expect(old.media.held).toBe(true);
  });

  it('answers an IPv6 offer, static payload types without rtpmap, no telephone-event', () => {
    const offer = parseSdp('v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n');
    const { media } = answerOffer(offer, { ...local, address: '2001:db8::2' });
    expect(media).toMatchObject({ codec: 'PCMU', payloadType: 0, remoteAddress: '2001:db8::1', remotePort: 5004 });
    expect(media.telephoneEvent).toBeUndefined();
  });

  it('refuses a host name in c= (RTP needs an address)', () => {
    const offer = parseSdp(BARESIP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 media.example.org'));
    expect(() => answerOffer(offer, local)).toThrowError('remote-address');
  });

  it('reads the answer to our offer', () => {
    const offer = buildOffer({ ...local, codecs: ['PCMU', 'PCMA'] });
    const { answer } = answerOffer(parseSdp(serializeSdp(offer)), { ...local, address: '198.51.100.7', port: 20000, codecs: ['PCMA'] });
    const media = readAnswer(offer, parseSdp(serializeSdp(answer)));
    expect(media).toMatchObject({ codec: 'PCMA', payloadType: 8, telephoneEvent: 101, remoteAddress: '198.51.100.7', remotePort: 20000 });
  });

  it('an answer listing both G.711 codecs: we send its first, and the other is named for receiving too (RFC 3264 7)', () => {
    const offer = buildOffer({ ...local, codecs: ['PCMU', 'PCMA'] });
    const both = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n');
    expect(readAnswer(offer, both)).toMatchObject({ codec: 'PCMA', payloadType: 8, alsoReceive: { codec: 'PCMU', payloadType: 0 } });
    const one = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n');
    expect(readAnswer(offer, one).alsoReceive).toBeUndefined();
  });

  it('refuses an answer that dropped the audio stream or changed the stream count', () => {
    const offer = buildOffer(local);
    const refused = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n');
    expect(() => readAnswer(offer, refused)).toThrowError('no-common-codec');
    const two = parseSdp(serializeSdp(refused) + 'm=audio 4000 RTP/AVP 0\r\n');
    expect(() => readAnswer(offer, two)).toThrowError('answer-mismatch');
  });
});
