/**
 * The header values every SIP message must carry (RFC 3261 sec. 8.1.1): Via, From, To, Call-ID, CSeq, and
 * Content-Length and Max-Forwards when present, parsed and checked once per message. The parser hands over where
 * the values are in the message text; the builders hand over header entries.
 */
import { SipParseError, type CoreHeaders, type HeaderEntry, type NameAddr, type Via } from './message.js';
import { CHAR_CLASS, C_TOKEN } from './uri.js';
import { parseBoundedDecimal, parseCSeq, parseNameAddr, parseVia, splitCommaList } from './header-values.js';

function fail(fault: string): never {
  throw new SipParseError(fault);
}

// The core headers (RFC 3261 sec. 8.1.1), by kind.
export const VIA = 1;
const FROM = 2;
const TO = 3;
const CALL_ID = 4;
const CSEQ = 5;
const CONTENT_LENGTH = 6;
const MAX_FORWARDS = 7;
export const CORE_KIND: ReadonlyMap<string, number> = new Map([
  ['Via', VIA], ['From', FROM], ['To', TO], ['Call-ID', CALL_ID], ['CSeq', CSEQ], ['Content-Length', CONTENT_LENGTH],
  ['Max-Forwards', MAX_FORWARDS],
]);
const CORE_NAMES = ['', 'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length', 'Max-Forwards'];

/**
 * Where the core header values are, four numbers each in header order: kind, header index, start, end. A start
 * of -1 means the value is the entry's value string; otherwise it is [start, end) of the message text, which the
 * value parsers read faster than a slice of it.
 */
export type CoreRanges = number[];

/**
 * Parse the core headers (RFC 3261 sec. 8.1.1) from header entries. `requestMethod` is given for requests so that
 * the CSeq method can be checked against it (sec. 8.2.1 / RFC 4475 3.1.2.17).
 */
export function parseCoreHeaders(headers: HeaderEntry[], requestMethod?: string): CoreHeaders {
  const ranges: CoreRanges = [];
  for (let k = 0; k < headers.length; k++) {
    const kind = CORE_KIND.get(headers[k].name);
    if (kind !== undefined) ranges.push(kind, k, -1, 0);
  }
  return coreHeaders('', headers, ranges, requestMethod);
}

export function coreHeaders(text: string, headers: HeaderEntry[], ranges: CoreRanges, requestMethod: string | undefined): CoreHeaders {
  const via: Via[] = [];
  // offsets in `ranges` of the single-valued headers, -1 while not seen
  const seen = [-1, -1, -1, -1, -1, -1, -1, -1];
  let nextComma = -1;
  for (let r = 0; r < ranges.length; r += 4) {
    const kind = ranges[r];
    if (kind !== VIA) {
      if (seen[kind] >= 0) fail(`more than one ${CORE_NAMES[kind]}`);
      seen[kind] = r;
      continue;
    }
    let s = text;
    let start = ranges[r + 2];
    let end = ranges[r + 3];
    let comma: boolean;
    if (start < 0) {
      s = headers[ranges[r + 1]].value;
      start = 0;
      end = s.length;
      comma = s.indexOf(',') >= 0;
    } else {
      // ranges come in message order, so one forward search serves all the Via lines
      if (nextComma < start) {
        nextComma = s.indexOf(',', start);
        if (nextComma < 0) nextComma = s.length;
      }
      comma = nextComma < end;
    }
    // one value per line is the common case; split only when a comma is present at all
    if (!comma) via.push(parseVia(s, start, end));
    else for (const part of splitCommaList(s.slice(start, end))) via.push(parseVia(part));
  }
  if (via.length === 0) fail('missing Via');
  if (seen[FROM] < 0) fail('missing From');
  if (seen[TO] < 0) fail('missing To');
  if (seen[CALL_ID] < 0) fail('missing Call-ID');
  if (seen[CSEQ] < 0) fail('missing CSeq');
  let v = valueAt(text, headers, ranges, seen[FROM]);
  const from: NameAddr = parseNameAddr(v, rangeStart, rangeEnd);
  v = valueAt(text, headers, ranges, seen[TO]);
  const to: NameAddr = parseNameAddr(v, rangeStart, rangeEnd);
  v = valueAt(text, headers, ranges, seen[CALL_ID]);
  checkCallId(v, rangeStart, rangeEnd);
  const callId = headers[ranges[seen[CALL_ID] + 1]].value;
  v = valueAt(text, headers, ranges, seen[CSEQ]);
  const cseq = parseCSeq(v, rangeStart, rangeEnd);
  if (requestMethod !== undefined && cseq.method !== requestMethod) fail('CSeq method does not match the request method');
  const core: CoreHeaders = { via, from, to, callId, cseq };
  if (seen[CONTENT_LENGTH] >= 0) {
    v = valueAt(text, headers, ranges, seen[CONTENT_LENGTH]);
    const n = parseBoundedDecimal(v, rangeStart, rangeEnd, 0x7fffffff);
    if (n < 0) fail('bad Content-Length');
    core.contentLength = n;
  }
  if (seen[MAX_FORWARDS] >= 0) {
    v = valueAt(text, headers, ranges, seen[MAX_FORWARDS]);
    const n = parseBoundedDecimal(v, rangeStart, rangeEnd, 255);
    if (n < 0) fail('bad Max-Forwards');
    core.maxForwards = n;
  }
  return core;
}

// Set by valueAt: where in the string it returns the value lies.
let rangeStart = 0;
let rangeEnd = 0;

function valueAt(text: string, headers: HeaderEntry[], ranges: CoreRanges, r: number): string {
  if (ranges[r + 2] >= 0) {
    rangeStart = ranges[r + 2];
    rangeEnd = ranges[r + 3];
    return text;
  }
  const v = headers[ranges[r + 1]].value;
  rangeStart = 0;
  rangeEnd = v.length;
  return v;
}

// callid = word [ "@" word ] (RFC 3261 sec. 25.1); word is token plus a few separators.
const CALLID_WORD = new Uint8Array(256);
for (let c = 0; c < 256; c++) if ((CHAR_CLASS[c] & C_TOKEN) !== 0) CALLID_WORD[c] = 1;
for (const ch of '()<>:\\"/[]?{}') CALLID_WORD[ch.charCodeAt(0)] = 1;

function checkCallId(s: string, start: number, end: number): void {
  let at = -1;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 64) {
      if (at >= 0 || i === start || i === end - 1) fail('bad Call-ID');
      at = i;
    } else if (c > 255 || CALLID_WORD[c] === 0) {
      fail('bad Call-ID');
    }
  }
  if (end === start) fail('bad Call-ID');
}
