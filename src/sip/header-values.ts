/**
 * Parsers and formatters for the structured header values the stack reads on every message (RFC 3261 sec. 20,
 * 25.1): name-addr / addr-spec, Via, CSeq, generic parameters, and comma splitting that respects quotes and <>.
 * Input is a header value as the message parser stores it (folding already collapsed, ends trimmed), or a range
 * [start, end) of a larger string: the parser hands over ranges of the message itself, which reads faster than
 * slices of it and saves making them.
 */
import { SipParseError, type CSeq, type NameAddr, type Via } from './message.js';
import { CHAR_CLASS, C_TOKEN, formatUri, lowerParamName, parseUri, readHost } from './uri.js';

function fail(fault: string): never {
  throw new SipParseError(fault);
}

const SP = 32;
const HTAB = 9;

export function skipWs(s: string, i: number, end: number = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

function scanToken(s: string, i: number, end: number = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c > 255 || (CHAR_CLASS[c] & C_TOKEN) === 0) break;
    i++;
  }
  return i;
}

/** True when s is a non-empty token (method names, transport names, param names). */
export function isToken(s: string): boolean {
  return s.length > 0 && scanToken(s, 0) === s.length;
}

/** Index just past the closing quote of a quoted-string that opens at s[i]. */
function scanQuoted(s: string, i: number, end: number = s.length): number {
  for (let j = i + 1; j < end; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) return j + 1;
    if (c === 92 /* \ */) {
      j++;
      if (j >= end) break;
      const q = s.charCodeAt(j);
      if (q === 10 || q === 13) fail('bad quoted-pair');
    } else if ((c < 32 && c !== HTAB) || c === 127) {
      fail('control character in quoted string');
    }
  }
  fail('unterminated quoted string');
}

function unquote(s: string, start: number, end: number): string {
  // start is the opening quote, end just past the closing one
  const inner = s.slice(start + 1, end - 1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    if (inner.charCodeAt(i) === 92) i++;
    out += inner[i];
  }
  return out;
}

/** Quote a string for a display name or a quoted parameter value, escaping what qdtext cannot hold. */
export function quoteString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) out += ' '; // a quoted-pair cannot carry CR/LF
    else if (c === 34 || c === 92 || (c < 32 && c !== HTAB) || c === 127) out += '\\' + s[i];
    else out += s[i];
  }
  return out + '"';
}

/**
 * Split a header value on the commas that separate its values (RFC 3261 sec. 7.3.1), ignoring commas inside
 * quoted strings and <...>. Elements are trimmed; an empty element is an error.
 */
export function splitCommaList(s: string): string[] {
  const out: string[] = [];
  const len = s.length;
  let start = 0;
  let inAngle = false;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) i = scanQuoted(s, i) - 1;
    else if (c === 60) inAngle = true;
    else if (c === 62) inAngle = false;
    else if (c === 44 && !inAngle) {
      out.push(trimmedElement(s, start, i));
      start = i + 1;
    }
  }
  out.push(trimmedElement(s, start, len));
  return out;
}

function trimmedElement(s: string, start: number, end: number): string {
  start = skipWs(s, start);
  while (end > start && (s.charCodeAt(end - 1) === SP || s.charCodeAt(end - 1) === HTAB)) end--;
  if (end === start) fail('empty element in comma-separated list');
  return s.slice(start, end);
}

/** Scan a gen-value (token, host incl. bare IPv6 as in received=, or quoted-string kept with its quotes). */
function scanParamValue(s: string, i: number, end: number): number {
  if (i < end && s.charCodeAt(i) === 34) return scanQuoted(s, i, end);
  let j = i;
  while (j < end) {
    const c = s.charCodeAt(j);
    if (!(c <= 255 && ((CHAR_CLASS[c] & C_TOKEN) !== 0 || c === 58 || c === 91 || c === 93))) break;
    j++;
  }
  return j;
}

/**
 * Parse `*( SEMI generic-param )` from s[i] to `end` into params (names lower-cased, flags null, quoted values
 * kept with their quotes so they re-serialise unchanged). Throws on anything else, on empty or repeated names.
 */
export function parseParams(s: string, i: number, params: Map<string, string | null>, end: number = s.length): void {
  for (;;) {
    i = skipWs(s, i, end);
    if (i >= end) return;
    if (s.charCodeAt(i) !== 59) fail('unexpected character before parameter');
    i = skipWs(s, i + 1, end);
    const nameEnd = scanToken(s, i, end);
    if (nameEnd === i) fail('empty parameter');
    const name = lowerParamName(s, i, nameEnd);
    i = skipWs(s, nameEnd, end);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61) {
      i = skipWs(s, i + 1, end);
      const valueEnd = scanParamValue(s, i, end);
      if (valueEnd === i) fail(`empty value for parameter ${name}`);
      value = s.slice(i, valueEnd);
      i = valueEnd;
    }
    if (params.has(name)) fail(`repeated parameter ${name}`);
    params.set(name, value);
  }
}

export function formatParams(params: Map<string, string | null>): string {
  if (params.size === 0) return '';
  let s = '';
  for (const [name, value] of params) s += value === null ? ';' + name : ';' + name + '=' + value;
  return s;
}

