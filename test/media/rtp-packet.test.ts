import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RtpHeaderCounter, RtpPacketView, sequenceDelta, writeRtpHeader } from '../../src/media/rtp-packet.js';

describe('RTP header in place', () => {
  it('writes and parses back every field, including PT, marker, sequence/timestamp/SSRC extremes', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (m, pt, seq, ts, ssrc) => {
        const buf = new Uint8Array(12 + 160);
        expect(writeRtpHeader(buf, m, pt, seq, ts, ssrc)).toBe(12);
        const v = new RtpPacketView();
        expect(v.parse(buf, buf.length)).toBe(pt >= 72 && pt <= 76 && m ? 'rtcp' : 'ok');
        if (pt >= 72 && pt <= 76 && m) return;
        expect([v.marker, v.payloadType, v.sequence, v.timestamp, v.ssrc]).toEqual([m, pt, seq, ts, ssrc]);
        expect([v.payloadOffset, v.payloadLength]).toEqual([12, 160]);
      }),
    );
  });

  it('skips CSRCs and a header extension, and strips padding, to find the payload', () => {
    // V=2 P=1 X=1 CC=2, PT 8, two CSRCs, an extension of 1 word, payload of 3 bytes, 2 bytes of padding.
    const bytes = [0xb2, 0x08, 0x00, 0x01, 0, 0, 0, 160, 1, 2, 3, 4, 0, 0, 0, 9, 0, 0, 0, 10, 0xbe, 0xde, 0x00, 0x01, 7, 7, 7, 7, 0xaa, 0xbb, 0xcc, 0x00, 0x02];
    const buf = Uint8Array.from(bytes);
    const v = new RtpPacketView();
    expect(v.parse(buf, buf.length)).toBe('ok');
    expect(v.csrcCount).toBe(2);
    expect(v.hasExtension).toBe(true);
    expect(v.paddingBytes).toBe(2);
    expect(Array.from(buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength))).toEqual([0xaa, 0xbb, 0xcc]);
  });

  it('rejects short, wrong-version, CSRC/extension overrun and bad padding with a reason, without throwing', () => {
    const v = new RtpPacketView();
    expect(v.parse(new Uint8Array(11), 11)).toBe('short');
    const b = new Uint8Array(12);
    b[0] = 0x40;
    expect(v.parse(b, 12)).toBe('version');
    b[0] = 0x81;
    expect(v.parse(b, 12)).toBe('csrc-overrun');
    b[0] = 0x90;
    expect(v.parse(b, 12)).toBe('extension-overrun');
    const p = new Uint8Array(13);
    p[0] = 0xa0;
    p[12] = 5;
    expect(v.parse(p, 13)).toBe('padding-invalid');
    p[12] = 0;
    expect(v.parse(p, 13)).toBe('padding-invalid');
  });

  it('fuzz: any bytes parse to a reason or to a payload that lies inside the datagram', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
        const v = new RtpPacketView();
        const r = v.parse(bytes, bytes.length);
        if (r === 'ok') {
          expect(v.payloadOffset).toBeGreaterThanOrEqual(12);
          expect(v.payloadLength).toBeGreaterThanOrEqual(0);
          expect(v.payloadOffset + v.payloadLength).toBeLessThanOrEqual(bytes.length);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('sequence distance wraps at 65536 (65535 -> 0 is +1, 0 -> 65535 is -1)', () => {
    expect(sequenceDelta(65535, 0)).toBe(1);
    expect(sequenceDelta(0, 65535)).toBe(-1);
    expect(sequenceDelta(100, 200)).toBe(100);
  });
});

describe('RtpHeaderCounter: the next outgoing header, counted in its bytes', () => {
  const parsed = (buf: Uint8Array) => {
    const v = new RtpPacketView();
    expect(v.parse(buf, buf.length)).toBe('ok');
    return v;
  };

  it('writes what writeRtpHeader writes for the same fields, and counts the sequence number up by one per packet', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean(), fc.integer({ min: 0, max: 71 }), (ssrc, seq, ts, m, pt) => {
        const counter = new RtpHeaderCounter(ssrc, seq, ts);
        const ours = new Uint8Array(12 + 4);
        counter.writeNext(ours, m, pt);
        const reference = new Uint8Array(12 + 4);
        writeRtpHeader(reference, m, pt, seq, ts, ssrc);
        expect(Array.from(ours)).toEqual(Array.from(reference));
        expect(counter.sequence).toBe((seq + 1) & 0xffff);
        expect(counter.timestamp).toBe(ts);
      }),
    );
  });

  it('advances the timestamp as uint32 arithmetic does, for a frame, a long hold, zero and negative steps, across every carry and the 2^32 wrap', () => {
    const steps = fc.oneof(fc.constantFrom(0, 80, 160, 480, 0xffff, 0x10000), fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), fc.integer({ min: 0, max: 2 ** 40 }));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.array(steps, { maxLength: 20 }), (ts, advances) => {
        const counter = new RtpHeaderCounter(1, 0, ts);
        let expected = ts;
        for (const n of advances) {
          counter.advance(n);
          expected = Number((BigInt(expected) + BigInt(n)) & 0xffffffffn);
          expect(counter.timestamp).toBe(expected);
        }
      }),
    );
  });

  it('wraps the sequence number from 65535 to 0 and the timestamp from 2^32 - 160 to 0, and a packet carries both', () => {
    const counter = new RtpHeaderCounter(0xdeadbeef, 0xffff, 0xffffffff - 159);
    const buf = new Uint8Array(12 + 160);
    counter.writeNext(buf, true, 0);
    counter.advance(160);
    let v = parsed(buf);
    expect([v.sequence, v.timestamp, v.ssrc, v.marker]).toEqual([0xffff, 0xffffffff - 159, 0xdeadbeef, true]);
    counter.writeNext(buf, false, 8);
    v = parsed(buf);
    expect([v.sequence, v.timestamp, v.ssrc, v.marker, v.payloadType]).toEqual([0, 0, 0xdeadbeef, false, 8]);
  });

  it('countSequence counts a packet written otherwise (an RFC 4733 event) without touching the timestamp', () => {
    const counter = new RtpHeaderCounter(7, 100, 5000);
    counter.countSequence();
    counter.countSequence();
    expect([counter.sequence, counter.timestamp]).toEqual([102, 5000]);
  });
});
