// Properties of the SIP message layer on generated messages: parse -> serialize -> parse is stable and
// serialize reaches a fixed point after one round; hostile bytes only ever give SipParseError.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/parser.js';
import { serializeMessage } from '../../src/sip/serializer.js';
import { unchangedReceivedText } from '../../src/sip/wire-image.js';
import { formatNameAddr, formatVia } from '../../src/sip/header-values.js';
import { formatUri } from '../../src/sip/uri.js';
import { SipParseError, type SipMessage, type SipUri, type NameAddr, type Via } from '../../src/sip/message.js';

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~".split('');
const token = (max = 12) => fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: max });
const lowerToken = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'.split('')), minLength: 1, maxLength: 8 });
/** Any latin1 text without line breaks: display names, user parts, reason phrases. */
const binaryText = (min = 0, max = 16) =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((b) => Buffer.from(b.map((c) => (c === 10 || c === 13 ? 32 : c))).toString('latin1'));
const host = fc.oneof(
  fc.array(lowerToken.filter((t) => /^[a-z0-9-]+$/.test(t)), { minLength: 1, maxLength: 3 }).map((l) => l.join('.')),
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.')),
  fc.constantFrom('[2001:db8::1]', '[::1]', '[fe80::a:b:c]'),
);
const params = fc.uniqueArray(fc.tuple(lowerToken, fc.option(lowerToken, { nil: null })), { selector: (p) => p[0], maxLength: 3 })
  .map((l) => new Map<string, string | null>(l));
const sipUri = (withHeaders: boolean): fc.Arbitrary<SipUri> =>
  fc.record({
    scheme: fc.constantFrom('sip' as const, 'sips' as const),
    user: fc.option(binaryText(1, 10), { nil: undefined }),
    password: fc.option(binaryText(0, 6), { nil: undefined }),
    host,
    port: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    params: fc.uniqueArray(fc.tuple(binaryText(1, 6).map((s) => s.toLowerCase()), fc.option(binaryText(0, 6), { nil: null })), { selector: (p) => p[0], maxLength: 3 })
      .map((l) => new Map<string, string | null>(l)),
    headers: withHeaders
      ? fc.uniqueArray(fc.tuple(binaryText(1, 6), binaryText(0, 6)), { selector: (p) => p[0], maxLength: 2 }).map((l) => new Map(l))
      : fc.constant(new Map<string, string>()),
  }).map((u) => {
    const out: SipUri = { kind: 'sip', scheme: u.scheme, host: u.host, params: u.params, headers: u.headers };
    if (u.user !== undefined) {
      out.user = u.user;
      if (u.password !== undefined) out.password = u.password;
    }
    if (u.port !== undefined) out.port = u.port;
    return out;
  });
const nameAddr: fc.Arbitrary<NameAddr> = fc.record({
  displayName: fc.option(binaryText(0, 12), { nil: undefined }),
  uri: fc.oneof(sipUri(true), fc.constant({ kind: 'absolute' as const, scheme: 'tel', rest: '+15551234' })),
  params,
}).map((n) => (n.displayName === undefined ? { uri: n.uri, params: n.params } : n));
const via: fc.Arbitrary<Via> = fc.record({
  protocol: fc.constant('SIP/2.0'),
  transport: fc.constantFrom('UDP', 'TCP', 'TLS', 'WS'),
  host,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  params,
}).map((v) => (v.port === undefined ? { protocol: v.protocol, transport: v.transport, host: v.host, params: v.params } : v));

/** A header name as a sender may spell it: canonical, compact or in odd case. */
const spelled = (long: string, compact?: string) =>
  fc.constantFrom(long, long.toUpperCase(), long.toLowerCase(), ...(compact ? [compact, compact.toUpperCase()] : []));
/** A value as a sender may write it: extra blanks around, folded at a space. */
const wire = (value: string) =>
  fc.tuple(fc.constantFrom('', ' ', '\t'), fc.constantFrom('', ' '), fc.boolean()).map(([pre, post, fold]) => {
    const sp = value.indexOf(' ');
    const v = fold && sp > 0 ? value.slice(0, sp) + '\r\n  ' + value.slice(sp + 1) : value;
    return pre + v + post;
  });
