/**
 * DTMF as SIP INFO, the way PBXs and commercial adapters do it when they cannot or will not use RFC 4733 events:
 * an INFO request in the call's dialog whose body names the digit. There is no standard for the body (RFC 6086 only
 * frames INFO itself); two forms are in use and both are read:
 *   application/dtmf-relay  "Signal=5\r\nDuration=160\r\n"  (Cisco's, the common one; we send this)
 *   application/dtmf        "5"
 * Signal values 10-15 are read as RFC 4733 event codes (* # A B C D), which some gateways send instead of the
 * characters.
 *
 * The sender keeps one INFO outstanding at a time: digits must reach the far end in the order they were keyed, and
 * two INFOs in flight on a lossy link could be reordered by their retransmissions.
 */
import type { Dialog } from './dialog.js';
import { getHeader, type SipRequest, type SipResponse } from './message.js';
import { buildResponse } from './serializer.js';
import type { TransactionLayer } from './transaction-layer.js';

export const DTMF_RELAY = 'application/dtmf-relay';
export const DTMF_PLAIN = 'application/dtmf';
export const DTMF_INFO_TYPES: readonly string[] = [DTMF_RELAY, DTMF_PLAIN];

const DIGITS = '0123456789*#ABCD';
const EVENT_CODES = '0123456789*#ABCD';
/** Bodies longer than this are not DTMF, whatever they claim. */
const MAX_BODY = 256;

/** The digit an INFO carries, or null when its body is not a DTMF body we understand. */
export function parseDtmfInfo(contentType: string | undefined, body: string): string | null {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (body.length > MAX_BODY) return null;
  if (type === DTMF_PLAIN) return digitOf(body.trim());
  if (type !== DTMF_RELAY) return null;
  for (const line of body.split(/\r?\n/)) {
    const m = /^\s*signal\s*=\s*(\S+)\s*$/i.exec(line);
    if (m) return digitOf(m[1]);
  }
  return null;
}

function digitOf(s: string): string | null {
  if (s.length === 1) {
    const d = s.toUpperCase();
    return DIGITS.includes(d) ? d : null;
  }
  if (/^1[0-5]$/.test(s)) return EVENT_CODES[Number(s)];
  return null;
}

/** The application/dtmf-relay body for a digit. */
export function dtmfRelayBody(digit: string, durationMs: number): string {
  if (digit.length !== 1 || !DIGITS.includes(digit.toUpperCase())) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return `Signal=${digit.toUpperCase()}\r\nDuration=${Math.max(1, Math.round(durationMs))}\r\n`;
}

/**
 * Answers an INFO received in a call and returns the digit it carries, if any. DTMF bodies get 200; an empty INFO
 * (a keep-alive some gateways send) gets 200 too; any other body gets 415 with what we accept (RFC 6086 would say
 * 469 for an unknown Info-Package, but legacy INFO without packages is what phones send).
 */
export function answerDtmfInfo(req: SipRequest, st: { respond(res: SipResponse): unknown }, userAgent: string): string | null {
  const digit = parseDtmfInfo(getHeader(req, 'Content-Type'), req.body);
  if (digit === null && req.body.length > 0) {
    st.respond(buildResponse(req, 415, undefined, [['User-Agent', userAgent], ['Accept', ['application/sdp', ...DTMF_INFO_TYPES].join(', ')]]));
    return null;
  }
  st.respond(buildResponse(req, 200, undefined, [['User-Agent', userAgent]]));
  return digit;
}

export interface DtmfInfoSenderOptions {
  transactions: TransactionLayer;
  userAgent: string;
  log(msg: string, fields?: Record<string, unknown>): void;
  /** The Duration we announce (ms); the digit is sent when detected, before its length is known. Default 160. */
  durationMs?: number;
}

export class DtmfInfoSender {
  private readonly queue: string[] = [];
  private busy = false;

  constructor(private readonly o: DtmfInfoSenderOptions) {}

  /** Queues a digit for the dialog; it goes out once the INFOs before it are answered. */
  send(dialog: Dialog, digit: string): void {
    this.queue.push(digit);
    this.pump(dialog);
  }

  private pump(dialog: Dialog): void {
    if (this.busy) return;
    const digit = this.queue.shift();
    if (digit === undefined) return;
    if (dialog.state === 'terminated') {
      this.queue.length = 0;
      return;
    }
    this.busy = true;
    const info: SipRequest = dialog.createRequest(
      'INFO',
      [
        ['User-Agent', this.o.userAgent],
        ['Content-Type', DTMF_RELAY],
      ],
      dtmfRelayBody(digit, this.o.durationMs ?? 160),
    );
    const next = (): void => {
      this.busy = false;
      this.pump(dialog);
    };
    this.o.transactions.sendRequest(info, {
      onFinal: (res) => {
        this.o.log('INFO answered', { digit, status: res.status });
        next();
      },
      onError: (err) => {
        this.o.log('INFO failed', { digit, err: err.message });
        next();
      },
    });
  }
}
