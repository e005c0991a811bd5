/**
 * The SIP message model (RFC 3261 sec. 7). This file is the contract that the parser, serializer, transports,
 * transactions and dialogs share.
 *
 * Text model: a message is held as "binary" (latin1) JavaScript strings, one char per byte. That keeps
 * Content-Length arithmetic exact, makes serialize(parse(bytes)) byte-faithful for any UTF-8 in display names or
 * bodies, and avoids a UTF-8 decode per packet. Code that shows text to people decodes it when it does.
 *
 * Headers keep the order and the form in which they came (one entry per header line, names normalised to their
 * canonical long form); the handful of headers the stack needs on every message are parsed once by the parser and
 * kept beside them in `parsed`.
 */

/** A SIP or SIPS URI (RFC 3261 sec. 19.1). Other schemes (tel:, mailto:, im:) are kept as `AbsoluteUri`. */
export interface SipUri {
  kind: 'sip';
  scheme: 'sip' | 'sips';
  /** Unescaped user part, or undefined when the URI has none. */
  user?: string;
  password?: string;
  /** Host as written, lower-cased; IPv6 references keep their brackets: "[2001:db8::1]". */
  host: string;
  port?: number;
  /** uri-parameters in order; a flag parameter (";lr") has the value null. Names lower-cased. */
  params: Map<string, string | null>;
  /** headers part (?a=b&c=d), unescaped. */
  headers: Map<string, string>;
}

export interface AbsoluteUri {
  kind: 'absolute';
  scheme: string;
  /** Everything after "scheme:", as written. */
  rest: string;
}

export type Uri = SipUri | AbsoluteUri;

/** name-addr or addr-spec, as in From, To, Contact, Route, Record-Route (RFC 3261 sec. 20). */
export interface NameAddr {
  displayName?: string;
  uri: Uri;
  /** header parameters (tag, expires, q, ...), names lower-cased, flag params null. */
  params: Map<string, string | null>;
}

/** One Via value (RFC 3261 sec. 20.42, RFC 3581). */
export interface Via {
  protocol: string; // "SIP/2.0"
  transport: string; // upper-case: UDP, TCP, TLS, WS ...
  host: string;
  port?: number;
  /** branch, received, rport (null when present without value), maddr, ttl ... names lower-cased. */
  params: Map<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** The header values every SIP message must carry, parsed once (RFC 3261 sec. 8.1.1). */
export interface CoreHeaders {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  /** Absent on a message that had none (datagrams may omit it). */
  contentLength?: number;
  maxForwards?: number;
}

export interface HeaderEntry {
  /** Canonical long name ("Via", "Call-ID", "WWW-Authenticate", or the received name for extension headers). */
  name: string;
  /** The value as received, folding collapsed to single spaces, surrounding whitespace trimmed. */
  value: string;
}

export interface SipRequest {
  type: 'request';
  method: string;
  /** The Request-URI, parsed. */
  uri: Uri;
  headers: HeaderEntry[];
  parsed: CoreHeaders;
  /** Body as a binary string (one char per byte). */
  body: string;
}

export interface SipResponse {
  type: 'response';
  status: number;
  reason: string;
  headers: HeaderEntry[];
  parsed: CoreHeaders;
  body: string;
}

export type SipMessage = SipRequest | SipResponse;

/** Compact forms (RFC 3261 sec. 7.3.3, RFC 3515, RFC 3841 ...) to canonical long names. */
export const COMPACT_HEADER_NAMES: Readonly<Record<string, string>> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  r: 'Refer-To',
  b: 'Referred-By',
  o: 'Event',
  u: 'Allow-Events',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  x: 'Session-Expires',
  y: 'Identity',
};

// A Map, not an object: a header named "constructor" or "__proto__" must not find Object.prototype's.
const CANONICAL_NAMES: ReadonlyMap<string, string> = new Map(
  [
    'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events', 'Authentication-Info',
    'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding',
    'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From',
    'In-Reply-To', 'Max-Forwards', 'MIME-Version', 'Min-Expires', 'Organization', 'P-Asserted-Identity',
    'Priority', 'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Record-Route', 'Refer-To',
    'Referred-By', 'Remote-Party-ID', 'Reply-To', 'Require', 'Retry-After', 'Route', 'RSeq', 'RAck', 'Server',
    'Session-Expires', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported',
    'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Min-SE', 'Path', 'Privacy', 'Reason', 'Identity',
    'Accept-Contact', 'Reject-Contact', 'Request-Disposition',
  ].map((n): [string, string] => [n.toLowerCase(), n]),
);

/** Canonical long name for any header name as it may appear on the wire (compact, any case). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const c = COMPACT_HEADER_NAMES[lower];
    if (c) return c;
  }
  return CANONICAL_NAMES.get(lower) ?? name;
}

/** First value of a header, or undefined. `name` may be any case or compact. */
export function getHeader(msg: { headers: HeaderEntry[] }, name: string): string | undefined {
  const c = canonicalHeaderName(name);
  for (const h of msg.headers) if (sameHeaderName(h.name, c)) return h.value;
  return undefined;
}

/** Extension header names keep the case they came with, and header names are case-insensitive (sec. 7.3.1). */
function sameHeaderName(stored: string, canonical: string): boolean {
  return stored === canonical || (stored.length === canonical.length && stored.toLowerCase() === canonical.toLowerCase());
}

/** All header lines of that name, in order (comma-separated values are not split here). */
export function getHeaders(msg: { headers: HeaderEntry[] }, name: string): string[] {
  const c = canonicalHeaderName(name);
  const out: string[] = [];
  for (const h of msg.headers) if (sameHeaderName(h.name, c)) out.push(h.value);
  return out;
}

/** Typed error for a message that cannot be accepted; `fault` names what is wrong for the log and the 400. */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  constructor(
    readonly fault: string,
    /** Status a UAS should answer with when the fault is in a request (400 unless the fault says otherwise). */
    readonly status: number = 400,
  ) {
    super(fault);
  }
}