const header = (name: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.tuple(name, value.chain(wire)).map(([n, v]) => `${n}:${v}\r\n`);

const message = fc.record({
  start: fc.oneof(
    fc.tuple(token(), sipUri(false)).map(([m, u]) => ({ line: `${m} ${formatUri(u)} SIP/2.0`, method: m })),
    fc.tuple(fc.integer({ min: 100, max: 699 }), binaryText(0, 20)).map(([s, r]) => ({ line: `SIP/2.0 ${s} ${r.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, 'x')}`, method: 'INVITE' })),
  ),
  vias: fc.array(via, { minLength: 1, maxLength: 3 }),
  from: nameAddr,
  to: nameAddr,
  callId: token(20),
  seq: fc.nat(),
  extra: fc.array(fc.tuple(token(10), binaryText(0, 20).map((v) => v.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '').trim())), { maxLength: 4 }),
  body: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1')),
  clZeros: fc.constantFrom('', '0', '00'),
}).chain((g) =>
  fc.tuple(
    header(spelled('Via', 'v'), fc.constant(g.vias.map(formatVia).join(', '))),
    header(spelled('From', 'f'), fc.constant(formatNameAddr(g.from))),
    header(spelled('To', 't'), fc.constant(formatNameAddr(g.to))),
    header(spelled('Call-ID', 'i'), fc.constant(g.callId)),
    header(spelled('CSeq'), fc.constant(`${g.seq} ${g.start.method}`)),
    header(spelled('Max-Forwards'), fc.constant('70')),
    fc.tuple(...g.extra.map(([n, v]) => header(fc.constant('X-' + n), fc.constant(v)))),
    header(spelled('Content-Length', 'l'), fc.constant(g.clZeros + g.body.length)),
  ).chain((lines) => fc.shuffledSubarray(lines.flat(), { minLength: lines.flat().length }))
    .map((lines) => `${g.start.line}\r\n${lines.join('')}\r\n${g.body}`),
);

describe('SIP round trip on generated messages', () => {
  it('parse(serialize(parse(m))) equals parse(m), and serialize is a fixed point', () => {
    fc.assert(
      fc.property(message, (raw) => {
        const m1 = parseMessage(raw);
        const s1 = serializeMessage(m1);
        const m2 = parseMessage(Buffer.from(s1, 'latin1'));
        expect(m2).toEqual(m1);
        expect(serializeMessage(m2)).toBe(s1);
      }),
      { numRuns: 400 },
    );
  });

  it('a received message is written back as its text exactly when that text is what a rebuild writes', () => {
    fc.assert(
      fc.property(message, (raw) => {
        const m = parseMessage(raw);
        // structuredClone keeps every field but not the received text, so the copy is written field by field
        const rebuilt = serializeMessage(structuredClone(m));
        expect(serializeMessage(m)).toBe(rebuilt);
        const kept = unchangedReceivedText(m);
        if (kept !== undefined) expect(kept).toBe(rebuilt);
        // what the serializer writes is canonical, so its parse keeps the text
        expect(unchangedReceivedText(parseMessage(rebuilt))).toBe(rebuilt);
      }),
      { numRuns: 400 },
    );
  });
});

const TORTURE = new URL('../fixtures/rfc4475/', import.meta.url).pathname;
const seeds = readdirSync(TORTURE).filter((f) => f.endsWith('.dat')).map((f) => readFileSync(TORTURE + f));

/** Parse, and if it parses, check the round trip too; anything thrown but SipParseError fails the property. */
function survives(data: Buffer): boolean {
  let m: SipMessage;
  try {
    m = parseMessage(data);
  } catch (e) {
    if (e instanceof SipParseError) return false;
    throw e;
  }
  const s1 = serializeMessage(m);
  expect(serializeMessage(structuredClone(m))).toBe(s1);
  const m2 = parseMessage(s1);
  expect(unchangedReceivedText(m2)).toBe(s1);
  expect(serializeMessage(m2)).toBe(s1);
  expect(parseMessage(serializeMessage(m2))).toEqual(m2);
  return true;
}

describe('SIP parser on hostile bytes', () => {
  it('random bytes give a message or SipParseError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => void survives(Buffer.from(b))), { numRuns: 2000 });
  });

  it('mutated torture messages give a message or SipParseError, nothing else', () => {
    let parsedCount = 0;
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.constantFrom(0, 9, 10, 13, 32, 34, 44, 58, 59, 60, 62, 64, 92, 0xff) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), byte: fc.nat(40) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seed, muts) => {
        let b = Buffer.from(seed);
        for (const mu of muts) {
          const at = mu.at % (b.length + 1);
          if (mu.kind === 'flip' && b.length > 0) b[at % b.length] = mu.byte;
          else if (mu.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from([mu.byte]), b.subarray(at)]);
          else b = Buffer.concat([b.subarray(0, at), b.subarray(at + mu.byte)]);
        }
        if (survives(b)) parsedCount++;
      }),
      { numRuns: 3000 },
    );
    // the mutations must leave enough messages whole for the round-trip half of survives() to be exercised
    expect(parsedCount).toBeGreaterThan(100);
  });
});
