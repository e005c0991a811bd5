import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MessageSummaryError, parseMessageSummary } from '../../src/sip/message-summary.js';

describe('parseMessageSummary (RFC 3842)', () => {
  it('reads the RFC 3842 section 5 example: waiting, the account, voice counts with urgent ones in brackets', () => {
    const body = 'Messages-Waiting: yes\r\nMessage-Account: sip:alice@vmail.example.com\r\nVoice-Message: 4/8 (1/2)\r\n';
    expect(parseMessageSummary(body)).toEqual({ waiting: true, account: 'sip:alice@vmail.example.com', voice: { new: 4, old: 8 } });
  });

  it('needs only the status line; names are case-insensitive; bare LF line ends are read too', () => {
    expect(parseMessageSummary('messages-waiting: NO')).toEqual({ waiting: false, account: null, voice: null });
    expect(parseMessageSummary('Messages-Waiting: yes\nvoice-message: 0/3\n')).toEqual({ waiting: true, account: null, voice: { new: 0, old: 3 } });
  });

  it('checks other message classes but keeps only voice; ignores unknown lines and the message headers after a blank line', () => {
    const body = 'Messages-Waiting: yes\r\nFax-Message: 1/0\r\nX-Vendor-Thing: 7\r\nVoice-Message: 2/0\r\n\r\nTo: <sip:alice@example.com>\r\nSubject: call me\r\nVoice-Message: 99/99\r\n';
    expect(parseMessageSummary(body)).toEqual({ waiting: true, account: null, voice: { new: 2, old: 0 } });
  });

  it.each([
    ['no status line', 'Voice-Message: 1/0'],
    ['an empty body', ''],
    ['a status that is not yes or no', 'Messages-Waiting: maybe'],
    ['counts that are not new/old', 'Messages-Waiting: yes\r\nVoice-Message: lots'],
    ['a negative count', 'Messages-Waiting: yes\r\nVoice-Message: -1/0'],
    ['a count beyond any mailbox', 'Messages-Waiting: yes\r\nVoice-Message: 9999999/0'],
    ['a line that is not name: value', 'Messages-Waiting: yes\r\nhello'],
    ['a body over 8 KiB', 'Messages-Waiting: yes\r\n' + 'X-Pad: aaaaaaaa\r\n'.repeat(600)],
  ])('refuses %s with a MessageSummaryError', (_what, body) => {
    expect(() => parseMessageSummary(body)).toThrow(MessageSummaryError);
  });

  it('on any text at all, either reads a summary or throws MessageSummaryError, nothing else (fast-check)', () => {
    const line = fc.oneof(fc.constantFrom('Messages-Waiting: yes', 'Messages-Waiting: no', 'Voice-Message: 1/2 (0/1)', '', 'Fax-Message: 3/4'), fc.string({ unit: 'binary', maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.constantFrom('\r\n', '\n'), (lines, eol) => {
        try {
          const s = parseMessageSummary(lines.join(eol));
          expect(typeof s.waiting).toBe('boolean');
        } catch (err) {
          expect(err).toBeInstanceOf(MessageSummaryError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
