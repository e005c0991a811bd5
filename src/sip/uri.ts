/**
 * SIP/SIPS URIs (RFC 3261 sec. 19.1, 25.1) and the character classes of the SIP grammar.
 *
 * Scanning is table-driven (one Uint8Array lookup per char) so that hostile input costs linear time: no regular
 * expressions on network data.
 */
import { SipParseError, type SipUri, type Uri } from './message.js';

// Bit flags of the character table; one byte per latin1 code.
export const C_TOKEN = 1;
export const C_UNRESERVED = 2;
export const C_USER = 4; // unreserved / user-unreserved
export const C_PASSWORD = 8;
export const C_PARAM = 16; // paramchar minus escapes
export const C_HEADER = 32; // hnv-unreserved / unreserved
export const C_HOST = 64; // hostname or IPv4 chars
export const C_SCHEME = 128;

export const CHAR_CLASS = new Uint8Array(256);
(() => {
  const add = (chars: string, flag: number) => {
    for (let i = 0; i < chars.length; i++) CHAR_CLASS[chars.charCodeAt(i)] |= flag;
  };
  const alnum = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const mark = "-_.!~*'()";
  add(alnum + "-.!%*_+`'~", C_TOKEN);
  add(alnum + mark, C_UNRESERVED | C_USER | C_PASSWORD | C_PARAM | C_HEADER);
  add('&=+$,;?/', C_USER);
  add('&=+$,', C_PASSWORD);
  add('[]/:&+$', C_PARAM);
  add('[]/?:+$', C_HEADER);
  add(alnum + '-.', C_HOST);
  add(alnum + '+-.', C_SCHEME);
})();

/** Host characters (C_HOST): 1, or 3 for the upper-case letters that a host is lower-cased for. */
const HOST_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) if ((CHAR_CLASS[c] & C_HOST) !== 0) HOST_CHAR[c] = c >= 65 && c <= 90 ? 3 : 1;

export function isTokenChar(code: number): boolean {
  return code < 256 && (CHAR_CLASS[code] & C_TOKEN) !== 0;
}

function fail(fault: string): never {
  throw new SipParseError(fault);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Check s[start,end) against a char class (allowing %HH escapes) and return it unescaped. */
function unescapeChecked(s: string, start: number, end: number, cls: number, what: string): string {
  let out = '';
  let runStart = start;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      const h = i + 2 < end ? hexValue(s.charCodeAt(i + 1)) : -1;
      const l = h >= 0 ? hexValue(s.charCodeAt(i + 2)) : -1;
      if (l < 0) fail(`bad escape in URI ${what}`);
      out += s.slice(runStart, i) + String.fromCharCode(h * 16 + l);
      i += 2;
      runStart = i + 1;
    } else if (c > 255 || (CHAR_CLASS[c] & cls) === 0) {
      fail(`bad character in URI ${what}`);
    }
  }
  return runStart === start ? s.slice(start, end) : out + s.slice(runStart, end);
}

const HEX = '0123456789ABCDEF';

/** Escape every char of s outside the class, so that unescapeChecked(escape(s)) === s. */
export function escapeUriPart(s: string, cls: number): string {
  let out = '';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    if ((CHAR_CLASS[c] & cls) === 0 || c === 37) {
      out += s.slice(runStart, i) + '%' + HEX[c >> 4] + HEX[c & 15];
      runStart = i + 1;
    }
  }
  return runStart === 0 ? s : out + s.slice(runStart);
}

/** Parse a port number (1-5 digits, <= 65535) at s[start,end). */
function parsePort(s: string, start: number, end: number): number {
  if (end === start || end - start > 5) fail('bad port');
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) fail('bad port');
    n = n * 10 + d;
  }
  if (n > 65535) fail('port out of range');
  return n;
}

/**
 * Read a host (hostname, IPv4 or bracketed IPv6 reference) starting at i and return it lower-cased; it ends at
 * i + host.length (every host character lower-cases to one character). Exported because Via sent-by uses the same
 * grammar.
 */