/** Parse a name-addr or addr-spec with header parameters (From, To, Contact, Route ... one element). */
export function parseNameAddr(s: string, start = 0, len: number = s.length): NameAddr {
  let i = skipWs(s, start, len);
  let displayName: string | undefined;
  let j = i;
  if (j < len && s.charCodeAt(j) === 34) {
    const end = scanQuoted(s, j, len);
    displayName = unquote(s, j, end);
    j = skipWs(s, end, len);
    if (j >= len || s.charCodeAt(j) !== 60) fail('display name without <URI>');
  } else {
    // display-name as *(token LWS): scan until '<' or anything a display name cannot hold
    while (j < len) {
      const c = s.charCodeAt(j);
      if (c !== SP && c !== HTAB && (c > 255 || (CHAR_CLASS[c] & C_TOKEN) === 0)) break;
      j++;
    }
    if (j < len && s.charCodeAt(j) === 60) {
      let e = j;
      while (e > i && (s.charCodeAt(e - 1) === SP || s.charCodeAt(e - 1) === HTAB)) e--;
      if (e > i) displayName = s.slice(i, e);
    } else {
      // addr-spec: the URI runs to the first ';' or whitespace, and what follows are header parameters
      let e = i;
      while (e < len) {
        const c = s.charCodeAt(e);
        if (c === 59 || c === SP || c === HTAB) break;
        e++;
      }
      if (e === i) fail('missing URI');
      const uri = parseUri(s, i, e);
      const params = new Map<string, string | null>();
      parseParams(s, e, params, len);
      return { uri, params };
    }
  }
  const gt = s.indexOf('>', j + 1);
  if (gt < 0 || gt >= len) fail('unterminated <URI>');
  const uri = parseUri(s, j + 1, gt);
  const params = new Map<string, string | null>();
  parseParams(s, gt + 1, params, len);
  const na: NameAddr = { uri, params };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/** Always the name-addr form, so URI parameters can never be mistaken for header parameters. */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined ? quoteString(na.displayName) + ' ' : '';
  return dn + '<' + formatUri(na.uri) + '>' + formatParams(na.params);
}

/** Parse one via-parm (split a Via header line with splitCommaList first), in s or in s[start, end). */
export function parseVia(s: string, start = 0, end: number = s.length): Via {
  let i = skipWs(s, start, end);
  // sent-protocol: name SLASH version SLASH transport, each a token, SWS around the slashes
  const nameStart = i;
  const nameEnd = scanToken(s, i, end);
  if (nameEnd === nameStart) fail('bad Via protocol');
  i = skipWs(s, nameEnd, end);
  if (i >= end || s.charCodeAt(i) !== 47 /* / */) fail('bad Via protocol');
  const versionStart = skipWs(s, i + 1, end);
  const versionEnd = scanToken(s, versionStart, end);
  if (versionEnd === versionStart) fail('bad Via protocol');
  i = skipWs(s, versionEnd, end);
  if (i >= end || s.charCodeAt(i) !== 47) fail('bad Via protocol');
  const transportStart = skipWs(s, i + 1, end);
  const tokenEnd = scanToken(s, transportStart, end);
  if (tokenEnd === transportStart) fail('bad Via protocol');
  i = skipWs(s, tokenEnd, end);
  if (i === tokenEnd) fail('bad Via sent-by');
  const host = readHost(s, i, end);
  i = skipWs(s, i + host.length, end);
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 58) {
    i = skipWs(s, i + 1, end);
    let j = i;
    let n = 0;
    while (j < end && j - i < 6) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
      j++;
    }
    if (j === i || j - i > 5 || n > 65535) fail('bad Via port');
    port = n;
    i = j;
  }
  const params = new Map<string, string | null>();
  parseParams(s, i, params, end);
  const via: Via = {
    protocol: isSip20(s, nameStart, nameEnd, versionStart, versionEnd)
      ? 'SIP/2.0'
      : s.slice(nameStart, nameEnd).toUpperCase() + '/' + s.slice(versionStart, versionEnd),
    transport: upperTransport(s.slice(transportStart, tokenEnd)),
    host,
    params,
  };
  if (port !== undefined) via.port = port;
  return via;
}

function isSip20(s: string, ns: number, ne: number, vs: number, ve: number): boolean {
  return (
    ne - ns === 3 && ve - vs === 3 && s.charCodeAt(ns) === 83 && s.charCodeAt(ns + 1) === 73 && s.charCodeAt(ns + 2) === 80 &&
    s.charCodeAt(vs) === 50 && s.charCodeAt(vs + 1) === 46 && s.charCodeAt(vs + 2) === 48
  );
}

function upperTransport(t: string): string {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c >= 97 && c <= 122) return t.toUpperCase();
  }
  return t;
}

export function formatVia(v: Via): string {
  return v.protocol + '/' + v.transport + ' ' + v.host + (v.port !== undefined ? ':' + v.port : '') + formatParams(v.params);
}

/** Parse s[start,end) as a decimal (leading zeros allowed) no greater than max; -1 if empty, not digits or too big. */
export function parseBoundedDecimal(s: string, start: number, end: number, max: number): number {
  if (end <= start) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
    if (n > max) return -1;
  }
  return n;
}

/** CSeq: 1*DIGIT LWS Method; the number must fit 32 bits (RFC 3261 sec. 8.1.1.5). */
export function parseCSeq(s: string, start = 0, end: number = s.length): CSeq {
  const i = skipWs(s, start, end);
  let j = i;
  while (j < end && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  const seq = parseBoundedDecimal(s, i, j, 0xffffffff);
  if (seq < 0) fail('bad CSeq number');
  const m = skipWs(s, j, end);
  if (m === j) fail('bad CSeq');
  const methodEnd = scanToken(s, m, end);
  if (methodEnd === m || skipWs(s, methodEnd, end) !== end) fail('bad CSeq method');
  return { seq, method: s.slice(m, methodEnd) };
}

export function formatCSeq(c: CSeq): string {
  return c.seq + ' ' + c.method;
}
