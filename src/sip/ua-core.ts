/**
 * The UAS core's first look at a request (RFC 3261 sec. 8.2): answer OPTIONS, and refuse what this adapter cannot
 * serve with the status the RFC names, in the RFC's order (method, URI scheme, Require, content), before any
 * dialog or call logic sees it. The result is a verdict; the caller turns `respond` into a response with the
 * serializer's buildResponse(request, status, reason, headers) and hands `accept` to the dialog/INVITE layer.
 */
import type { SipRequest } from './message.js';
import { getHeader, getHeaders, SipParseError } from './message.js';

export type UaVerdict =
  | { kind: 'respond'; status: number; reason: string; headers: Array<[string, string]> }
  /** Nothing is sent (RFC 3261 sec. 17.2.3: a stray ACK is absorbed). */
  | { kind: 'drop'; why: string }
  /** The request is for the dialog/call layer. */
  | { kind: 'accept' };

/** Methods this core recognises at all (RFC 3261, 3262, 3265, 3311, 3428, 3515, 3903, 6086). Others get 501. */
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE']);

export interface UaCoreOptions {
  /** Methods we serve; OPTIONS is always answered here. Default INVITE, ACK, BYE, CANCEL, OPTIONS. */
  allow?: string[];
  /** Content types we accept in bodies. Default application/sdp. */
  accept?: string[];
  /** Option tags we support (Supported, and what Require may ask). */
  supported?: string[];
  /** Is there a dialog this in-dialog request (To tag present) or BYE belongs to? */
  hasDialog: (req: SipRequest) => boolean;
  /** Is there a server INVITE transaction this CANCEL matches? */
  hasInviteForCancel: (req: SipRequest) => boolean;
  /**
   * Max-Forwards: 0 at an endpoint. RFC 4475 sec. 3.3.11: an endpoint processes such a request as usual
   * ('process', the default); 'reject' answers 483 like a proxy would.
   */
  maxForwardsZero?: 'process' | 'reject';
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  405: 'Method Not Allowed',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  481: 'Call/Transaction Does Not Exist',
  483: 'Too Many Hops',
  501: 'Not Implemented',
  505: 'Version Not Supported',
};

function respond(status: number, headers: Array<[string, string]> = [], reason = REASONS[status] ?? 'Error'): UaVerdict {
  return { kind: 'respond', status, reason, headers };
}

/** Splits comma-separated header lines into lower-cased tokens. */
function tokens(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const t of v.split(',')) {
    const s = t.trim();
    if (s) out.push(s);
  }
  return out;
}

export class UaCore {
  readonly allow: string[];
  readonly accept: string[];
  readonly supported: string[];

  constructor(private readonly o: UaCoreOptions) {
    this.allow = (o.allow ?? ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS']).map((m) => m.toUpperCase());
    if (!this.allow.includes('OPTIONS')) this.allow.push('OPTIONS');
    this.accept = (o.accept ?? ['application/sdp']).map((t) => t.toLowerCase());
    this.supported = o.supported ?? [];
  }

  /** Headers describing what we do, for OPTIONS 200 and for 405/415/420 answers. */
  capabilityHeaders(): Array<[string, string]> {
    return [
      ['Allow', this.allow.join(', ')],
      ['Accept', this.accept.join(', ')],
      ['Accept-Encoding', 'identity'],
      ['Accept-Language', 'en'],
      ['Supported', this.supported.join(', ')],
    ];
  }

  /** Verdict for a request the parser refused (its fault names the status: 400, or 505 for a bad version). */
  verdictForParseError(err: SipParseError): UaVerdict {
    const status = err.status === 505 ? 505 : 400;
    // The fault goes into the reason phrase so the sender can see what was wrong; strip what would break the line.
    const detail = err.fault.replace(/[\r\n]/g, ' ').slice(0, 100);
    return respond(status, [], `${REASONS[status]} (${detail})`);
  }

  /** Verdict for a parsed request, in the order of RFC 3261 sec. 8.2. */
  inspect(req: SipRequest): UaVerdict {
    const method = req.method;
    // 8.2.1 method inspection; ACK is never answered.
    if (!this.allow.includes(method)) {
      if (method === 'ACK') return { kind: 'drop', why: 'ACK while ACK is not served' };
      if (!KNOWN_METHODS.has(method)) return respond(501, [['Allow', this.allow.join(', ')]]);
      return respond(405, [['Allow', this.allow.join(', ')]]);
    }
    if (req.parsed.maxForwards === 0 && this.o.maxForwardsZero === 'reject' && method !== 'ACK') return respond(483);
    // 8.2.2.1 Request-URI scheme.
    if (req.uri.kind !== 'sip') {
      if (method === 'ACK') return { kind: 'drop', why: `ACK with ${req.uri.scheme}: URI` };
      return respond(416);
    }
    // 8.2.2.3 Require: never for ACK or CANCEL, whose fate is bound to the INVITE.
    if (method !== 'ACK' && method !== 'CANCEL') {
      const unsupported = tokens(getHeaders(req, 'Require')).filter((t) => !this.supported.includes(t.toLowerCase()));
      if (unsupported.length > 0) return respond(420, [['Unsupported', unsupported.join(', ')]]);
    }
    // 8.2.3 content processing.
    if (req.body.length > 0 && method !== 'ACK' && method !== 'CANCEL' && method !== 'BYE') {
      const ct = (getHeader(req, 'Content-Type') ?? '').split(';')[0].trim().toLowerCase();
      if (!this.accept.includes(ct)) return respond(415, [['Accept', this.accept.join(', ')]]);
      const enc = tokens(getHeaders(req, 'Content-Encoding')).filter((e) => e.toLowerCase() !== 'identity');
      if (enc.length > 0) return respond(415, [['Accept-Encoding', 'identity']]);
    }
    const inDialog = req.parsed.to.params.get('tag') != null;
    switch (method) {
      case 'OPTIONS':
        if (inDialog && !this.o.hasDialog(req)) return respond(481);
        return respond(200, this.capabilityHeaders());
      case 'ACK':
        // An ACK for a 2xx goes to its dialog; one for a non-2xx is eaten by the transaction layer before us.
        return this.o.hasDialog(req) ? { kind: 'accept' } : { kind: 'drop', why: 'stray ACK: no dialog' };
      case 'BYE':
        return this.o.hasDialog(req) ? { kind: 'accept' } : respond(481);
      case 'CANCEL':
        return this.o.hasInviteForCancel(req) ? { kind: 'accept' } : respond(481);
      default:
        // 12.2.2: a mid-dialog request for a dialog we do not know.
        if (inDialog && !this.o.hasDialog(req)) return respond(481);
        return { kind: 'accept' };
    }
  }
}
