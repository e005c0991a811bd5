/**
 * SIP message serializer and the request/response builders (RFC 3261 sec. 7, 8.1.1, 8.2.6).
 *
 * The header list is what gets written: `parsed` is a view derived from it, so code that changes a header changes
 * the HeaderEntry (and re-derives `parsed` with parseCoreHeaders when it needs to). Output is a binary (latin1)
 * string; send it with Buffer.from(s, 'latin1').
 */
import {
  canonicalHeaderName,
  type HeaderEntry,
  type SipRequest,
  type SipResponse,
  type SipMessage,
  type Uri,
} from './message.js';
import { formatUri, parseUri } from './uri.js';
import { isToken } from './header-values.js';
import { parseCoreHeaders } from './core-headers.js';
import { ReceivedRequest, ReceivedResponse } from './wire-image.js';

/** Thrown by the builders for values that would make a malformed message (a programming error, not input). */
export class SipBuildError extends Error {
  override readonly name = 'SipBuildError';
  constructor(readonly fault: string) {
    super(fault);
  }
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A line break inside a value would let whoever chose the value write headers of their own. */
function assertSingleLine(text: string, what: string): void {
  if (text.indexOf('\n') >= 0 || text.indexOf('\r') >= 0) throw new SipBuildError(`line break in ${what}`);
}

/**
 * Write a message. Content-Length always reflects the body; the first one keeps its place and form when right.
 * Throws SipBuildError when a header value or the reason phrase holds a line break (only code can put one there).
 */
export function serializeMessage(msg: SipMessage): string {
  let out: string;
  if (msg.type === 'request') {
    const uri = formatUri(msg.uri);
    const received = ReceivedRequest.unchangedText(msg, uri);
    if (received !== undefined) return received;
    out = msg.method + ' ' + uri + ' SIP/2.0\r\n';
  } else {
    const received = ReceivedResponse.unchangedText(msg);
    if (received !== undefined) return received;
    assertSingleLine(msg.reason, 'reason phrase');
    out = 'SIP/2.0 ' + msg.status + ' ' + msg.reason + '\r\n';
  }
  const bodyLength = msg.body.length;
  let wroteLength = false;
  const headers = msg.headers;
  for (let k = 0; k < headers.length; k++) {
    const h = headers[k];
    if (h.name === 'Content-Length') {
      if (wroteLength) continue;
      wroteLength = true;
      const v = h.value;
      out += isDigits(v) && Number(v) === bodyLength ? 'Content-Length: ' + v + '\r\n' : 'Content-Length: ' + bodyLength + '\r\n';
      continue;
    }
    assertSingleLine(h.value, h.name);
    out += h.name + ': ' + h.value + '\r\n';
  }
  if (!wroteLength) out += 'Content-Length: ' + bodyLength + '\r\n';
  return out + '\r\n' + msg.body;
}

function checkHeaderValue(name: string, value: string): void {
  if (!isToken(name)) throw new SipBuildError(`bad header name ${JSON.stringify(name)}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 10 || c === 13) throw new SipBuildError(`line break in ${name} value`);
    if (c > 255) throw new SipBuildError(`${name} value is not a binary (latin1) string`);
  }
}

function checkBinary(body: string): void {
  for (let i = 0; i < body.length; i++) {
    if (body.charCodeAt(i) > 255) throw new SipBuildError('body is not a binary (latin1) string; use Buffer.toString("latin1")');
  }
}

function toEntries(headers: Iterable<readonly [string, string]>): HeaderEntry[] {
  const out: HeaderEntry[] = [];
  for (const [name, value] of headers) {
    checkHeaderValue(name, value);
    out.push({ name: canonicalHeaderName(name), value: value.trim() });
  }
  return out;
}

/** Replace any Content-Length entries by one matching the body, so `parsed` agrees with what will be sent. */
function setContentLength(headers: HeaderEntry[], bodyLength: number): HeaderEntry[] {
  const out = headers.filter((h) => h.name !== 'Content-Length');
  out.push({ name: 'Content-Length', value: String(bodyLength) });
  return out;
}

export interface RequestSpec {
  method: string;
  uri: Uri | string;
  /** In order; names may be compact or any case. Must include Via, From, To, Call-ID and CSeq. */
  headers: Iterable<readonly [string, string]>;
  /** Binary (latin1) string. */
  body?: string;
}

/** Build a complete, parsed request. Adds Max-Forwards: 70 when absent (RFC 3261 sec. 8.1.1.6). */
export function buildRequest(spec: RequestSpec): SipRequest {
  if (!isToken(spec.method)) throw new SipBuildError(`bad method ${JSON.stringify(spec.method)}`);
  const uri = typeof spec.uri === 'string' ? parseUri(spec.uri) : spec.uri;
  const body = spec.body ?? '';
  checkBinary(body);
  let headers = toEntries(spec.headers);
  if (!headers.some((h) => h.name === 'Max-Forwards')) headers.push({ name: 'Max-Forwards', value: '70' });
  headers = setContentLength(headers, body.length);
  const parsed = parseCoreHeaders(headers, spec.method);
  return { type: 'request', method: spec.method, uri, headers, parsed, body };
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 301: 'Moved Permanently', 302: 'Moved Temporarily', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 413: 'Request Entity Too Large',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 420: 'Bad Extension', 423: 'Interval Too Brief',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 486: 'Busy Here', 487: 'Request Terminated', 488: 'Not Acceptable Here',
  491: 'Request Pending', 500: 'Server Internal Error', 501: 'Not Implemented', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large', 600: 'Busy Everywhere',
  603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

export function defaultReason(status: number): string {
  return REASONS[status] ?? '';
}

export interface ResponseOptions {
  /** Added to To when the request's To has no tag (RFC 3261 sec. 8.2.6.2); leave unset for 100 Trying. */
  toTag?: string;
  /** Binary (latin1) string. */
  body?: string;
}

/**
 * Build a response to a request (RFC 3261 8.2.6): Via (all, in order, with the received/rport the transport
 * stamped), From, To, Call-ID and CSeq copied exactly as they came, Timestamp for 100 (8.2.6.1), the To tag added
 * when the request's To has none (8.2.6.2), then the extra headers. The one way responses are made, by the user
 * agent and by the transaction layer alike.
 */
export function buildResponse(
  request: SipRequest,
  status: number,
  reason?: string,
  extraHeaders: Iterable<readonly [string, string]> = [],
  options: ResponseOptions = {},
): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new SipBuildError(`bad status ${status}`);
  const why = reason ?? defaultReason(status);
  assertSingleLine(why, 'reason phrase');
  const toTag = options.toTag !== undefined && !request.parsed.to.params.has('tag') ? options.toTag : undefined;
  if (toTag !== undefined && !isToken(toTag)) throw new SipBuildError('To tag must be a token');
  const headers: HeaderEntry[] = [];
  for (const h of request.headers) {
    switch (h.name) {
      case 'Via':
      case 'From':
      case 'Call-ID':
      case 'CSeq':
        headers.push({ name: h.name, value: h.value });
        break;
      case 'To':
        // appended, not re-written: the To goes back as the client wrote it (a header parameter in either form)
        headers.push({ name: 'To', value: toTag !== undefined ? h.value + ';tag=' + toTag : h.value });
        break;
      case 'Timestamp':
        if (status === 100) headers.push({ name: h.name, value: h.value });
        break;
    }
  }
  const body = options.body ?? '';
  checkBinary(body);
  const all = setContentLength(headers.concat(toEntries(extraHeaders)), body.length);
  const parsed = parseCoreHeaders(all);
  return { type: 'response', status, reason: why, headers: all, parsed, body };
}
