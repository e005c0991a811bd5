/**
 * The checks a UAS makes on a well-formed request before handing it to a dialog or method handler (RFC 3261
 * sec. 8.2.2 and 8.2.3), and the check a UAC makes on a response (sec. 8.1.3.3). The parser accepts these
 * messages (RFC 4475 3.3.2-3.3.6 say a parser must); refusing them is policy, so it lives here.
 */
import { getHeader, getHeaders, type SipRequest, type SipResponse } from './message.js';
import { splitCommaList } from './header-values.js';

export interface UasPolicy {
  /** Request-URI schemes this UA serves, lower case. */
  uriSchemes: readonly string[];
  /** Option tags this UA implements (for Require). */
  extensions: readonly string[];
  /** Body types this UA understands, lower case ("application/sdp"). */
  contentTypes: readonly string[];
}

export const DEFAULT_UAS_POLICY: UasPolicy = {
  uriSchemes: ['sip', 'sips'],
  extensions: [],
  contentTypes: ['application/sdp'],
};

export interface Refusal {
  status: number;
  reason: string;
  /** Headers the refusal must carry (Unsupported for 420, Accept for 415). */
  headers: Array<[string, string]>;
}

function lowerTrim(s: string): string {
  return s.trim().toLowerCase();
}

/** What to answer instead of processing the request, or undefined to go on. ACK is never answered. */
export function screenRequest(req: SipRequest, policy: UasPolicy = DEFAULT_UAS_POLICY): Refusal | undefined {
  if (req.method === 'ACK') return undefined;
  if (!policy.uriSchemes.includes(req.uri.scheme)) {
    return { status: 416, reason: 'Unsupported URI Scheme', headers: [] };
  }
  if (req.method !== 'CANCEL') {
    const unknown: string[] = [];
    for (const line of getHeaders(req, 'Require')) {
      for (const tag of splitCommaList(line)) {
        if (!policy.extensions.includes(tag.toLowerCase())) unknown.push(tag);
      }
    }
    if (unknown.length > 0) return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unknown.join(', ')]] };
  }
  if (req.body.length > 0) {
    const type = getHeader(req, 'Content-Type');
    const mediaType = type === undefined ? '' : lowerTrim(type.split(';', 1)[0]);
    const encoding = getHeader(req, 'Content-Encoding');
    const encoded = encoding !== undefined && lowerTrim(encoding) !== 'identity';
    if (!policy.contentTypes.includes(mediaType) || encoded) {
      return {
        status: 415,
        reason: 'Unsupported Media Type',
        headers: [['Accept', policy.contentTypes.join(', ')], ['Accept-Encoding', 'identity']],
      };
    }
  }
  return undefined;
}

/** A response with other than exactly one Via was not meant for this UA (RFC 3261 sec. 8.1.3.3). */
export function screenResponse(res: SipResponse): 'accept' | 'drop' {
  return res.parsed.via.length === 1 ? 'accept' : 'drop';
}
