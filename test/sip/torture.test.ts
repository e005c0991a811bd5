// RFC 4475 torture messages: every row of the shared MANIFEST.tsv is run through the parser. Rows the parser must
// refuse carry the status a UAS answers (SipParseError.status); for rows that parse, the answer a UA gives to
// what it cannot serve (416/415/420) is the UA core's job and is checked in ua-core-torture.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/parser.js';
import { SipParseError, getHeader, getHeaders, type SipMessage, type SipRequest, type SipUri } from '../../src/sip/message.js';

const DIR = new URL('../fixtures/rfc4475/', import.meta.url).pathname;
const manifestText = readFileSync(DIR + 'MANIFEST.tsv', 'latin1');
interface Row { section: string; file: string; kind: 'request' | 'response'; verdict: 'parse' | 'reject' | 'either'; uaReply: string }
const rows: Row[] = manifestText
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const [section, file, kind, verdict, uaReply] = l.split('\t').map((x) => x.trim());
    return { section, file, kind, verdict, uaReply } as Row;
  });

const sipUri = (m: SipMessage) => (m as SipRequest).uri as SipUri;

/** Values each parse-verdict message must come out with (RFC 4475 text for that section). */
const EXPECT: Record<string, (m: SipMessage) => void> = {
  'wsinv.dat': (m) => {
    const r = m as SipRequest;
    expect(r.method).toBe('INVITE');
    expect(sipUri(m).params.get('unknownparam')).toBeNull();
    expect(r.parsed.to.uri).toMatchObject({ user: 'vivekg', host: 'chair-dnrc.example.com' });
    expect(r.parsed.to.params.get('tag')).toBe('1918181833n');
    expect(r.parsed.from.displayName).toBe('J Rosenberg \\"');
    expect(r.parsed.from.params.get('tag')).toBe('98asjd8');
    expect(r.parsed.maxForwards).toBe(68);
    expect(r.parsed.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(r.parsed.via.map((v) => [v.transport, v.host, v.params.get('branch')])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    expect(getHeader(m, 'Subject')).toBe('');
    expect(getHeader(m, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(getHeader(m, 'Contact')).toBe('"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33');
    expect(r.body.length).toBe(150);
  },
  'intmeth.dat': (m) => {
    expect((m as SipRequest).method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(sipUri(m).user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(sipUri(m).password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(m.parsed.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    expect(m.parsed.from.displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(m.parsed.callId).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    expect(m.parsed.via[0].params.get('branch')).toBe("z9hG4bK-.!%66*_+`'~");
  },
  'esc01.dat': (m) => {
    expect(sipUri(m)).toMatchObject({ user: 'sips:user@example.com', host: 'example.net' });
    expect(m.parsed.to.uri).toMatchObject({ user: 'user' });
    expect(m.parsed.from.uri).toMatchObject({ user: 'I have spaces' });
  },
  'escnull.dat': (m) => {
    expect(m.parsed.to.uri).toMatchObject({ user: 'null-\x00-null' });
    expect(getHeaders(m, 'Contact')).toHaveLength(2);
  },
  'esc02.dat': (m) => {
    expect((m as SipRequest).method).toBe('RE%47IST%45R');
    expect(m.parsed.to.displayName).toBe('%Z%45');
    expect(getHeaders(m, 'Contact')).toHaveLength(2);
    expect(getHeader(m, 'C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  },
  'lwsdisp.dat': (m) => expect(m.parsed.from.displayName).toBe('caller'),
  'longreq.dat': (m) => {
    expect(m.parsed.to.displayName).toContain('extremeextreme');
    expect(m.parsed.via.length).toBeGreaterThan(10);
    expect(m.body.length).toBe(m.parsed.contentLength);
  },
  'dblreq.dat': (m) => {
    expect((m as SipRequest).method).toBe('REGISTER');
    expect(m.body).toBe('');
  },
  'semiuri.dat': (m) => {
    expect(sipUri(m).user).toBe('user;par=u@example.net');
    expect(sipUri(m).params.size).toBe(0);
  },
  'transports.dat': (m) => expect(m.parsed.via.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']),
  'mpart01.dat': (m) => {
    expect(m.body.length).toBe(m.parsed.contentLength);
    expect(getHeader(m, 'Content-Type')).toContain('multipart/mixed');
  },
  'unreason.dat': (m) => {
    expect(m.type === 'response' && m.status).toBe(200);
    if (m.type === 'response') expect(Buffer.from(m.reason, 'latin1').toString('utf8')).toContain('2**3 * 5**2 но');
    expect(m.body.length).toBe(154);
  },
  'noreason.dat': (m) => expect(m.type === 'response' && [m.status, m.reason]).toEqual([100, '']),
  'baddate.dat': (m) => expect(getHeader(m, 'Date')).toContain('EST'),
  'regbadct.dat': (m) => expect(getHeader(m, 'Contact')).toBe('sip:user@example.com?Route=%3Csip:sip.example.com%3E'),
  'badbranch.dat': (m) => expect(m.parsed.via[0].params.get('branch')).toBe('z9hG4bK'), // the cookie alone
  'unkscm.dat': (m) => expect((m as SipRequest).uri).toEqual({ kind: 'absolute', scheme: 'nobodyknowsthisscheme', rest: 'totallyopaquecontent' }),
  'novelsc.dat': (m) => expect((m as SipRequest).uri).toEqual({ kind: 'absolute', scheme: 'soap.beep', rest: '//192.0.2.103:3002' }),
  'unksm2.dat': (m) => {
    expect(m.parsed.to.uri).toEqual({ kind: 'absolute', scheme: 'isbn', rest: '2983792873' });
    expect(m.parsed.from.uri).toEqual({ kind: 'absolute', scheme: 'http', rest: '//www.example.com' });
  },
  'bext01.dat': (m) => expect(getHeader(m, 'Require')).toBe('nothingSupportsThis, nothingSupportsThisEither'),
  'invut.dat': (m) => expect(m.body.length).toBe(40),
  'regaut01.dat': (m) => expect(getHeader(m, 'Authorization')).toBe('NoOneKnowsThisScheme opaque-data=here'),
  'bcast.dat': (m) => expect(m.parsed.via[1].host).toBe('255.255.255.255'),
  'zeromf.dat': (m) => expect(m.parsed.maxForwards).toBe(0),
  'cparam01.dat': (m) => expect(getHeader(m, 'Contact')).toBe('sip:+19725552222@gw1.example.net;unknownparam'),
  'cparam02.dat': (m) => expect(getHeader(m, 'Contact')).toBe('<sip:+19725552222@gw1.example.net;unknownparam>'),
  'regescrt.dat': (m) => expect(getHeader(m, 'Contact')).toBe('<sip:user@example.com?Route=%3Csip:sip.example.com%3E>'),
  'sdp01.dat': (m) => expect(getHeader(m, 'Accept')).toBe('text/nobodyKnowsThis'),
};

/** Where the manifest allows either, the choice this parser makes (strict unless RFC 4475 asks for robustness). */
const EITHER_CHOICE: Record<string, 'parse' | 'reject'> = {
  'lwsstart.dat': 'parse',
  'trws.dat': 'parse',
  'escruri.dat': 'reject',
  'badaspec.dat': 'reject',
  'baddn.dat': 'reject',
  'insuf.dat': 'reject',
  'multi01.dat': 'reject',
  'mcl01.dat': 'reject',
  'inv2543.dat': 'parse',
};

function attempt(file: string): SipMessage | SipParseError {
  const data = readFileSync(DIR + file);
  try {
    return parseMessage(data);
  } catch (e) {
    if (e instanceof SipParseError) return e;
    throw e;
  }
}

describe('RFC 4475 torture messages', () => {
  it('the manifest lists all 49 messages', () => {
    expect(rows).toHaveLength(49);
  });

  for (const row of rows) {
    it(`${row.section} ${row.file}: ${row.verdict}, UA answers ${row.uaReply}`, () => {
      const result = attempt(row.file);
      const choice = row.verdict === 'either' ? EITHER_CHOICE[row.file] : row.verdict;
      expect(choice, 'every either-row has a recorded choice').toBeDefined();
      if (choice === 'reject') {
        expect(result).toBeInstanceOf(SipParseError);
        const err = result as SipParseError;
        expect(err.fault.length).toBeGreaterThan(3);
        if (row.kind === 'request' && row.uaReply === 'any') expect(err.status).toBeGreaterThanOrEqual(400);
        else if (row.kind === 'request') expect(String(err.status)).toBe(row.uaReply);
        else expect(row.uaReply).toBe('drop'); // a malformed response is dropped, never answered
        return;
      }
      if (result instanceof SipParseError) throw new Error(`refused: ${result.fault}`);
      expect(result.type).toBe(row.kind);
      if (row.verdict === 'parse') {
        const check = EXPECT[row.file];
        expect(check, 'every parse-row has value checks').toBeDefined();
        check(result);
      }
      if (result.type === 'response') {
        // UAs never answer responses: they match one to a client transaction or drop it
        expect(row.uaReply).toBe('drop');
      }
    });
  }

  it('bcast.dat keeps both Vias, which is what a UAC needs to drop it (RFC 3261 sec. 8.1.3.3)', () => {
    const m = attempt('bcast.dat');
    expect(m).not.toBeInstanceOf(SipParseError);
    expect((m as SipMessage).parsed.via).toHaveLength(2);
  });

  it('faults name the problem', () => {
    const fault = (f: string) => (attempt(f) as SipParseError).fault;
    expect(fault('clerr.dat')).toMatch(/Content-Length/);
    expect(fault('ncl.dat')).toMatch(/Content-Length/);
    expect(fault('mismatch01.dat')).toMatch(/CSeq method/);
    expect(fault('badvers.dat')).toMatch(/version/);
    expect(fault('mcl01.dat')).toMatch(/more than one Content-Length/);
    expect(fault('insuf.dat')).toMatch(/missing/);
    expect(fault('scalar02.dat')).toMatch(/CSeq/);
    expect(fault('quotbal.dat')).toMatch(/quoted/);
  });
});
