import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseChallenges, digestChallengesFrom, ChallengeParseError } from '../../src/sip/challenge.js';

const token = fc.stringMatching(/^[A-Za-z0-9\-.!%*_+`'~]{1,12}$/);
const anyText = fc.string({ unit: 'binary', maxLength: 80 });
const quote = (s: string) => '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
const spaces = fc.constantFrom('', ' ', '  ', '\t', '\r\n ');

describe('challenge parsing on hostile input', () => {
  it('any string either parses or gives a ChallengeParseError', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.string({ maxLength: 80 }).map((s) => 'Digest ' + s)), (s) => {
        try {
          parseChallenges(s);
        } catch (e) {
          expect(e).toBeInstanceOf(ChallengeParseError);
        }
        // The filtering layer never throws at all.
        digestChallengesFrom([s], 'www');
      }),
      { numRuns: 3000 },
    );
  });

  it('values written with any quoting and spacing read back exactly', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(token, fc.string({ unit: 'binary', maxLength: 20 }), fc.boolean()), { selector: (p) => p[0].toLowerCase(), minLength: 1, maxLength: 6 }),
        spaces,
        spaces,
        (params, s1, s2) => {
          // A bare token value is only possible when the value is a token.
          const written = params.map(([k, v, q]) => `${k}${s1}=${s2}${q || !/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(v) ? quote(v) : v}`);
          const [c] = parseChallenges(`Digest ${written.join(`${s1},${s2}`)}`);
          for (const [k, v] of params) expect(c.params.get(k.toLowerCase())).toBe(v);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
