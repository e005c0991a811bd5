/**
 * The recent calls of GET /api/calls, newest first, kept in memory (bounded). The line controller reports each call
 * as it starts, is answered and ends, with the cause; a line may have two calls at once (call waiting, hold), so
 * records follow calls, not the line's state. A call's media figures are read from the call itself: live while it
 * lasts, and kept as they stood when it ended.
 */
import type { Clock } from '../hal/clock.js';
import type { CallQualityJson, CallRecord } from './agent-contract.js';
import type { CallCause, CallInfo, CallQuality } from './phone/line-seams.js';

/** The API's form of a call's figures, rounded to what a reader can use (0.1 ms). */
export function callQualityJson(q: CallQuality | undefined): CallQualityJson | null {
  if (!q) return null;
  const ms = (v: number): number => Math.round(v * 10) / 10;
  return {
    packets_sent: q.packetsSent,
    packets_received: q.packetsReceived,
    packets_lost: q.lost,
    jitter_ms: ms(q.jitterMs),
    rtt_ms: q.rttMs === null ? null : ms(q.rttMs),
    concealed_frames: q.concealedFrames,
    playout_delay_ms: ms(q.playoutDelayMs),
  };
}

export class CallLog {
  private readonly records: CallRecord[] = [];
  private readonly open = new Map<CallInfo, CallRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly keep: number,
  ) {}

  /** One event of one call of a line. */
  callEvent(event: 'started' | 'answered' | 'ended', call: CallInfo, cause?: CallCause): void {
    const now = this.clock.wallTime().toISOString();
    if (event === 'started') {
      if (this.open.has(call)) return;
      const record: CallRecord = { direction: call.direction, remote: call.remote, start: now, answered: null, end: null, cause: null, quality: null };
      this.open.set(call, record);
      this.records.unshift(record);
      if (this.records.length > this.keep) this.records.length = this.keep;
      return;
    }
    const record = this.open.get(call);
    if (!record) return;
    if (event === 'answered') {
      record.answered = now;
      return;
    }
    record.end = now;
    record.cause = cause ?? 'normal';
    record.quality = callQualityJson(call.media?.quality());
    this.open.delete(call);
  }

  recent(): CallRecord[] {
    const live = new Map<CallRecord, CallInfo>();
    for (const [call, record] of this.open) live.set(record, call);
    return this.records.map((r) => {
      const call = live.get(r);
      return { ...r, quality: call ? callQualityJson(call.media?.quality()) : r.quality };
    });
  }
}
