import { describe, expect, it } from 'vitest';
import { DigitMap, DigitMapError } from '../../src/phone/digit-map.js';

describe('DigitMap (RFC 3435 style)', () => {
  const map = new DigitMap('(*xx|[2-9]xx|xx.T)');

  it('waits on the short timer while a T rule or a longer rule could still match', () => {
    expect(map.evaluate('2')).toBe('wait-short'); // xx.T matches one digit or more at the timeout
    expect(map.evaluate('200')).toBe('wait-short'); // [2-9]xx complete but xx. could go on
    expect(new DigitMap('[2-9]xx').evaluate('2')).toBe('wait-long');
    expect(new DigitMap('[2-9]xx').evaluate('200')).toBe('dial');
  });

  it('dials a feature code once complete when nothing longer can match', () => {
    const m = new DigitMap('(*xx|[2-9]xx)');
    expect(m.evaluate('*')).toBe('wait-long');
    expect(m.evaluate('*7')).toBe('wait-long');
    expect(m.evaluate('*72')).toBe('dial');
    expect(m.evaluate('*723')).toBe('reject');
  });

  it('matches a T rule only at the inter-digit timeout', () => {
    expect(map.evaluate('01')).toBe('wait-short');
    expect(map.evaluate('01', true)).toBe('dial');
    expect(map.evaluate('0', true)).toBe('dial'); // 'xx.' is one digit or more
    expect(map.evaluate('', true)).toBe('reject');
  });

  it('rejects digits no rule can accept', () => {
    const m = new DigitMap('[2-9]xx');
    expect(m.evaluate('1')).toBe('reject');
    expect(m.evaluate('#')).toBe('reject');
  });

  it('accepts # and * in sets and a terminating #', () => {
    const m = new DigitMap('x.#|[*#]xx');
    expect(m.evaluate('123')).toBe('wait-long');
    expect(m.evaluate('123#')).toBe('dial');
    expect(m.evaluate('#12')).toBe('dial');
  });

  it('refuses malformed maps naming the position', () => {
    for (const bad of ['(1|2', '[9-2]x', 'x..', '12T3', '()', '1|', 'q', '[]']) {
      expect(() => new DigitMap(bad), bad).toThrow(DigitMapError);
    }
    try {
      new DigitMap('(12|3q)');
    } catch (e) {
      expect((e as DigitMapError).position).toBe(5);
    }
  });
});
