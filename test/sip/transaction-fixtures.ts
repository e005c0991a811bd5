/** Hand-built SIP messages for the transaction state machine tests (no parser needed to test timers). */
import type { SipRequest, SipResponse, SipMessage, Via, NameAddr, SipUri } from '../../src/sip/message.js';
import { FakeClock } from '../../hal/clock.js';
import { transactionTimers, type TimerBase, DEFAULT_TIMER_BASE } from '../../src/sip/timers.js';
import type { TransactionContext } from '../../src/sip/transaction-context.js';

export function sipUri(user: string | undefined, host: string, port?: number): SipUri {
  return { kind: 'sip', scheme: 'sip', user, host, port, params: new Map(), headers: new Map() };
}

function nameAddr(uri: SipUri, tag?: string): NameAddr {
  const params = new Map<string, string | null>();
  if (tag) params.set('tag', tag);
  return { uri, params };
}

export function makeRequest(method: string, opts: { branch?: string; route?: string[]; cseq?: number; toTag?: string } = {}): SipRequest {
  const branch = opts.branch ?? 'z9hG4bKtest1';
  const via: Via = { protocol: 'SIP/2.0', transport: 'UDP', host: '192.0.2.10', port: 5060, params: new Map<string, string | null>([['branch', branch], ['rport', null]]) };
  const cseq = opts.cseq ?? 1;
  const headers = [
    { name: 'Via', value: `SIP/2.0/UDP 192.0.2.10:5060;branch=${branch};rport` },
    ...(opts.route ?? []).map((r) => ({ name: 'Route', value: r })),
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: '<sip:100@example.org>;tag=from1' },
    { name: 'To', value: opts.toTag ? `<sip:200@example.org>;tag=${opts.toTag}` : '<sip:200@example.org>' },
    { name: 'Call-ID', value: 'call-1@192.0.2.10' },
    { name: 'CSeq', value: `${cseq} ${method}` },
    { name: 'Content-Length', value: '0' },
  ];
  return {
    type: 'request',
    method,
    uri: sipUri('200', 'example.org'),
    headers,
    parsed: {
      via: [via],
      from: nameAddr(sipUri('100', 'example.org'), 'from1'),
      to: nameAddr(sipUri('200', 'example.org'), opts.toTag),
      callId: 'call-1@192.0.2.10',
      cseq: { seq: cseq, method },
      contentLength: 0,
      maxForwards: 70,
    },
    body: '',
  };
}

export function makeResponse(req: SipRequest, status: number, toTag = 'to9'): SipResponse {
  const headers = req.headers
    .filter((h) => ['Via', 'From', 'Call-ID', 'CSeq'].includes(h.name))
    .concat([{ name: 'To', value: status === 100 ? '<sip:200@example.org>' : `<sip:200@example.org>;tag=${toTag}` }, { name: 'Content-Length', value: '0' }]);
  return {
    type: 'response',
    status,
    reason: 'Reason',
    headers,
    parsed: { ...req.parsed, to: nameAddr(sipUri('200', 'example.org'), status === 100 ? undefined : toTag) },
    body: '',
  };
}

export interface Harness {
  clock: FakeClock;
  ctx: TransactionContext;
  sent: { at: number; msg: SipMessage }[];
}

export function harness(reliable = false, base: TimerBase = DEFAULT_TIMER_BASE): Harness {
  const clock = new FakeClock();
  const sent: { at: number; msg: SipMessage }[] = [];
  const ctx: TransactionContext = { clock, timers: transactionTimers(reliable, base), send: (msg) => sent.push({ at: clock.now(), msg }) };
  return { clock, ctx, sent };
}

/** Runs the fake clock until no timer is left (or a safety bound), returning nothing: tests read `sent`. */
export function runOut(clock: FakeClock, limitMs = 600_000): void {
  const end = clock.now() + limitMs;
  while (clock.nextDeadline() !== undefined && (clock.nextDeadline() as number) <= end) clock.step();
}
