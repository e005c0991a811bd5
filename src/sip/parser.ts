/**
 * SIP message parser (RFC 3261 sec. 7, 25). Strict on what the stack relies on (start line, the core headers,
 * Content-Length), lazy on the rest: other headers are kept as strings in order and parsed by whoever needs them.
 *
 * Scanning uses indexOf and charCode loops only, so time is linear in the input whatever the bytes are.
 */
import { SipParseError, canonicalHeaderName, type HeaderEntry, type SipMessage } from './message.js';
import { CHAR_CLASS, C_TOKEN, parseUri } from './uri.js';
import { parseBoundedDecimal } from './header-values.js';
import { CORE_KIND, coreHeaders, type CoreRanges } from './core-headers.js';
import { ReceivedRequest, ReceivedResponse, snapshotHeaders, type WireImage } from './wire-image.js';

export { parseCoreHeaders } from './core-headers.js';

/** Largest message accepted by default: the largest UDP payload. */
export const DEFAULT_MAX_MESSAGE_BYTES = 65535;

export interface ParseOptions {
  /** Messages longer than this are refused with 513 (RFC 3261 sec. 21.5.14). */
  maxMessageBytes?: number;
}

/**
 * Wire spelling -> canonical name. Most messages use a few dozen spellings, so a hit costs one native compare: no
 * character loop, no slice, no toLowerCase, no string hashing. Only valid names get in, so a hit needs no
 * validation either. The slot comes from the length and the first and last characters (known without a pass over
 * the name); buckets are short and the table bounded, so a peer inventing or colliding names gains nothing.
 */
interface Spelling {
  raw: string;
  canonical: string;
  /** The wire spelling is the canonical name itself, as the serializer writes it. */
  exact: boolean;
  /** Which core header it names (VIA ... MAX_FORWARDS), 0 for any other. */
  core: number;
}
const NAME_TABLE_MASK = 1023;
const NAME_TABLE: Array<Spelling[] | undefined> = new Array(NAME_TABLE_MASK + 1).fill(undefined);
let nameCacheSize = 0;
const NAME_CACHE_LIMIT = 2048;

function nameSlot(s: string, start: number, end: number): number {
  return ((end - start) * 977 + s.charCodeAt(start) * 31 + s.charCodeAt(end - 1)) & NAME_TABLE_MASK;
}

function knownSpelling(s: string, start: number, end: number): Spelling | undefined {
  const bucket = NAME_TABLE[nameSlot(s, start, end)];
  if (bucket === undefined) return undefined;
  for (let k = 0; k < bucket.length; k++) {
    const e = bucket[k];
    if (e.raw.length === end - start && s.startsWith(e.raw, start)) return e;
  }
  return undefined;
}

/** s[start,end) is a valid header name not in the table. */
function newSpelling(s: string, start: number, end: number): Spelling {
  const slot = nameSlot(s, start, end);
  const bucket = NAME_TABLE[slot];
  const raw = s.slice(start, end);
  const canonical = canonicalHeaderName(raw);
  const entry: Spelling = { raw, canonical, exact: raw === canonical, core: CORE_KIND.get(canonical) ?? 0 };
  // Short buckets too: crafted names that collide must not turn each lookup into a long scan.
  if (nameCacheSize < NAME_CACHE_LIMIT && (bucket === undefined || bucket.length < 4)) {
    // A slice may keep the whole message alive; the table keeps copies.
    entry.raw = Buffer.from(raw, 'latin1').toString('latin1');
    if (canonical === raw) entry.canonical = entry.raw;
    nameCacheSize++;
    if (bucket === undefined) NAME_TABLE[slot] = [entry];
    else bucket.push(entry);
  }
  return entry;
}

/** s[start,end) is exactly "SIP/2.0", as the serializer writes it. */
function isSip20(s: string, start: number, end: number): boolean {
  return (
    end - start === 7 && s.charCodeAt(start) === 83 && s.charCodeAt(start + 1) === 73 && s.charCodeAt(start + 2) === 80 &&
    s.charCodeAt(start + 3) === 47 && s.charCodeAt(start + 4) === 50 && s.charCodeAt(start + 5) === 46 && s.charCodeAt(start + 6) === 48
  );
}

/** First index at or after i in [i, end) that is not SP (the request line's words are separated by runs of SP). */
function wordStart(s: string, i: number, end: number): number {
  while (i < end && s.charCodeAt(i) === 32) i++;
  return i;
}

/** End of the word starting at i: the next SP, or `end`. */
function wordEnd(s: string, i: number, end: number): number {
  const sp = s.indexOf(' ', i);
  return sp < 0 || sp > end ? end : sp;
}