export function readHost(s: string, i: number, len: number = s.length): string {
  let upper = false;
  let seen = 0;
  let j = i;
  if (i < len && s.charCodeAt(i) === 91 /* [ */) {
    for (j = i + 1; j < len; j++) {
      const c = s.charCodeAt(j);
      if (c === 93 /* ] */) break;
      if (!(hexValue(c) >= 0 || c === 58 || c === 46)) fail('bad IPv6 reference');
      if (c >= 65 && c <= 70) upper = true;
    }
    if (j >= len || j === i + 1) fail('unterminated IPv6 reference');
    j++;
  } else {
    while (j < len) {
      const c = s.charCodeAt(j);
      const t = c < 256 ? HOST_CHAR[c] : 0;
      if (t === 0) break;
      seen |= t;
      j++;
    }
    if (j === i) fail('missing host');
    upper = seen === 3;
  }
  return upper ? s.slice(i, j).toLowerCase() : s.slice(i, j);
}

function parseSipUri(s: string, scheme: 'sip' | 'sips', start: number, len: number): SipUri {
  let i = start;
  let user: string | undefined;
  let password: string | undefined;
  // '@' cannot occur unescaped in hostport, params or headers, so the first one ends the userinfo.
  let at = s.indexOf('@', i);
  if (at >= len) at = -1;
  if (at >= 0) {
    let colon = -1;
    for (let j = i; j < at; j++) {
      if (s.charCodeAt(j) === 58) {
        colon = j;
        break;
      }
    }
    const userEnd = colon >= 0 ? colon : at;
    if (userEnd === i) fail('empty user in URI');
    user = unescapeChecked(s, i, userEnd, C_USER, 'user');
    if (colon >= 0) password = unescapeChecked(s, colon + 1, at, C_PASSWORD, 'password');
    i = at + 1;
  }
  const host = readHost(s, i, len);
  i += host.length;
  let port: number | undefined;
  if (i < len && s.charCodeAt(i) === 58) {
    let j = i + 1;
    while (j < len && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    port = parsePort(s, i + 1, j);
    i = j;
  }
  const params = new Map<string, string | null>();
  while (i < len && s.charCodeAt(i) === 59 /* ; */) {
    let j = ++i;
    let eq = -1;
    for (; j < len; j++) {
      const c = s.charCodeAt(j);
      if (c === 59 || c === 63) break;
      if (c === 61 && eq < 0) eq = j;
    }
    const nameEnd = eq >= 0 ? eq : j;
    if (nameEnd === i) fail('empty URI parameter');
    const name = unescapeChecked(s, i, nameEnd, C_PARAM, 'parameter');
    // an escaped name unescapes to something else than its text, so only a plain one may be looked up as written
    const lname = name.length === nameEnd - i ? lowerParamName(s, i, nameEnd) : name.toLowerCase();
    const value = eq >= 0 ? unescapeChecked(s, eq + 1, j, C_PARAM, 'parameter') : null;
    if (params.has(lname)) fail(`repeated URI parameter ${lname}`);
    params.set(lname, value);
    i = j;
  }
  const headers = new Map<string, string>();
  if (i < len && s.charCodeAt(i) === 63 /* ? */) {
    i++;
    for (;;) {
      let j = i;
      let eq = -1;
      for (; j < len; j++) {
        const c = s.charCodeAt(j);
        if (c === 38) break;
        if (c === 61 && eq < 0) eq = j;
      }
      if (eq <= i) fail('bad URI header');
      const name = unescapeChecked(s, i, eq, C_HEADER, 'header');
      if (headers.has(name)) fail('repeated URI header');
      headers.set(name, unescapeChecked(s, eq + 1, j, C_HEADER, 'header'));
      i = j;
      if (i >= len) break;
      i++;
    }
  }
  if (i !== len) fail('bad character in URI');
  const uri: SipUri = { kind: 'sip', scheme, host, params, headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

/** s.slice(start, end).toLowerCase() without the second string when there is nothing to lower (the usual case). */
export function lowerSlice(s: string, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.slice(start, end).toLowerCase();
  }
  return s.slice(start, end);
}

/**
 * The parameter names nearly every message carries. Handing out these constants instead of fresh slices lets Map
 * lookups use a hash computed once, instead of hashing each new name string.
 */
const COMMON_PARAM_NAMES: ReadonlyArray<readonly string[] | undefined> = (() => {
  const byLength: string[][] = [];
  for (const n of ['tag', 'branch', 'rport', 'received', 'transport', 'lr', 'maddr', 'ttl', 'user', 'method', 'expires', 'q', 'ob', 'reg-id', '+sip.instance']) {
    (byLength[n.length] ??= []).push(n);
  }
  return byLength;
})();

/** lowerSlice for a parameter name, returning the shared constant for the common ones. */
export function lowerParamName(s: string, start: number, end: number): string {
  const candidates = COMMON_PARAM_NAMES[end - start];
  if (candidates !== undefined) {
    for (let k = 0; k < candidates.length; k++) {
      const name = candidates[k];
      let i = 0;
      for (; i < name.length; i++) {
        let c = s.charCodeAt(start + i);
        if (c >= 65 && c <= 90) c += 32;
        if (c !== name.charCodeAt(i)) break;
      }
      if (i === name.length) return name;
    }
  }
  return lowerSlice(s, start, end);
}

/** Parse a URI as it appears in a Request-URI or inside <...> (all of s, or s[start, end)); throws SipParseError. */
export function parseUri(s: string, start = 0, len: number = s.length): Uri {
  let colon = -1;
  for (let i = start; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      colon = i;
      break;
    }
    if (c > 255 || (CHAR_CLASS[c] & C_SCHEME) === 0 || (i === start && !((c | 32) >= 97 && (c | 32) <= 122))) {
      fail('bad URI scheme');
    }
  }
  if (colon <= start) fail('URI without scheme');
  if (
    colon === start + 3 && (s.charCodeAt(start) | 32) === 115 && (s.charCodeAt(start + 1) | 32) === 105 &&
    (s.charCodeAt(start + 2) | 32) === 112
  ) {
    return parseSipUri(s, 'sip', colon + 1, len);
  }
  const scheme = s.slice(start, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(s, scheme, colon + 1, len);
  if (colon + 1 === len) fail('empty URI');
  for (let i = colon + 1; i < len; i++) {
    const c = s.charCodeAt(i);
    // absoluteURI chars: printable, no whitespace, no delimiters that end a name-addr or header.
    if (c <= 32 || c === 127 || c === 34 || c === 60 || c === 62 || c > 255) fail('bad character in URI');
  }
  return { kind: 'absolute', scheme, rest: s.slice(colon + 1, len) };
}

/** Format a URI; parseUri(formatUri(u)) equals u for every URI parseUri returns. */
export function formatUri(uri: Uri): string {
  if (uri.kind === 'absolute') return uri.scheme + ':' + uri.rest;
  let s = uri.scheme + ':';
  if (uri.user !== undefined) {
    s += escapeUriPart(uri.user, C_USER);
    if (uri.password !== undefined) s += ':' + escapeUriPart(uri.password, C_PASSWORD);
    s += '@';
  }
  s += uri.host;
  if (uri.port !== undefined) s += ':' + uri.port;
  if (uri.params.size > 0) for (const [name, value] of uri.params) {
    s += ';' + escapeUriPart(name, C_PARAM);
    if (value !== null) s += '=' + escapeUriPart(value, C_PARAM);
  }
  let first = true;
  if (uri.headers.size > 0) for (const [name, value] of uri.headers) {
    s += (first ? '?' : '&') + escapeUriPart(name, C_HEADER) + '=' + escapeUriPart(value, C_HEADER);
    first = false;
  }
  return s;
}
