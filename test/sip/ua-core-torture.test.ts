// RFC 4475 torture requests through the real parser and the UA core: the answer must be the one the shared
// MANIFEST.tsv names for a user agent (a status, or any final response / hand-over where it says "any").
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/parser.js';
import { SipParseError } from '../../src/sip/message.js';
import { UaCore, type UaVerdict } from '../../src/sip/ua-core.js';

const DIR = new URL('../fixtures/rfc4475/', import.meta.url).pathname;
const rows = readFileSync(DIR + 'MANIFEST.tsv', 'latin1')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const [section, file, kind, , uaReply] = l.split('\t').map((x) => x.trim());
    return { section, file, kind, uaReply };
  })
  .filter((r) => r.kind === 'request');

// No dialogs exist in this test, so mid-dialog requests get 481, which is what an idle adapter answers.
const core = new UaCore({ hasDialog: () => false, hasInviteForCancel: () => false });

function answer(bytes: Buffer): UaVerdict {
  try {
    const msg = parseMessage(bytes);
    if (msg.type !== 'request') throw new Error('expected a request');
    return core.inspect(msg);
  } catch (err) {
    if (err instanceof SipParseError) return core.verdictForParseError(err);
    throw err;
  }
}

describe('UA core on RFC 4475 requests', () => {
  it('covers every request row of the manifest', () => {
    expect(rows.length).toBeGreaterThan(30);
  });
  for (const row of rows) {
    it(`${row.section} ${row.file} -> ${row.uaReply}`, () => {
      const v = answer(readFileSync(DIR + row.file));
      if (row.uaReply === 'any') {
        expect(['respond', 'accept']).toContain(v.kind);
        if (v.kind === 'respond') expect(v.status).toBeGreaterThanOrEqual(200);
      } else if (row.uaReply === 'drop') {
        expect(v.kind).toBe('drop');
      } else {
        expect(v).toMatchObject({ kind: 'respond', status: Number(row.uaReply) });
      }
    });
  }
});
