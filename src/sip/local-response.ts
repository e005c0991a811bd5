import type { CoreHeaders, HeaderEntry, SipRequest, SipResponse } from './message.js';

/**
 * Responses the transaction and transport layers generate on their own (100 Trying, 481 to a stray CANCEL),
 * built per RFC 3261 8.2.6.2 from the request's header lines so that Via (with our received/rport), From, To,
 * Call-ID, CSeq and Timestamp come back exactly as they came in.
 */
export function buildLocalResponse(request: SipRequest, status: number, reason: string, toTag?: string): SipResponse {
  const headers: HeaderEntry[] = [];
  let toValue: string | undefined;
  for (const h of request.headers) {
    if (h.name === 'To') {
      toValue = toTag !== undefined && !request.parsed.to.params.has('tag') ? `${h.value};tag=${toTag}` : h.value;
      headers.push({ name: 'To', value: toValue });
    } else if (h.name === 'Via' || h.name === 'From' || h.name === 'Call-ID' || h.name === 'CSeq') {
      headers.push({ name: h.name, value: h.value });
    } else if (h.name === 'Timestamp' && status === 100) {
      headers.push({ name: h.name, value: h.value });
    }
  }
  headers.push({ name: 'Content-Length', value: '0' });
  let to = request.parsed.to;
  if (toTag !== undefined && !to.params.has('tag')) {
    const params = new Map(to.params);
    params.set('tag', toTag);
    to = { ...to, params };
  }
  const parsed: CoreHeaders = {
    via: request.parsed.via,
    from: request.parsed.from,
    to,
    callId: request.parsed.callId,
    cseq: request.parsed.cseq,
    contentLength: 0,
  };
  return { type: 'response', status, reason, headers, parsed, body: '' };
}
