/**
 * CallLog, behind GET /api/calls: a call's media figures are none until it is answered, follow the call while it
 * lasts, and stay as they stood when it ended. The call's media is a plain object through the phone layer's seam
 * (CallQualitySource), whose figures the test moves by hand; the real media's are checked end to end in
 * test/integration/baresip-call.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { CallLog, callQualityJson } from '../../src/call-log.js';
import type { CallInfo, CallQuality } from '../../src/phone/line-seams.js';

const figures = (packetsReceived: number, rttMs: number | null = null): CallQuality => ({
  packetsSent: packetsReceived + 1,
  packetsReceived,
  lost: 2,
  jitterMs: 1.234,
  rttMs,
  concealedFrames: 3,
  playoutDelayMs: 43.76,
});

describe('CallLog', () => {
  it("keeps a call's media figures: none before the answer, live during the call, frozen at its end", () => {
    const log = new CallLog(new FakeClock(Date.UTC(2026, 11, 6, 9, 0, 0)), 10);
    let now = figures(0);
    const call: CallInfo = { direction: 'out', remote: 'sip:200@example.org', codec: null, startedAt: 0, answeredAt: null };
    log.callEvent('started', call);
    expect(log.recent()[0]!.quality).toBeNull();
    call.media = { quality: () => now };
    log.callEvent('answered', call);
    now = figures(250);
    expect(log.recent()[0]!.quality).toMatchObject({ packets_received: 250, rtt_ms: null });
    now = figures(500, 0.84);
    log.callEvent('ended', call, 'normal');
    now = figures(9999); // whatever the media says after the end is not the call's
    expect(log.recent()[0]).toMatchObject({ cause: 'normal', quality: { packets_sent: 501, packets_received: 500, packets_lost: 2, rtt_ms: 0.8 } });
  });

  it('a call that was never answered has no figures', () => {
    const log = new CallLog(new FakeClock(0), 10);
    const call: CallInfo = { direction: 'in', remote: 'tel:5551234', codec: null, startedAt: 0, answeredAt: null };
    log.callEvent('started', call);
    log.callEvent('ended', call, 'no-answer');
    expect(log.recent()[0]).toMatchObject({ cause: 'no-answer', quality: null });
  });

  it('gives times to 0.1 ms and no RTT until a report came', () => {
    expect(callQualityJson(figures(10))).toEqual({ packets_sent: 11, packets_received: 10, packets_lost: 2, jitter_ms: 1.2, rtt_ms: null, concealed_frames: 3, playout_delay_ms: 43.8 });
    expect(callQualityJson(undefined)).toBeNull();
  });
});
