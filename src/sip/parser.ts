/**
 * SIP message parser (RFC 3261 sec. 7, 25). Strict on what the stack relies on (start line, the core headers,
 * Content-Length), lazy on the rest: other headers are kept as strings in order and parsed by whoever needs them.
 *
 * Scanning uses indexOf and charCode loops only, so time is linear in the input whatever the bytes are.
 */
import {
  SipParseError,
  canonicalHeaderName,
  type CoreHeaders,
  type HeaderEntry,
  type NameAddr,
  type SipMessage,
  type Via,
} from './message.js';
import { CHAR_CLASS, C_TOKEN, parseUri } from './uri.js';
import { parseBoundedDecimal, parseCSeq, parseNameAddr, parseVia, splitCommaList } from './header-values.js';

/** Largest message accepted by default: the largest UDP payload. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65535;

export interface ParseOptions {
  /** Messages longer than this are refused with 513 (RFC 3261 sec. 21.5.14). */
  maxMessageBytes?: number;
}

function fail(fault: string, status = 400): never {
  throw new SipParseError(fault, status);
}

function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** Parse "SIP/x.y"; returns true for 2.0, false for another well-formed version, throws on junk. */
function checkVersion(s: string, start: number, end: number): boolean {
  if (end - start === 7 && s.startsWith('SIP/2.0', start)) return true;
  const slash = s.indexOf('/', start);
  if (slash !== start + 3 || s.slice(start, slash).toUpperCase() !== 'SIP') fail('bad SIP version');
  const dot = s.indexOf('.', slash);
  if (dot < 0 || dot >= end) fail('bad SIP version');
  const major = parseBoundedDecimal(s, slash + 1, dot, 999);
  const minor = parseBoundedDecimal(s, dot + 1, end, 999);
  if (major < 0 || minor < 0) fail('bad SIP version');
  return major === 2 && minor === 0;
}

function single(values: string[] | undefined, name: string): string {
  if (values === undefined || values.length === 0) fail(`missing ${name}`);
  if (values.length > 1) fail(`more than one ${name}`);
  return values[0];
}

/**
 * Parse the core headers (RFC 3261 sec. 8.1.1) from header entries. `requestMethod` is given for requests so that
 * the CSeq method can be checked against it (sec. 8.2.1 / RFC 4475 3.1.2.17).
 */
export function parseCoreHeaders(headers: HeaderEntry[], requestMethod?: string): CoreHeaders {
  let viaLines: string[] | undefined;
  let from: string[] | undefined;
  let to: string[] | undefined;
  let callId: string[] | undefined;
  let cseq: string[] | undefined;
  let cl: string[] | undefined;
  let mf: string[] | undefined;
  for (let k = 0; k < headers.length; k++) {
    const h = headers[k];
    switch (h.name) {
      case 'Via': (viaLines ??= []).push(h.value); break;
      case 'From': (from ??= []).push(h.value); break;
      case 'To': (to ??= []).push(h.value); break;
      case 'Call-ID': (callId ??= []).push(h.value); break;
      case 'CSeq': (cseq ??= []).push(h.value); break;
      case 'Content-Length': (cl ??= []).push(h.value); break;
      case 'Max-Forwards': (mf ??= []).push(h.value); break;
    }
  }
  if (viaLines === undefined) fail('missing Via');
  const via: Via[] = [];
  for (const line of viaLines) for (const v of splitCommaList(line)) via.push(parseVia(v));
  const parsedFrom: NameAddr = parseNameAddr(single(from, 'From'));
  const parsedTo: NameAddr = parseNameAddr(single(to, 'To'));
  const id = single(callId, 'Call-ID');
  checkCallId(id);
  const parsedCSeq = parseCSeq(single(cseq, 'CSeq'));
  if (requestMethod !== undefined && parsedCSeq.method !== requestMethod) fail('CSeq method does not match the request method');
  const core: CoreHeaders = { via, from: parsedFrom, to: parsedTo, callId: id, cseq: parsedCSeq };
  if (cl !== undefined) {
    const v = single(cl, 'Content-Length');
    const n = parseBoundedDecimal(v, 0, v.length, 0x7fffffff);
    if (n < 0) fail('bad Content-Length');
    core.contentLength = n;
  }
  if (mf !== undefined) {
    const v = single(mf, 'Max-Forwards');
    const n = parseBoundedDecimal(v, 0, v.length, 255);
    if (n < 0) fail('bad Max-Forwards');
    core.maxForwards = n;
  }
  return core;
}

// callid = word [ "@" word ] (RFC 3261 sec. 25.1); word is token plus a few separators.
const CALLID_EXTRA = new Uint8Array(256);
for (const ch of '()<>:\\"/[]?{}') CALLID_EXTRA[ch.charCodeAt(0)] = 1;

function checkCallId(id: string): void {
  let at = -1;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c === 64) {
      if (at >= 0 || i === 0 || i === id.length - 1) fail('bad Call-ID');
      at = i;
    } else if (c > 255 || ((CHAR_CLASS[c] & C_TOKEN) === 0 && CALLID_EXTRA[c] === 0)) {
      fail('bad Call-ID');
    }
  }
  if (id.length === 0) fail('bad Call-ID');
}

/**
 * Parse one SIP message from a datagram or from one frame cut by the stream framer. A body longer than
 * Content-Length is truncated (RFC 3261 sec. 18.3); a shorter one is an error; with no Content-Length the body is
 * the rest of the data.
 */
