import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSdesCname, NtpTime, ReceptionStatistics, roundTripMs, RtcpReportView, writeBye, writeReport } from '../../src/media/rtcp.js';

describe('reception statistics (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts loss across a sequence wrap: 65530..65535, 0..9 with 3 and 7 missing gives 2 lost of 16 expected', () => {
    const s = new ReceptionStatistics();
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 4, 5, 6, 8, 9];
    for (const q of seqs) s.updateSequence(q);
    expect(s.expected).toBe(16);
    expect(s.received).toBe(14);
    expect(s.lost).toBe(2);
    expect(s.extendedMaxSeq).toBe(65536 + 9);
  });

  it('a reordered packet is counted, not treated as a jump; a duplicate makes loss negative as A.3 says', () => {
    const s = new ReceptionStatistics();
    for (const q of [10, 12, 11, 13, 13]) s.updateSequence(q);
    expect(s.expected).toBe(4);
    expect(s.received).toBe(5);
    expect(s.lost).toBe(-1);
  });

  it('a big jump is ignored once and accepted as a restart when the next packet confirms it', () => {
    const s = new ReceptionStatistics();
    s.updateSequence(100);
    expect(s.updateSequence(30000)).toBe(false);
    expect(s.updateSequence(30001)).toBe(true);
    expect(s.expected).toBe(1);
  });

  it('jitter is 0 for a perfectly paced stream and matches the A.8 recurrence for random transit times', () => {
    const paced = new ReceptionStatistics();
    for (let i = 0; i < 100; i++) paced.updateJitter(1000 + i * 160, 5000 + i * 160);
    expect(paced.jitter).toBe(0);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 2, maxLength: 50 }), (delays) => {
        const s = new ReceptionStatistics();
        let j = 0;
        let prev = 0;
        delays.forEach((d, i) => {
          const ts = (0xffffff00 + i * 160) >>> 0; // crosses the 2^32 wrap
          s.updateJitter(ts, i * 160 + d);
          if (i > 0) j += (Math.abs(d - prev) - j) / 16;
          prev = d;
        });
        expect(s.jitter).toBeCloseTo(j, 6);
      }),
    );
  });
});

describe('RTCP compound packets', () => {
  const sdes = encodeSdesCname(0x11111111, 'ata@test');

  it('an SR with one report block parses back: loss fraction, cumulative loss, jitter, LSR, DLSR', () => {
    const s = new ReceptionStatistics();
    for (const q of [1, 2, 4, 5, 6, 7, 8, 9]) s.updateSequence(q); // 1 of 9 lost
    s.jitter = 123.9;
    const buf = new Uint8Array(256);
    const ntp = new NtpTime().set(Date.UTC(2026, 0, 15, 12, 0, 0, 500));
    const len = writeReport(buf, 0x11111111, { ntp, rtpTimestamp: 42, packetCount: 9, octetCount: 1440 }, { stats: s, ssrc: 0x22222222, lsr: 0xabcd1234, dlsr: 65536 }, sdes);
    expect(len % 4).toBe(0);
    const v = new RtcpReportView();
    expect(v.parse(buf, len, 0x22222222)).toBe('ok');
    expect(v.senderSsrc).toBe(0x11111111);
    expect(v.hasSenderReport).toBe(true);
    expect(v.srNtpMiddle).toBe(ntp.middle);
    expect(v.hasReportForUs).toBe(true);
    expect(v.fractionLost).toBe(Math.floor(256 / 9));
    expect(v.cumulativeLost).toBe(1);
    expect(v.jitter).toBe(123);
    expect([v.lsr, v.dlsr]).toEqual([0xabcd1234, 65536]);
    expect(v.bye).toBe(false);
  });

  it('an RR without blocks plus BYE parses as a BYE, and a report about another SSRC is not taken as ours', () => {
    const buf = new Uint8Array(256);
    let len = writeReport(buf, 0x11111111, null, null, sdes);
    len = writeBye(buf, len, 0x11111111);
    const v = new RtcpReportView();
    expect(v.parse(buf, len, 0x33333333)).toBe('ok');
    expect(v.hasSenderReport).toBe(false);
    expect(v.hasReportForUs).toBe(false);
    expect(v.bye).toBe(true);
  });

  it('NTP time from Unix time, and RTT = arrival - LSR - DLSR in 1/65536 s (RFC 3550 6.4.1)', () => {
    const ntp = new NtpTime().set(0);
    expect(ntp.seconds).toBe(2208988800);
    // Sent an SR at middle M; the peer held it 0.5 s (DLSR) and its report came back 0.75 s after we sent the SR.
    const m = 0x12340000;
    expect(roundTripMs(m + 0.75 * 65536, m, 0.5 * 65536)).toBeCloseTo(250, 6);
    expect(roundTripMs(m, 0, 0)).toBe(-1);
    expect(roundTripMs(m, m + 65536, 0)).toBe(-1); // negative RTT (clock step): unknown, not 18 hours
  });

  it('fuzz: any bytes give a reason or a parsed report, never an exception', () => {
    fc.assert(
      fc.property(fc.constantFrom(200, 201), fc.uint8Array({ maxLength: 120 }), (type, tail) => {
        // Start like SR/RR so the fuzz reaches the block and compound walking, not just the first check.
        const bytes = Uint8Array.from([0x80 | (tail[0] ?? 0) & 0x1f, type, ...tail]);
        const v = new RtcpReportView();
        expect(['ok', 'short', 'version', 'length', 'not-rtcp']).toContain(v.parse(bytes, bytes.length, 0x12345678));
      }),
      { numRuns: 5000 },
    );
  });
});
