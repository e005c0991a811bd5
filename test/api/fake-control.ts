/**
 * A fake AgentControl: our own seam between the API and the agent, recording what the API asked of it. The agent
 * itself is exercised by the integration tests; here the HTTP side is under test.
 */
import {
  BadRequestError,
  NoSuchLineError,
  NotSupportedError,
  type AgentControl,
  type CallRecord,
  type DialMethod,
  type TestRing,
  type HookAction,
  type StatusJson,
} from '../../src/agent-contract.js';

export class FakeControl implements AgentControl {
  readonly actions: string[] = [];
  board: 'sim' | 'ag1171' = 'sim';
  lines = [0, 1];
  failWith: Error | undefined;
  status(): StatusJson {
    if (this.failWith) throw this.failWith;
    return {
      version: '0.1.0',
      uptime_s: 3725,
      accounts: [{ line: 0, aor: 'sip:100@sip.example.org', registered: true, state: 'registered', expires_in: 3412, last_error: null }],
      lines: [
        { id: 0, hook: 'off', state: 'connected', digits: '200', call: { direction: 'out', remote: 'sip:200@sip.example.org', codec: 'PCMU', duration_s: 75, quality: { packets_sent: 3750, packets_received: 3748, packets_lost: 2, jitter_ms: 1.4, rtt_ms: 0.8, concealed_frames: 1, playout_delay_ms: 43.8 } }, other_call: null, message_waiting: false, voice_messages: null },
        { id: 1, hook: 'on', state: 'idle', digits: '', call: null, other_call: null, message_waiting: true, voice_messages: { new: 2, old: 8 } },
      ],
    };
  }
  calls(): CallRecord[] {
    return [{ direction: 'in', remote: 'sip:300@x', start: '2026-11-24T14:03:01.123Z', answered: null, end: '2026-11-24T14:03:09.000Z', cause: 'no-answer', quality: null }];
  }
  sipTrace(limit?: number): string {
    return `trace limit=${limit ?? 'all'}\n`;
  }
  private check(line: number): void {
    if (!this.lines.includes(line)) throw new NoSuchLineError(line);
    if (this.board !== 'sim') throw new NotSupportedError('hook', 'the board is not sim');
  }
  hook(line: number, state: HookAction): void {
    this.check(line);
    this.actions.push(`hook ${line} ${state}`);
  }
  dial(line: number, digits: string, method: DialMethod): void {
    this.check(line);
    if (digits === '000') throw new BadRequestError('line is on hook', 'digits');
    this.actions.push(`dial ${line} ${digits} ${method}`);
  }
  ring(line: number, call: TestRing): void {
    this.check(line);
    this.actions.push(`ring ${line} ${JSON.stringify(call)}`);
  }
}
