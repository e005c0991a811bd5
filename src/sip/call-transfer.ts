/**
 * Call transfer, the transferor's side (RFC 3515 REFER, RFC 5589 section 6): in the call with the party being
 * transferred we send a REFER whose Refer-To names the target; the transferee calls the target itself and tells
 * us how that goes in NOTIFYs (Event: refer, a message/sipfrag body with the status line of its INVITE's answer).
 *
 * What we ask is an unattended transfer: the Refer-To carries no Replaces, so the transferee places a new call to
 * the target even when we had already spoken to it (we end our own call to the target ourselves). Not every phone
 * implements Replaces (RFC 3891), and the new call reaches every one of them.
 */
import type { Dialog } from './dialog.js';
import { getHeader, type SipRequest, type SipResponse } from './message.js';
import { buildResponse } from './serializer.js';
import type { TransactionLayer } from './transaction-layer.js';

export interface ReferOptions {
  transactions: TransactionLayer;
  userAgent: string;
  /** Our Contact URI: REFER sets up a subscription in the dialog, whose NOTIFYs come there (RFC 6665 4.1.1). */
  contact: string;
  /** Who asks for the transfer (Referred-By, RFC 3892), as a name-addr or URI. */
  referredBy?: string;
}

/** The REFER's outcome: 2xx means the transferee took it on; anything else (or a transport failure) means not. */
export const SIPFRAG_TYPE = 'message/sipfrag';

export type ReferResult = { kind: 'accepted'; status: number } | { kind: 'refused'; status: number } | { kind: 'failed'; why: string };

/** Sends REFER to the far end of `dialog`, asking it to call `target` (a SIP URI). */
export function sendRefer(dialog: Dialog, target: string, o: ReferOptions): Promise<ReferResult> {
  if (/[<>\s"]/.test(target)) return Promise.resolve({ kind: 'failed', why: `not a URI that fits in Refer-To: ${target.slice(0, 80)}` });
  const headers: Array<[string, string]> = [
    ['Refer-To', `<${target}>`],
    ['Contact', `<${o.contact}>`],
    ['User-Agent', o.userAgent],
  ];
  if (o.referredBy) headers.push(['Referred-By', o.referredBy]);
  const refer = dialog.createRequest('REFER', headers);
  return new Promise((resolve) => {
    o.transactions.sendRequest(refer, {
      onFinal: (res: SipResponse) => resolve(res.status < 300 ? { kind: 'accepted', status: res.status } : { kind: 'refused', status: res.status }),
      onError: (err) => resolve({ kind: 'failed', why: err.message }),
    });
  });
}

/**
 * A NOTIFY in a call's dialog. For Event: refer it is answered 200 and the status code in its sipfrag returned
 * (null when the body has none we can read: the NOTIFY is still accepted, RFC 3515 2.4.5 lets the body be
 * anything the subscriber can take). Any other event package gets 489 Bad Event and null.
 */
export function answerReferNotify(req: SipRequest, st: { respond(res: SipResponse): unknown }, userAgent: string): number | null {
  const event = (getHeader(req, 'Event') ?? '').split(';')[0].trim().toLowerCase();
  if (event !== 'refer') {
    st.respond(buildResponse(req, 489, undefined, [['User-Agent', userAgent], ['Allow-Events', 'refer']]));
    return null;
  }
  st.respond(buildResponse(req, 200, undefined, [['User-Agent', userAgent]]));
  const m = /^SIP\/2\.0\s+([1-6]\d\d)\b/.exec(req.body.slice(0, 200).trimStart());
  return m ? Number(m[1]) : null;
}
