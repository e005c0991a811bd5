/**
 * The recent calls of GET /api/calls, newest first, kept in memory (bounded). A call record opens when a line
 * starts ringing or starts calling and closes when the line is idle again; the cause says how it ended.
 */
import type { Clock } from '../hal/clock.js';
import type { CallRecord } from './agent-contract.js';
import type { CallInfo, LineState } from './phone/line-controller.js';

interface Open {
  record: CallRecord;
  line: number;
}

export class CallLog {
  private readonly records: CallRecord[] = [];
  private readonly open = new Map<number, Open>();

  constructor(
    private readonly clock: Clock,
    private readonly keep: number,
  ) {}

  /** Follows one line's state changes; `call` is the line's current call (null once it has ended). */
  lineChanged(line: number, from: LineState, to: LineState, call: CallInfo | null): void {
    const now = this.clock.wallTime().toISOString();
    const current = this.open.get(line);
    if ((to === 'calling' || to === 'ringing') && call && !current) {
      const record: CallRecord = { direction: call.direction, remote: call.remote, start: now, answered: null, end: null, cause: null };
      this.open.set(line, { record, line });
      this.records.unshift(record);
      if (this.records.length > this.keep) this.records.length = this.keep;
      return;
    }
    if (!current) return;
    if (to === 'connected') current.record.answered = now;
    if (to === 'busy' || to === 'congestion' || to === 'disconnected' || to === 'idle') {
      current.record.end = now;
      current.record.cause = causeOf(from, to, current.record.answered !== null);
      this.open.delete(line);
    }
  }

  recent(): CallRecord[] {
    return this.records.map((r) => ({ ...r }));
  }
}

function causeOf(from: LineState, to: LineState, answered: boolean): string {
  if (to === 'busy') return 'busy';
  if (to === 'congestion') return 'failed';
  if (to === 'disconnected') return 'remote-hangup';
  if (from === 'ringing') return 'no-answer';
  if (!answered) return 'cancelled';
  return 'normal';
}
