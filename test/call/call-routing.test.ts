/**
 * Where a dialled string goes, with the default dial plan's rules for the # key and IP addresses typed with stars.
 */
import { describe, expect, it } from 'vitest';
import { lineForRequest, nextHopOf, targetUri } from '../../src/call/call-routing.js';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipRequest } from '../../src/sip/message.js';
import { DEFAULT_DIAL_PLAN, type AccountConfig } from '../../src/config/schema.js';
import { DigitMap } from '../../src/phone/digit-map.js';

const account = { domain: 'sip.example.org', registrar: 'sip:sip.example.org' } as AccountConfig;

describe('call routing', () => {
  it('a number goes to the account\'s domain; a # that ends it is the dial-now key and is not sent', () => {
    expect(targetUri({ digits: '5551234' }, account)).toBe('sip:5551234@sip.example.org');
    expect(targetUri({ digits: '5551234#' }, account)).toBe('sip:5551234@sip.example.org');
  });

  it('in a feature code the # belongs to the code and is sent, escaped', () => {
    expect(targetUri({ digits: '*72#' }, account)).toBe('sip:*72%23@sip.example.org');
  });

  it('an IP address typed with stars dials that host, with or without a port, with no account at all', () => {
    expect(targetUri({ digits: '192*168*1*20' }, undefined)).toBe('sip:192.168.1.20');
    expect(targetUri({ digits: '192*168*1*20#' }, undefined)).toBe('sip:192.168.1.20');
    expect(targetUri({ digits: '10*0*0*7*5062#' }, undefined)).toBe('sip:10.0.0.7:5062');
    expect(targetUri({ digits: '010*000*000*007' }, undefined)).toBe('sip:10.0.0.7');
  });

  it('what is not an address is a number: an octet over 255 or too few groups', () => {
    expect(targetUri({ digits: '192*168*1*256' }, account)).toBe('sip:192*168*1*256@sip.example.org');
    expect(targetUri({ digits: '192*168*1' }, undefined)).toBeNull();
  });

  it('a speed-dial URI is used as it is', () => {
    expect(targetUri({ digits: '11', uri: 'sip:door@192.0.2.8' }, undefined)).toBe('sip:door@192.0.2.8');
  });

  it('the default dial plan dials an address at its # or after the timer, and still dials 3-digit extensions', () => {
    const plan = new DigitMap(DEFAULT_DIAL_PLAN);
    expect(plan.evaluate('192*168')).toBe('wait-long');
    expect(plan.evaluate('192*168*1*20#')).toBe('dial');
    expect(plan.evaluate('192*168*1*20', true)).toBe('dial');
    expect(plan.evaluate('192*168*1*20*5062#')).toBe('dial');
    expect(plan.evaluate('200', true)).toBe('dial');
    expect(plan.evaluate('*72')).toBe('dial');
  });

  it('calls go via the outbound proxy, else a registrar that is not the domain itself, else straight', () => {
    expect(nextHopOf({ ...account, outbound_proxy: 'sip:proxy.example.org' } as AccountConfig)).toBe('sip:proxy.example.org');
    expect(nextHopOf({ ...account, registrar: 'sip:sip.example.org:5080' } as AccountConfig)).toBe('sip:sip.example.org:5080');
    expect(nextHopOf(account)).toBeUndefined();
    expect(nextHopOf(undefined)).toBeUndefined();
  });

  it('an incoming INVITE rings the line of the account named by its user, else the first line without an account', () => {
    const invite = (user: string) =>
      parseMessage(Buffer.from(`INVITE sip:${user}@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nFrom: <sip:a@192.0.2.9>;tag=1\r\nTo: <sip:${user}@192.0.2.1>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`)) as SipRequest;
    const accounts = [{ user: '100', line: 1 }, { user: '200', line: 0 }] as AccountConfig[];
    expect(lineForRequest(invite('100'), accounts, [0, 1, 2])).toBe(1);
    expect(lineForRequest(invite('200'), accounts, [0, 1, 2])).toBe(0);
    expect(lineForRequest(invite('door'), accounts, [2, 0, 1])).toBe(2);
    expect(lineForRequest(invite('door'), accounts, [0, 1])).toBe(0);
    expect(lineForRequest(invite('door'), [], [])).toBeUndefined();
  });
});
