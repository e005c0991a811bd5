/** Caller ID for the phone's display from an incoming INVITE's P-Asserted-Identity, From and Privacy. */
import { describe, expect, it } from 'vitest';
import { callerIdentity } from '../../src/call/caller-identity.js';
import { buildRequest } from '../../src/sip/serializer.js';

function invite(extra: Array<[string, string]>, from = '"Ada" <sip:5551234@example.org>;tag=f'): ReturnType<typeof buildRequest> {
  return buildRequest({
    method: 'INVITE',
    uri: 'sip:100@192.0.2.1',
    headers: [['Via', 'SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKa'], ['From', from], ['To', '<sip:100@192.0.2.1>'], ['Call-ID', 'c'], ['CSeq', '1 INVITE'], ...extra],
  });
}

describe('callerIdentity', () => {
  it('takes name and number from From', () => {
    expect(callerIdentity(invite([]))).toMatchObject({ number: '5551234', name: 'Ada', remote: 'sip:5551234@example.org' });
  });

  it('prefers P-Asserted-Identity (tel: too) and passes Alert-Info on for distinctive ring', () => {
    const c = callerIdentity(invite([['P-Asserted-Identity', '"Front Desk" <tel:+15550001>'], ['Alert-Info', '<http://x/>;info=alert-group']]));
    expect(c).toMatchObject({ number: '+15550001', name: 'Front Desk', alertInfo: '<http://x/>;info=alert-group' });
  });

  it('a withheld caller (Privacy: id, or anonymous From) is private even with an asserted identity', () => {
    expect(callerIdentity(invite([['Privacy', 'id'], ['P-Asserted-Identity', '<sip:5551234@example.org>']]))).toMatchObject({ withheld: 'private' });
    expect(callerIdentity(invite([], '"Anonymous" <sip:anonymous@anonymous.invalid>;tag=f')).number).toBeUndefined();
  });

  it('UTF-8 names come out as text, cut to what caller ID carries; a From without user or name is unavailable', () => {
    const name = Buffer.from('Zoë Müller-Lüdenscheidt', 'utf8').toString('latin1');
    expect(callerIdentity(invite([], `"${name}" <sip:42@example.org>;tag=f`)).name).toBe('Zoë Müller-Lüde');
    expect(callerIdentity(invite([], '<sip:example.org>;tag=f'))).toMatchObject({ withheld: 'unavailable' });
  });

  it('a malformed P-Asserted-Identity falls back to From', () => {
    expect(callerIdentity(invite([['P-Asserted-Identity', '<<<']]))).toMatchObject({ number: '5551234' });
  });
});
