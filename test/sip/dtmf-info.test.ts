/**
 * DTMF bodies of SIP INFO: what we send, and what we read from the two forms in use, including hostile bodies.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dtmfRelayBody, parseDtmfInfo } from '../../src/sip/dtmf-info.js';

describe('DTMF in SIP INFO bodies', () => {
  it('sends application/dtmf-relay as Signal and Duration lines, and reads its own bodies back for every digit', () => {
    expect(dtmfRelayBody('5', 160)).toBe('Signal=5\r\nDuration=160\r\n');
    expect(dtmfRelayBody('a', 100)).toBe('Signal=A\r\nDuration=100\r\n');
    for (const d of '0123456789*#ABCD') expect(parseDtmfInfo('application/dtmf-relay', dtmfRelayBody(d, 160))).toBe(d);
  });

  it('refuses to write a body for something that is not a digit', () => {
    for (const bad of ['', '55', 'E', '\r\n', 'Signal']) expect(() => dtmfRelayBody(bad, 160)).toThrow(RangeError);
  });

  it('reads the variants phones send: spacing, case, LF-only lines, parameters on the type, event codes 10-15', () => {
    expect(parseDtmfInfo('Application/DTMF-Relay; charset=x', 'signal = 7\nduration=250\n')).toBe('7');
    expect(parseDtmfInfo('application/dtmf-relay', 'Duration=160\r\nSignal=#\r\n')).toBe('#');
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=10\r\n')).toBe('*');
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=11\r\n')).toBe('#');
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=15\r\n')).toBe('D');
    expect(parseDtmfInfo('application/dtmf', '9\r\n')).toBe('9');
  });

  it('finds no digit in other types, bodies without a Signal, unknown signals or oversized bodies', () => {
    expect(parseDtmfInfo('application/sdp', 'Signal=5')).toBeNull();
    expect(parseDtmfInfo(undefined, 'Signal=5')).toBeNull();
    expect(parseDtmfInfo('application/dtmf-relay', 'Duration=160')).toBeNull();
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=16')).toBeNull();
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=E')).toBeNull();
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5 6')).toBeNull();
    expect(parseDtmfInfo('application/dtmf', '')).toBeNull();
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\n' + 'x'.repeat(300))).toBeNull();
  });

  it('never throws on arbitrary input, and anything it returns is one DTMF digit', () => {
    fc.assert(
      fc.property(fc.constantFrom('application/dtmf-relay', 'application/dtmf', 'text/plain', undefined), fc.string({ maxLength: 300 }), (type, body) => {
        const d = parseDtmfInfo(type, body);
        if (d !== null) expect('0123456789*#ABCD').toContain(d);
        expect(d === null || d.length === 1).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
