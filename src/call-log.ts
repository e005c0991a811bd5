/**
 * The recent calls of GET /api/calls, newest first, kept in memory (bounded). The line controller reports each call
 * as it starts, is answered and ends, with the cause; a line may have two calls at once (call waiting, hold), so
 * records follow calls, not the line's state.
 */
import type { Clock } from '../hal/clock.js';
import type { CallRecord } from './agent-contract.js';
import type { CallCause, CallInfo } from './phone/line-seams.js';

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
      const record: CallRecord = { direction: call.direction, remote: call.remote, start: now, answered: null, end: null, cause: null };
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
    this.open.delete(call);
  }

  recent(): CallRecord[] {
    return this.records.map((r) => ({ ...r }));
  }
}
