import { describe, expect, it } from 'vitest';
import { formatUri, parseUri } from '../../src/sip/uri.js';
import { formatNameAddr, formatVia, parseNameAddr, parseVia, splitCommaList, parseCSeq } from '../../src/sip/header-values.js';
import { SipParseError, type SipUri } from '../../src/sip/message.js';

const fault = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof SipParseError) return e.fault;
    throw e;
  }
  throw new Error('did not throw');
};

describe('parseUri', () => {
  it('reads user, password, host, port, params and headers', () => {
    const u = parseUri('sip:alice:secret@Example.COM:5070;transport=tcp;lr?subject=hi%20there&priority=urgent') as SipUri;
    expect(u).toEqual({
      kind: 'sip', scheme: 'sip', user: 'alice', password: 'secret', host: 'example.com', port: 5070,
      params: new Map([['transport', 'tcp'], ['lr', null]]),
      headers: new Map([['subject', 'hi there'], ['priority', 'urgent']]),
    });
  });

  it('keeps IPv6 references with brackets and reads the port after them', () => {
    const u = parseUri('sips:[2001:DB8::1]:5061;maddr=[2001:db8::9]') as SipUri;
    expect(u).toMatchObject({ scheme: 'sips', host: '[2001:db8::1]', port: 5061 });
    expect(u.params.get('maddr')).toBe('[2001:db8::9]');
  });

  it('unescapes the user part and escapes it again on output', () => {
    const u = parseUri('sip:%61lice%20smith@host') as SipUri;
    expect(u.user).toBe('alice smith');
    expect(formatUri(u)).toBe('sip:alice%20smith@host');
    expect(parseUri(formatUri(u))).toEqual(u);
  });

  it('keeps other schemes opaque', () => {
    expect(parseUri('tel:+1-201-555-0123;phone-context=x')).toEqual({ kind: 'absolute', scheme: 'tel', rest: '+1-201-555-0123;phone-context=x' });
  });

  it.each([
    ['sip:user@', 'missing host'],
    ['sip:user@host:65536', 'port out of range'],
    ['sip:user@host:abc', 'bad port'],
    ['sip:%zz@host', 'bad escape'],
    ['sip:@host', 'empty user'],
    ['sip:host;lr;lr', 'repeated URI parameter'],
    ['sip:host;=x', 'empty URI parameter'],
    ['sip:[::1', 'unterminated IPv6'],
    ['sip:a b@host', 'bad character'],
    ['<sip:host>', 'bad URI scheme'],
    ['nocolon', 'URI without scheme'],
    ['x:', 'empty URI'],
  ])('refuses %s (%s)', (text, why) => {
    expect(fault(() => parseUri(text))).toContain(why);
  });
});

describe('name-addr, Via, CSeq and lists', () => {
  it('parses quoted display names with escapes and header params', () => {
    const na = parseNameAddr('"Bob \\"B\\" Smith" <sip:bob@biloxi.example.com;transport=udp> ;tag=a6c85cf;expires=60');
    expect(na.displayName).toBe('Bob "B" Smith');
    expect((na.uri as SipUri).params.get('transport')).toBe('udp');
    expect(na.params).toEqual(new Map([['tag', 'a6c85cf'], ['expires', '60']]));
    expect(parseNameAddr(formatNameAddr(na))).toEqual(na);
  });

  it('gives addr-spec parameters to the header, not the URI', () => {
    const na = parseNameAddr('sip:+12125551212@server.phone2net.com;tag=887s');
    expect((na.uri as SipUri).params.size).toBe(0);
    expect(na.params.get('tag')).toBe('887s');
  });

  it('refuses unbalanced quotes and brackets', () => {
    expect(fault(() => parseNameAddr('"open <sip:a@b>'))).toContain('unterminated quoted');
    expect(fault(() => parseNameAddr('<sip:a@b'))).toContain('unterminated <URI>');
    expect(fault(() => parseNameAddr('<sip:a@b> junk'))).toContain('unexpected character');
    expect(parseNameAddr('<sip:a@b>;lr').params.get('lr')).toBeNull();
  });

  it('reads Via with rport flag, received and IPv6', () => {
    const v = parseVia('SIP/2.0/udp [2001:db8::5]:5062;branch=z9hG4bK776;rport;received=2001:db8::7');
    expect(v).toEqual({
      protocol: 'SIP/2.0', transport: 'UDP', host: '[2001:db8::5]', port: 5062,
      params: new Map<string, string | null>([['branch', 'z9hG4bK776'], ['rport', null], ['received', '2001:db8::7']]),
    });
    expect(parseVia(formatVia(v))).toEqual(v);
  });

  it('splits on commas outside quotes and <>', () => {
    expect(splitCommaList('"a, b" <sip:x@y;p=1,2>;q=1 , <sip:z@w>')).toEqual(['"a, b" <sip:x@y;p=1,2>;q=1', '<sip:z@w>']);
    expect(fault(() => splitCommaList('a,,b'))).toContain('empty element');
  });

  it('bounds CSeq to 32 bits', () => {
    expect(parseCSeq('4294967295 BYE')).toEqual({ seq: 4294967295, method: 'BYE' });
    expect(fault(() => parseCSeq('4294967296 BYE'))).toContain('CSeq');
    expect(fault(() => parseCSeq('1 BYE extra'))).toContain('CSeq method');
  });
});
