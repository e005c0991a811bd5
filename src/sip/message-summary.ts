/**
 * The body of a message-waiting NOTIFY (RFC 3842, application/simple-message-summary): whether messages wait, and
 * for voice how many are new and old. A voicemail server sends it to a line's registered Contact, unsolicited
 * (Asterisk and FreePBX do this for an endpoint with a mailbox) or inside a subscription.
 *
 *   Messages-Waiting: yes
 *   Message-Account: sip:alice@vmail.example.com
 *   Voice-Message: 2/8 (0/2)
 *
 * Only the status line is required. Other message classes (fax, pager, ...) are checked and not kept; other
 * "name: value" lines and the optional message headers after a blank line are ignored. A line that is not
 * "name: value", a status that is not yes/no or counts that are not counts are refused with a typed error: the
 * body is from the network, and a stutter tone set by garbage would be wrong.
 */
export interface MessageSummary {
  waiting: boolean;
  /** Message-Account, when given. */
  account: string | null;
  /** Voice-Message counts, when given (urgent ones are included in new and old, as RFC 3842 counts them). */
  voice: { new: number; old: number } | null;
}

export class MessageSummaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageSummaryError';
  }
}

export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

/** Bigger than any voicemail box; counts beyond it are someone's mistake or attack, not messages. */
const MAX_COUNT = 1_000_000;
const MAX_BODY = 8192;
const COUNTS = /^(\d{1,7})\s*\/\s*(\d{1,7})(?:\s*\(\s*(\d{1,7})\s*\/\s*(\d{1,7})\s*\))?$/;

export function parseMessageSummary(body: string): MessageSummary {
  if (body.length > MAX_BODY) throw new MessageSummaryError(`body longer than ${MAX_BODY} characters`);
  let waiting: boolean | null = null;
  let account: string | null = null;
  let voice: MessageSummary['voice'] = null;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') {
      if (waiting !== null) break; // the optional message headers follow
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MessageSummaryError(`not a "name: value" line: ${JSON.stringify(line.slice(0, 60))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') throw new MessageSummaryError(`Messages-Waiting must be yes or no, got ${JSON.stringify(value.slice(0, 20))}`);
      waiting = v === 'yes';
    } else if (name === 'message-account') {
      account = value.slice(0, 256);
    } else if (/^[a-z][a-z0-9-]*-message$/.test(name)) {
      const m = COUNTS.exec(value);
      if (!m) throw new MessageSummaryError(`${name} counts must be new/old [(urgent-new/urgent-old)], got ${JSON.stringify(value.slice(0, 40))}`);
      const [fresh, old] = [Number(m[1]), Number(m[2])];
      if (fresh > MAX_COUNT || old > MAX_COUNT) throw new MessageSummaryError(`${name} counts beyond ${MAX_COUNT}`);
      if (name === 'voice-message') voice = { new: fresh, old };
    }
    // Any other "name: value" line is some server's extension: ignored, as unknown headers are.
  }
  if (waiting === null) throw new MessageSummaryError('no Messages-Waiting line');
  return { waiting, account, voice };
}
