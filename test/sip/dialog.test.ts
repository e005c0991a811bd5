import { describe, expect, it } from 'vitest';
import { Dialog, DialogError, dialogKeyOfRequest } from '../../src/sip/dialog.js';
import { getHeaders } from '../../src/sip/message.js';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { formatUri } from '../../src/sip/uri.js';

const msg = (lines: string[]) => parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'));

const INVITE = msg([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8',
  'Max-Forwards: 70',
  'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
  'To: Bob <sip:bob@biloxi.example.com>',
  'Call-ID: a84b4c76e66710@pc33',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@192.0.2.10:5060>',
  'Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>',
  'Content-Length: 0',
]) as SipRequest;

const OK = msg([
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8',
  'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
  'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
  'Call-ID: a84b4c76e66710@pc33',
  'CSeq: 314159 INVITE',
  'Contact: <sip:bob@192.0.2.4:5070>',
  'Record-Route: <sip:p1.example.com;lr>',
  'Record-Route: <sip:p2.example.com;lr>',
  'Content-Length: 0',
]) as SipResponse;

describe('Dialog (RFC 3261 sec. 12)', () => {
  it('UAC: route set is the Record-Route reversed, target is the 2xx Contact, BYE counts CSeq up', () => {
    const d = Dialog.asUac(INVITE, OK);
    expect(d.state).toBe('confirmed');
    expect(d.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    const bye = d.createRequest('BYE');
    expect(formatUri(bye.uri)).toBe('sip:bob@192.0.2.4:5070');
    expect(getHeaders(bye, 'Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(bye.parsed.cseq).toEqual({ seq: 314160, method: 'BYE' });
    expect(bye.parsed.from.params.get('tag')).toBe('1928301774');
    expect(bye.parsed.to.params.get('tag')).toBe('a6c85cf');
    // The ACK for the 2xx reuses the INVITE's number.
    expect(d.createRequest('ACK', [], '', 314159).parsed.cseq.seq).toBe(314159);
  });

  it('UAS: route set in order, our tag in the local party, the peer CSeq must go up', () => {
    const d = Dialog.asUas(INVITE, 'ourtag', 1);
    expect(d.state).toBe('early');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.localParty).toBe('"Bob" <sip:bob@biloxi.example.com>;tag=ourtag');
    const bye = d.createRequest('BYE');
    expect(formatUri(bye.uri)).toBe('sip:alice@192.0.2.10:5060');
    expect(bye.parsed.cseq.seq).toBe(2);
    const theirBye = { ...INVITE, method: 'BYE', parsed: { ...INVITE.parsed, cseq: { seq: 314160, method: 'BYE' } } } as SipRequest;
    expect(d.acceptRemoteSeq(theirBye)).toBe(true);
    expect(d.acceptRemoteSeq(theirBye)).toBe(false);
  });

  it('strict routing: the first route becomes the Request-URI and the target goes last', () => {
    const strict = { ...OK, headers: OK.headers.map((h) => (h.name === 'Record-Route' && h.value.includes('p2') ? { ...h, value: '<sip:p2.example.com>' } : h)) } as SipResponse;
    const d = Dialog.asUac(INVITE, strict);
    const bye = d.createRequest('BYE');
    expect(formatUri(bye.uri)).toBe('sip:p2.example.com');
    expect(getHeaders(bye, 'Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:bob@192.0.2.4:5070>']);
  });

  it('the key of an incoming request matches the UAS dialog', () => {
    const d = Dialog.asUas(INVITE, 'ourtag', 1);
    const bye = d.createRequest('BYE');
    // A request from the peer has the tags the other way round.
    const mirrored = { ...bye, parsed: { ...bye.parsed, from: bye.parsed.to, to: bye.parsed.from } } as SipRequest;
    expect(dialogKeyOfRequest(mirrored)).toBe(d.key);
  });

  it('refuses a 2xx without a To tag or Contact with a typed error', () => {
    const noTag = { ...OK, parsed: { ...OK.parsed, to: { ...OK.parsed.to, params: new Map() } } } as SipResponse;
    expect(() => Dialog.asUac(INVITE, noTag)).toThrowError(DialogError);
    const noContact = { ...OK, headers: OK.headers.filter((h) => h.name !== 'Contact') } as SipResponse;
    expect(() => Dialog.asUac(INVITE, noContact)).toThrowError('no-contact');
  });
});
