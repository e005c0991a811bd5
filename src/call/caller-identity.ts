/**
 * Who is calling, as the phone's display should show it, from an incoming INVITE: the network-asserted identity
 * (RFC 3325 P-Asserted-Identity) when present, else From; the display name is the name and the URI's user part
 * (or a tel: number) is the number. A caller who withheld their identity (RFC 3323 Privacy: id, or the
 * conventional "Anonymous" From) is shown as private, as the phone's caller-ID standards have a code for it.
 */
import { getHeader, getHeaders, type NameAddr, type SipRequest } from '../sip/message.js';
import { parseNameAddr, splitCommaList } from '../sip/header-values.js';
import type { IncomingCall } from '../phone/line-seams.js';
import { formatUri } from '../sip/uri.js';

/** Caller-ID fields are short on the wire: MDMF allows 20 digits and 15 name characters. */
const MAX_NUMBER = 20;
const MAX_NAME = 15;

function assertedIdentity(req: SipRequest): NameAddr | undefined {
  for (const line of getHeaders(req, 'P-Asserted-Identity')) {
    for (const v of splitCommaList(line)) {
      try {
        const na = parseNameAddr(v);
        // A sip: and a tel: identity may both be asserted; either gives the number.
        if (na.uri.kind === 'sip' || na.uri.scheme.toLowerCase() === 'tel') return na;
      } catch {
        // A malformed assertion is no assertion: fall back to From.
      }
    }
  }
  return undefined;
}

/** The binary (latin1) wire text as the UTF-8 it is. */
function text(s: string): string {
  return Buffer.from(s, 'latin1').toString('utf8');
}

function numberOf(na: NameAddr): string | undefined {
  const raw = na.uri.kind === 'sip' ? na.uri.user : na.uri.rest.split(';')[0];
  if (!raw) return undefined;
  const n = text(raw).replace(/[^0-9*#+]/g, '');
  return n.length > 0 ? n.slice(0, MAX_NUMBER) : undefined;
}

export function callerIdentity(req: SipRequest): IncomingCall {
  const who = assertedIdentity(req) ?? req.parsed.from;
  const remote = formatUri(req.parsed.from.uri);
  const privacy = (getHeader(req, 'Privacy') ?? '').toLowerCase();
  const fromUser = req.parsed.from.uri.kind === 'sip' ? (req.parsed.from.uri.user ?? '').toLowerCase() : '';
  const anonymous = /\bid\b/.test(privacy) || /\buser\b/.test(privacy) || fromUser === 'anonymous' || (req.parsed.from.displayName ?? '').toLowerCase() === 'anonymous';
  const alertInfo = getHeader(req, 'Alert-Info');
  if (anonymous) return { remote, withheld: 'private', ...(alertInfo ? { alertInfo } : {}) };
  const number = numberOf(who);
  const name = who.displayName ? text(who.displayName).trim().slice(0, MAX_NAME) : undefined;
  return {
    remote,
    ...(number ? { number } : {}),
    ...(name ? { name } : {}),
    ...(!number && !name ? { withheld: 'unavailable' as const } : {}),
    ...(alertInfo ? { alertInfo } : {}),
  };
}
