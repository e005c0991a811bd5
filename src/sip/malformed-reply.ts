import { defaultReason } from './serializer.js';

const WANTED: Record<string, string> = {
  via: 'Via', v: 'Via', from: 'From', f: 'From', to: 'To', t: 'To', 'call-id': 'Call-ID', i: 'Call-ID', cseq: 'CSeq',
};

/**
 * The error response to a request the parser refused (RFC 3261 8.2 / 21.4.1), built from the raw text because
 * there is no parsed message. Only when the request is "parseable enough": a request line that is not a response
 * or an ACK (ACKs are never answered), and a Via to route the answer by; From, To, Call-ID and CSeq are copied
 * when present. Otherwise undefined and the caller drops the message. Header lines are copied as they came.
 */
export function malformedRequestReply(text: string, status: number, fault: string): string | undefined {
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd >= 0 ? text.slice(0, headEnd) : text;
  const lines = head.replace(/^(\r?\n)+/, '').split(/\r?\n/);
  const start = lines[0] ?? '';
  // Any token method, any Request-URI (lwsruri.dat has spaces in it), any version (badvers.dat gets its 505).
  const m = /^([A-Za-z0-9!%*_+`'~.-]+) .+ SIP\/\d+\.\d+$/.exec(start);
  if (!m || m[1] === 'ACK') return undefined;
  const found = new Map<string, string[]>();
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k];
    if (line.startsWith(' ') || line.startsWith('\t')) continue; // folded continuation: not worth trusting here
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = WANTED[line.slice(0, colon).trim().toLowerCase()];
    if (!name) continue;
    const value = line.slice(colon + 1).trim();
    if (value === '' || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) continue;
    const list = found.get(name) ?? [];
    list.push(value);
    found.set(name, list);
  }
  // The Via routes the answer; the rest are copied when present so the client can match it (insuf.dat, which
  // lacks From, is owed its 400 all the same).
  if (!found.has('Via')) return undefined;
  const why = printable(`${defaultReason(status) || 'Bad Request'} (${fault})`);
  let out = `SIP/2.0 ${status} ${why}\r\n`;
  for (const n of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) for (const v of found.get(n) ?? []) out += `${n}: ${v}\r\n`;
  return out + 'Content-Length: 0\r\n\r\n';
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);
}