function fail(fault: string, status = 400): never {
  throw new SipParseError(fault, status);
}

function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** Parse "SIP/x.y"; returns true for 2.0, false for another well-formed version, throws on junk. */
function checkVersion(s: string, start: number, end: number): boolean {
  if (isSip20(s, start, end)) return true; // the only version there is
  const slash = s.indexOf('/', start);
  if (slash !== start + 3 || s.slice(start, slash).toUpperCase() !== 'SIP') fail('bad SIP version');
  const dot = s.indexOf('.', slash);
  if (dot < 0 || dot >= end) fail('bad SIP version');
  const major = parseBoundedDecimal(s, slash + 1, dot, 999);
  const minor = parseBoundedDecimal(s, dot + 1, end, 999);
  if (major < 0 || minor < 0) fail('bad SIP version');
  return major === 2 && minor === 0;
}

// One char class, no alternation: linear time on any input.
const NOT_BINARY = /[^\x00-\xff]/;

/**
 * Parse one SIP message from a datagram or from one frame cut by the stream framer. A body longer than
 * Content-Length is truncated (RFC 3261 sec. 18.3); a shorter one is an error; with no Content-Length the body is
 * the rest of the data.
 */
export function parseMessage(data: Buffer | string, options?: ParseOptions): SipMessage {
  const max = options?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (data.length > max) fail('message too large', 513);
  if (typeof data === 'string' && NOT_BINARY.test(data)) fail('text is not a binary (latin1) string');
  const s = typeof data === 'string' ? data : data.toString('latin1');
  const len = s.length;
  let pos = 0;
  // Stray CRLFs before the start line are keep-alives (RFC 3261 sec. 7.5).
  while (pos < len && (s.charCodeAt(pos) === 13 || s.charCodeAt(pos) === 10)) pos++;
  const startPos = pos;

  let nl = s.indexOf('\n', pos);
  if (nl < 0) fail('no end of start line');
  let lineEnd = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  // The next CR at or after pos, found once per CR (not once per line), so LF-only text stays linear.
  let nextCr = s.indexOf('\r', pos);
  if (nextCr < 0) nextCr = len;
  if (nextCr < lineEnd) fail('bare CR in start line');
  // Whether the text is exactly what serializeMessage writes for the parsed message (see wire-image.ts).
  let canonical = lineEnd === nl - 1;

  let method: string | undefined; // set for a request
  let uriStart = 0;
  let uriEnd = 0;
  let status = 0;
  let reason = '';
  if (s.charCodeAt(pos) === 83 && s.charCodeAt(pos + 1) === 73 && s.charCodeAt(pos + 2) === 80 && s.charCodeAt(pos + 3) === 47) {
    const sp = s.indexOf(' ', pos);
    if (sp < 0 || sp > lineEnd) fail('bad status line');
    if (!checkVersion(s, pos, sp)) fail('unsupported SIP version', 505);
    const codeEnd = sp + 4;
    if (codeEnd > lineEnd || (codeEnd < lineEnd && s.charCodeAt(codeEnd) !== 32)) fail('bad status code');
    status = parseBoundedDecimal(s, sp + 1, codeEnd, 699);
    if (status < 100) fail('bad status code');
    reason = codeEnd < lineEnd ? s.slice(codeEnd + 1, lineEnd) : '';
    canonical &&= codeEnd < lineEnd && isSip20(s, pos, sp);
    for (let i = 0; i < reason.length; i++) {
      const c = reason.charCodeAt(i);
      if ((c < 32 && c !== 9) || c === 127) fail('control character in reason phrase');
    }
  } else {
    // Method SP Request-URI SP SIP-Version; runs of SP are tolerated (RFC 4475 3.1.2.9/10), extra words are not.
    const methodStart = wordStart(s, pos, lineEnd);
    const methodEnd = wordEnd(s, methodStart, lineEnd);
    uriStart = wordStart(s, methodEnd, lineEnd);
    uriEnd = wordEnd(s, uriStart, lineEnd);
    const versionStart = wordStart(s, uriEnd, lineEnd);
    const versionEnd = wordEnd(s, versionStart, lineEnd);
    if (versionStart === versionEnd || wordStart(s, versionEnd, lineEnd) !== lineEnd) fail('bad request line');
    for (let k = methodStart; k < methodEnd; k++) {
      const c = s.charCodeAt(k);
      if (c > 255 || (CHAR_CLASS[c] & C_TOKEN) === 0) fail('bad method');
    }
    if (!checkVersion(s, versionStart, versionEnd)) fail('unsupported SIP version', 505);
    method = s.slice(methodStart, methodEnd);
    canonical &&= methodStart === pos && uriStart === methodEnd + 1 && versionStart === uriEnd + 1 && versionEnd === lineEnd && isSip20(s, versionStart, versionEnd);
  }

  // Header lines; a line starting with SP/HTAB continues the previous one (folding becomes one SP).
  const headers: HeaderEntry[] = [];
  const ranges: CoreRanges = [];
  let lastCore = -1; // offset in ranges of the last header line when it is a core header
  pos = nl + 1;
  for (;;) {
    nl = s.indexOf('\n', pos);
    if (nl < 0) fail('headers not terminated by an empty line');
    lineEnd = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    if (lineEnd === pos) {
      canonical &&= lineEnd === nl - 1;
      pos = nl + 1;
      break;
    }
    if (nextCr < pos) {
      nextCr = s.indexOf('\r', pos);
      if (nextCr < 0) nextCr = len;
    }
    if (nextCr < lineEnd) fail('bare CR in header');
    const first = s.charCodeAt(pos);
    if (isWs(first)) {
      if (headers.length === 0) fail('continuation line before the first header');
      canonical = false;
      let a = pos;
      let b = lineEnd;
      while (a < b && isWs(s.charCodeAt(a))) a++;
      while (b > a && isWs(s.charCodeAt(b - 1))) b--;
      if (b > a) {
        const last = headers[headers.length - 1];
        last.value = last.value.length === 0 ? s.slice(a, b) : last.value + ' ' + s.slice(a, b);
        if (lastCore >= 0) ranges[lastCore + 2] = -1; // no longer one range of the text
      }
    } else {
      // A name already in the table, then optional blanks, then the colon: the usual line.
      let name: Spelling | undefined;
      let nameEnd = pos;
      let i = pos;
      const colon = s.indexOf(':', pos);
      if (colon > pos && colon < lineEnd) {
        nameEnd = colon;
        while (nameEnd > pos && isWs(s.charCodeAt(nameEnd - 1))) nameEnd--;
        if (nameEnd > pos) name = knownSpelling(s, pos, nameEnd);
        i = colon + 1;
      }
      if (name === undefined) {
        i = pos;
        while (i < lineEnd) {
          const c = s.charCodeAt(i);
          if (c > 255 || (CHAR_CLASS[c] & C_TOKEN) === 0) break;
          i++;
        }
        nameEnd = i;
        if (i === pos || (i < lineEnd && s.charCodeAt(i) !== 58 && !isWs(s.charCodeAt(i)))) fail('bad header name');
        while (i < lineEnd && isWs(s.charCodeAt(i))) i++;
        if (i >= lineEnd || s.charCodeAt(i) !== 58) fail('bad header line');
        i++;
        name = newSpelling(s, pos, nameEnd);
      }
      while (i < lineEnd && isWs(s.charCodeAt(i))) i++;
      let b = lineEnd;
      while (b > i && isWs(s.charCodeAt(b - 1))) b--;
      // "Name: value" CRLF: nothing around the colon but one SP, nothing after the value
      canonical &&= name.exact && i === nameEnd + 2 && s.charCodeAt(nameEnd + 1) === 32 && b === lineEnd && lineEnd === nl - 1;
      if (name.core !== 0) {
        lastCore = ranges.length;
        ranges.push(name.core, headers.length, i, b);
      } else {
        lastCore = -1;
      }
      headers.push({ name: name.canonical, value: s.slice(i, b) });
    }
    pos = nl + 1;
  }

  const parsed = coreHeaders(s, headers, ranges, method);
  let body: string;
  if (parsed.contentLength !== undefined) {
    if (len - pos < parsed.contentLength) fail('body shorter than Content-Length');
    body = s.slice(pos, pos + parsed.contentLength);
    canonical &&= pos + parsed.contentLength === len;
  } else {
    body = s.slice(pos);
    canonical = false; // the serializer adds a Content-Length
  }
  const wire: WireImage | undefined = canonical
    ? {
      text: startPos === 0 ? s : s.slice(startPos),
      method: method ?? '',
      uriText: s.slice(uriStart, uriEnd),
      status,
      reason,
      snapshot: snapshotHeaders(headers),
      body,
    }
    : undefined;
  if (method !== undefined) {
    const uri = parseUri(s, uriStart, uriEnd);
    if (uri.kind === 'sip' && uri.headers.size > 0) fail('headers in Request-URI');
    return new ReceivedRequest(method, uri, headers, parsed, body, wire);
  }
  return new ReceivedResponse(status, reason, headers, parsed, body, wire);
}
