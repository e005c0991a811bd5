import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/parser.js';
import { buildRequest, buildResponse, serializeMessage, SipBuildError } from '../../src/sip/serializer.js';
import { SipParseError, getHeader, getHeaders, type SipMessage, type SipRequest, type SipResponse, type SipUri } from '../../src/sip/message.js';

const crlf = (lines: string[]) => lines.join('\r\n');
const INVITE = crlf([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Content-Type: application/sdp',
  'Content-Length: 4',
  '',
  'v=0\r',
]);

const refusal = (data: string) => {
  try {
    parseMessage(data);
  } catch (e) {
    if (e instanceof SipParseError) return { fault: e.fault, status: e.status };
    throw e;
  }
  throw new Error('parsed');
};

describe('parseMessage', () => {
  it('parses a request with its core headers', () => {
    const m = parseMessage(Buffer.from(INVITE, 'latin1')) as SipRequest;
    expect(m.type).toBe('request');
    expect(m.method).toBe('INVITE');
    expect((m.uri as SipUri).user).toBe('bob');
    expect(m.parsed.via[0].params.get('rport')).toBeNull();
    expect(m.parsed.from.params.get('tag')).toBe('1928301774');
    expect(m.parsed.to.displayName).toBe('Bob');
    expect(m.parsed.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(m.parsed.maxForwards).toBe(70);
    expect(m.body).toBe('v=0\r');
  });

  it('maps compact and odd-case names to canonical ones and unfolds continuation lines', () => {
    const m = parseMessage(crlf([
      'OPTIONS sip:a@b SIP/2.0', 'v: SIP/2.0/TCP h;branch=z9hG4bK1,', '  SIP/2.0/UDP g;branch=z9hG4bK2',
      'f: <sip:x@y>;tag=1', 't: <sip:a@b>', 'i: abc', 'cSeQ: 1', '\tOPTIONS', 'l: 0', 'X-Thing: one', ' two', '', '',
    ]));
    expect(m.headers.map((h) => h.name)).toEqual(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length', 'X-Thing']);
    expect(m.parsed.via.map((v) => v.host)).toEqual(['h', 'g']);
    expect(getHeader(m, 'x-thing')).toBe('one two');
  });

  it('truncates a body longer than Content-Length and refuses a shorter one', () => {
    const long = INVITE + 'extra';
    expect(parseMessage(long).body).toBe('v=0\r');
    expect(refusal(INVITE.slice(0, -1))).toEqual({ fault: 'body shorter than Content-Length', status: 400 });
  });

  it('takes the rest as body when a datagram has no Content-Length', () => {
    const m = parseMessage(INVITE.replace('Content-Length: 4\r\n', ''));
    expect(m.parsed.contentLength).toBeUndefined();
    expect(m.body).toBe('v=0\r');
  });

  it('accepts bare LF line ends and leading CRLF keep-alives', () => {
    const m = parseMessage('\r\n\r\n' + INVITE.replace(/\r\n/g, '\n'));
    expect(m.parsed.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
  });

  it('parses responses, with an empty reason phrase too', () => {
    const m = parseMessage(crlf([
      'SIP/2.0 180 ', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1;received=192.0.2.4', 'From: <sip:x@y>;tag=1',
      'To: <sip:a@b>;tag=2', 'Call-ID: c', 'CSeq: 1 INVITE', 'Content-Length: 0', '', '',
    ]));
    expect(m.type === 'response' && [m.status, m.reason]).toEqual([180, '']);
    expect(m.parsed.via[0].params.get('received')).toBe('192.0.2.4');
  });

  it.each([
    ['SIP/3.0 200 OK', 505, 'unsupported SIP version'],
    ['SIP/2.0 099 Low', 400, 'bad status code'],
    ['SIP/2.0 20 OK', 400, 'bad status code'],
    ['INVITE sip:a@b SIP/2.1', 505, 'unsupported SIP version'],
    ['INVITE sip:a@b', 400, 'bad request line'],
    ['INV;TE sip:a@b SIP/2.0', 400, 'bad method'],
    ['INVITE sip:a@b?x=y SIP/2.0', 400, 'headers in Request-URI'],
  ])('refuses start line %s', (line, status, why) => {
    const r = refusal(INVITE.replace(/^[^\r]*/, line));
    expect(r.status).toBe(status);
    expect(r.fault).toContain(why);
  });

  it.each([
    ['Max-Forwards: 70', 'Max-Forwards: 256', 'bad Max-Forwards'],
    ['CSeq: 314159 INVITE', 'CSeq: 314159 BYE', 'CSeq method'],
    ['Call-ID: a84b4c76e66710@pc33.atlanta.example.com', 'Call-ID: a b', 'bad Call-ID'],
    ['Content-Length: 4', 'Content-Length: -4', 'bad Content-Length'],
    ['Content-Length: 4', 'Content-Length: 4\r\nl: 4', 'more than one Content-Length'],
    ['Contact: <sip:alice@pc33.atlanta.example.com>', 'Contact <sip:x@y>', 'bad header line'],
    ['Contact: <sip:alice@pc33.atlanta.example.com>', 'Cont@ct: x', 'bad header name'],
    ['Contact: <sip:alice@pc33.atlanta.example.com>', 'Contact: a\rb', 'bare CR'],
    ['Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport', 'Via: SIP/2.0/UDP', 'bad Via sent-by'],
  ])('refuses header %s -> %s', (from, to, why) => {
    expect(refusal(INVITE.replace(from, to)).fault).toContain(why);
  });

  it('refuses a continuation before any header, a missing empty line and oversize data', () => {
    expect(refusal(INVITE.replace('\r\nVia', '\r\n Via')).fault).toContain('continuation');
    expect(refusal(INVITE.slice(0, INVITE.indexOf('\r\n\r\n'))).fault).toContain('empty line');
    expect(refusal(INVITE + ' '.repeat(70000)).status).toBe(513);
  });
});

describe('serializeMessage and builders', () => {
  it('writes Content-Length from the body', () => {
    const m = parseMessage(INVITE);
    m.body = 'v=0\r\no=x\r\n';
    const out = serializeMessage(m);
    expect(out).toContain('Content-Length: 10\r\n');
    expect(parseMessage(out).body).toBe(m.body);
  });

  it('builds a valid request with Max-Forwards and Content-Length added', () => {
    const r = buildRequest({
      method: 'REGISTER', uri: 'sip:registrar.example.com',
      headers: [['v', 'SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKnashds7;rport'], ['From', '<sip:100@example.com>;tag=ab'],
        ['To', '<sip:100@example.com>'], ['Call-ID', 'reg-1@192.0.2.9'], ['CSeq', '1 REGISTER'], ['Contact', '<sip:100@192.0.2.9>']],
    });
    expect(r.parsed.maxForwards).toBe(70);
    expect(r.parsed.contentLength).toBe(0);
    expect(r.headers[0].name).toBe('Via');
    expect(parseMessage(serializeMessage(r))).toEqual(r);
  });

  it('writes a received message back as its bytes until something in it changes', () => {
    const RESPONSE = crlf([
      'SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>;tag=2',
      'Call-ID: x@y', 'CSeq: 1 INVITE', 'Content-Length: 0', '', '',
    ]);
    expect(serializeMessage(parseMessage(INVITE))).toBe(INVITE);
    expect(serializeMessage(parseMessage('\r\n\r\n' + INVITE))).toBe(INVITE);
    expect(serializeMessage(parseMessage(RESPONSE))).toBe(RESPONSE);
    const changes: Array<[string, (m: SipMessage) => void, string]> = [
      ['a value set in place', (m) => { m.headers[1].value += ' ;x=1'; }, ' ;x=1\r\n'],
      ['an entry replaced', (m) => { m.headers[0] = { name: 'Via', value: 'SIP/2.0/UDP h;branch=z9hG4bKnew' }; }, 'branch=z9hG4bKnew'],
      ['an entry renamed', (m) => { m.headers[1].name = 'X-Hops'; }, 'X-Hops: '],
      ['an entry added', (m) => { m.headers.push({ name: 'Subject', value: 'hello' }); }, 'Subject: hello\r\n'],
      ['the body', (m) => { m.body = ''; }, 'Content-Length: 0\r\n\r\n'],
    ];
    for (const [what, change, expected] of changes) {
      for (const text of [INVITE, RESPONSE]) {
        const m = parseMessage(text);
        change(m);
        const out = serializeMessage(m);
        expect(out, what).toContain(expected);
        expect(out, what).toBe(serializeMessage(structuredClone(m)));
      }
    }
    const req = parseMessage(INVITE) as SipRequest;
    (req.uri as SipUri).params.set('transport', 'tcp');
    expect(serializeMessage(req)).toContain('INVITE sip:bob@biloxi.example.com;transport=tcp SIP/2.0\r\n');
    req.method = 'OPTIONS';
    expect(serializeMessage(req)).toContain('OPTIONS sip:bob@');
    const res = parseMessage(RESPONSE) as SipResponse;
    res.status = 183;
    res.reason = 'Session Progress';
    expect(serializeMessage(res)).toMatch(/^SIP\/2\.0 183 Session Progress\r\n/);
    // a message not written canonically is rebuilt, never echoed
    const odd = INVITE.replace('Max-Forwards: 70', 'max-forwards:70');
    expect(serializeMessage(parseMessage(odd))).toBe(INVITE);
  });

  it('refuses to write a header value or reason holding a line break', () => {
    const m = parseMessage(INVITE);
    m.headers.push({ name: 'Subject', value: 'hi\r\nVia: SIP/2.0/UDP evil' });
    expect(() => serializeMessage(m)).toThrow(SipBuildError);
  });

  it('refuses text that is not a binary string, and bodies that are not either', () => {
    expect(refusal(INVITE.replace('Bob', 'Bøb\u20ac')).fault).toContain('binary');
    expect(() => buildRequest({ method: 'MESSAGE', uri: 'sip:a@b', headers: [], body: 'caf\u00e9 \u2603' })).toThrow('binary');
  });

  it('refuses header injection in builders', () => {
    expect(() => buildRequest({ method: 'OPTIONS', uri: 'sip:a@b', headers: [['Subject', 'x\r\nVia: evil']] })).toThrow(SipBuildError);
    expect(() => buildRequest({ method: 'OPT IONS', uri: 'sip:a@b', headers: [] })).toThrow(SipBuildError);
  });

  it('copies Via, From, To, Call-ID and CSeq into a response and adds the To tag', () => {
    const req = parseMessage(INVITE.replace('Via:', 'Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp1\r\nVia:')) as SipRequest;
    const res = buildResponse(req, 180, undefined, [['Contact', '<sip:bob@192.0.2.4>']], { toTag: 'xyz' });
    expect(res.reason).toBe('Ringing');
    expect(getHeaders(res, 'Via')).toEqual(getHeaders(req, 'Via'));
    expect(res.parsed.to.params.get('tag')).toBe('xyz');
    expect(res.parsed.to.displayName).toBe('Bob');
    expect(res.parsed.cseq).toEqual(req.parsed.cseq);
    expect(getHeader(res, 'Contact')).toBe('<sip:bob@192.0.2.4>');
    expect(parseMessage(serializeMessage(res))).toEqual(res);
    const trying = buildResponse(req, 100);
    expect(trying.parsed.to.params.has('tag')).toBe(false);
  });
});

describe('parseMessage on adversarial shapes', () => {
  it('keeps header names that are also names of Object.prototype properties as the strings they are', () => {
    const m = parseMessage(INVITE.replace('Content-Type:', 'constructor: a\r\n__proto__: b\r\nhasOwnProperty: c\r\nContent-Type:'));
    expect(m.headers.slice(7, 10)).toEqual([
      { name: 'constructor', value: 'a' },
      { name: '__proto__', value: 'b' },
      { name: 'hasOwnProperty', value: 'c' },
    ]);
    expect(serializeMessage(m)).toContain('\r\nconstructor: a\r\n__proto__: b\r\nhasOwnProperty: c\r\n');
  });

  it('parses header names that collide in the name cache correctly', () => {
    // the table's slot comes from the length and the first and last characters: many spellings, one slot
    const names = ['XaaY', 'XabY', 'XbaY', 'XbbY', 'XccY', 'XddY', 'xaaY', 'XAAY', 'XaaYY'];
    const extra = names.map((n, k) => `${n}: v${k}\r\n`).join('');
    const m = parseMessage(INVITE.replace('Content-Type:', extra + 'Content-Type:'));
    const got = m.headers.filter((h) => h.value.startsWith('v')).map((h) => `${h.name}: ${h.value}`);
    expect(got).toEqual(names.map((n, k) => `${n}: v${k}`));
  });

  it('refuses a message made of thousands of junk lines with a fault, not a hang', () => {
    // extension headers stay unparsed strings, so junk in them is carried, not judged
    const junk = INVITE.replace('Content-Type:', 'X-K: ;;;,,,<<"\r\n'.repeat(3000) + 'Content-Type:');
    expect(parseMessage(junk).headers.length).toBeGreaterThan(3000);
    const badVia = INVITE.replace('Max-Forwards: 70', 'Via: ' + 'SIP/2.0/UDP h;a,'.repeat(3000) + ',');
    expect(refusal(badVia).fault).toContain('empty element');
  });
});

describe('parseMessage cost on long inputs', () => {
  it('parses 8000 LF-only header lines (the bare-CR search runs once per CR, not once per line)', () => {
    const lines = INVITE.replace(/\r\n/g, '\n').replace('Content-Type:', 'X-A: b\n'.repeat(8000) + 'Content-Type:');
    expect(parseMessage(lines).headers.length).toBeGreaterThan(8000);
  });
});