export function parseMessage(data: Buffer | string, options?: ParseOptions): SipMessage {
  const s = typeof data === 'string' ? data : data.toString('latin1');
  const max = options?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (s.length > max) fail('message too large', 513);
  const len = s.length;
  let pos = 0;
  // Stray CRLFs before the start line are keep-alives (RFC 3261 sec. 7.5).
  while (pos < len && (s.charCodeAt(pos) === 13 || s.charCodeAt(pos) === 10)) pos++;

  let nl = s.indexOf('\n', pos);
  if (nl < 0) fail('no end of start line');
  let lineEnd = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  const cr = s.indexOf('\r', pos);
  if (cr >= 0 && cr < lineEnd) fail('bare CR in start line');

  let request: { method: string; uriText: string } | undefined;
  let status = 0;
  let reason = '';
  if (s.startsWith('SIP/', pos)) {
    const sp = s.indexOf(' ', pos);
    if (sp < 0 || sp > lineEnd) fail('bad status line');
    if (!checkVersion(s, pos, sp)) fail('unsupported SIP version', 505);
    const codeEnd = sp + 4;
    if (codeEnd > lineEnd || (codeEnd < lineEnd && s.charCodeAt(codeEnd) !== 32)) fail('bad status code');
    status = parseBoundedDecimal(s, sp + 1, codeEnd, 699);
    if (status < 100) fail('bad status code');
    reason = codeEnd < lineEnd ? s.slice(codeEnd + 1, lineEnd) : '';
    for (let i = 0; i < reason.length; i++) {
      const c = reason.charCodeAt(i);
      if ((c < 32 && c !== 9) || c === 127) fail('control character in reason phrase');
    }
  } else {
    // Method SP Request-URI SP SIP-Version; runs of SP are tolerated (RFC 4475 3.1.2.9/10), extra words are not.
    const words: number[] = [];
    let i = pos;
    while (i < lineEnd) {
      while (i < lineEnd && s.charCodeAt(i) === 32) i++;
      if (i >= lineEnd) break;
      const start = i;
      while (i < lineEnd && s.charCodeAt(i) !== 32) i++;
      if (words.length === 6) fail('bad request line');
      words.push(start, i);
    }
    if (words.length !== 6) fail('bad request line');
    for (let k = words[0]; k < words[1]; k++) {
      const c = s.charCodeAt(k);
      if (c > 255 || (CHAR_CLASS[c] & C_TOKEN) === 0) fail('bad method');
    }
    if (!checkVersion(s, words[4], words[5])) fail('unsupported SIP version', 505);
    request = { method: s.slice(words[0], words[1]), uriText: s.slice(words[2], words[3]) };
  }

  // Header lines; a line starting with SP/HTAB continues the previous one (folding becomes one SP).
  const headers: HeaderEntry[] = [];
  pos = nl + 1;
  for (;;) {
    nl = s.indexOf('\n', pos);
    if (nl < 0) fail('headers not terminated by an empty line');
    lineEnd = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (lineEnd === pos) {
      pos = nl + 1;
      break;
    }
    const crAt = s.indexOf('\r', pos);
    if (crAt >= 0 && crAt < lineEnd) fail('bare CR in header');
    const first = s.charCodeAt(pos);
    if (isWs(first)) {
      if (headers.length === 0) fail('continuation line before the first header');
      let a = pos;
      let b = lineEnd;
      while (a < b && isWs(s.charCodeAt(a))) a++;
      while (b > a && isWs(s.charCodeAt(b - 1))) b--;
      if (b > a) {
        const last = headers[headers.length - 1];
        last.value = last.value.length === 0 ? s.slice(a, b) : last.value + ' ' + s.slice(a, b);
      }
    } else {
      let i = pos;
      while (i < lineEnd) {
        const c = s.charCodeAt(i);
        if (c > 255 || (CHAR_CLASS[c] & C_TOKEN) === 0) break;
        i++;
      }
      const nameEnd = i;
      if (i === pos || (i < lineEnd && s.charCodeAt(i) !== 58 && !isWs(s.charCodeAt(i)))) fail('bad header name');
      while (i < lineEnd && isWs(s.charCodeAt(i))) i++;
      if (i >= lineEnd || s.charCodeAt(i) !== 58) fail('bad header line');
      i++;
      while (i < lineEnd && isWs(s.charCodeAt(i))) i++;
      let b = lineEnd;
      while (b > i && isWs(s.charCodeAt(b - 1))) b--;
      headers.push({ name: canonicalHeaderName(s.slice(pos, nameEnd)), value: s.slice(i, b) });
    }
    pos = nl + 1;
  }

  const parsed = parseCoreHeaders(headers, request?.method);
  let body: string;
  if (parsed.contentLength !== undefined) {
    if (len - pos < parsed.contentLength) fail('body shorter than Content-Length');
    body = s.slice(pos, pos + parsed.contentLength);
  } else {
    body = s.slice(pos);
  }
  if (request !== undefined) {
    const uri = parseUri(request.uriText);
    if (uri.kind === 'sip' && uri.headers.size > 0) fail('headers in Request-URI');
    return { type: 'request', method: request.method, uri, headers, parsed, body };
  }
  return { type: 'response', status, reason, headers, parsed, body };
}
