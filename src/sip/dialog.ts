/**
 * A SIP dialog (RFC 3261 sec. 12): the peer-to-peer relationship an INVITE sets up, identified by Call-ID, local
 * tag and remote tag. It remembers the route set (from Record-Route), the remote target (the peer's Contact) and
 * both CSeq counters, and builds the requests sent inside it (BYE, re-INVITE, the ACK for a 2xx).
 */
import { getHeader, getHeaders, type SipRequest, type SipResponse, type SipUri } from './message.js';
import { formatNameAddr, parseNameAddr, splitCommaList } from './header-values.js';
import { buildRequest } from './serializer.js';
import { formatUri } from './uri.js';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export class DialogError extends Error {
  override readonly name = 'DialogError';
  constructor(
    readonly fault: 'no-contact' | 'no-tag' | 'bad-contact' | 'bad-route',
    detail: string,
  ) {
    super(`${fault}: ${detail}`);
  }
}

/** The transaction layer replaces this Via with its own; buildRequest only needs one to be there. */
export const PLACEHOLDER_VIA = 'SIP/2.0/UDP invalid;branch=z9hG4bKplaceholder';

/** Key of a dialog as seen from our side: Call-ID, our tag, their tag. */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

/** The dialog key an incoming in-dialog request names (our tag is in its To, theirs in its From). */
export function dialogKeyOfRequest(req: SipRequest): string {
  return dialogKey(req.parsed.callId, req.parsed.to.params.get('tag') ?? '', req.parsed.from.params.get('tag') ?? '');
}

function contactUriOf(msg: SipRequest | SipResponse): SipUri {
  const value = getHeader(msg, 'Contact');
  if (value === undefined) throw new DialogError('no-contact', 'a dialog-creating message must carry a Contact');
  let uri;
  try {
    uri = parseNameAddr(splitCommaList(value)[0] ?? '').uri;
  } catch (err) {
    throw new DialogError('bad-contact', err instanceof Error ? err.message : String(err));
  }
  if (uri.kind !== 'sip') throw new DialogError('bad-contact', 'Contact is not a SIP URI');
  return uri;
}

function recordRoutes(msg: SipRequest | SipResponse): string[] {
  const out: string[] = [];
  for (const line of getHeaders(msg, 'Record-Route')) {
    for (const v of splitCommaList(line)) {
      try {
        out.push(formatNameAddr(parseNameAddr(v)));
      } catch (err) {
        throw new DialogError('bad-route', err instanceof Error ? err.message : String(err));
      }
    }
  }
  return out;
}

export interface DialogFields {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From/To values with tags, as they go on our requests: ours in From, theirs in To. */
  localParty: string;
  remoteParty: string;
  remoteTarget: SipUri;
  routeSet: string[];
  localSeq: number;
  /** The peer's last CSeq, or null when they have sent no request in the dialog yet. */
  remoteSeq: number | null;
}

export class Dialog {
  state: DialogState;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localParty: string;
  readonly remoteParty: string;
  remoteTarget: SipUri;
  readonly routeSet: string[];
  localSeq: number;
  remoteSeq: number | null;

  constructor(f: DialogFields, state: DialogState) {
    this.callId = f.callId;
    this.localTag = f.localTag;
    this.remoteTag = f.remoteTag;
    this.localParty = f.localParty;
    this.remoteParty = f.remoteParty;
    this.remoteTarget = f.remoteTarget;
    this.routeSet = f.routeSet;
    this.localSeq = f.localSeq;
    this.remoteSeq = f.remoteSeq;
    this.state = state;
  }

  /** UAC side (12.1.2): from our INVITE and a 1xx-with-tag or 2xx response. Route set is Record-Route reversed. */
  static asUac(invite: SipRequest, res: SipResponse): Dialog {
    const remoteTag = res.parsed.to.params.get('tag');
    if (!remoteTag) throw new DialogError('no-tag', 'the response has no To tag');
    const fromTag = invite.parsed.from.params.get('tag') ?? '';
    return new Dialog(
      {
        callId: invite.parsed.callId,
        localTag: fromTag,
        remoteTag,
        localParty: formatNameAddr(invite.parsed.from),
        remoteParty: formatNameAddr(res.parsed.to),
        remoteTarget: contactUriOf(res),
        routeSet: recordRoutes(res).reverse(),
        localSeq: invite.parsed.cseq.seq,
        remoteSeq: null,
      },
      res.status < 200 ? 'early' : 'confirmed',
    );
  }

  /** UAS side (12.1.1): from the INVITE we answer with `localTag`. Route set is Record-Route in order. */
  static asUas(invite: SipRequest, localTag: string, localSeq: number): Dialog {
    const remoteTag = invite.parsed.from.params.get('tag');
    if (!remoteTag) throw new DialogError('no-tag', 'the INVITE has no From tag');
    const to = { ...invite.parsed.to, params: new Map(invite.parsed.to.params) };
    to.params.set('tag', localTag);
    return new Dialog(
      {
        callId: invite.parsed.callId,
        localTag,
        remoteTag,
        localParty: formatNameAddr(to),
        remoteParty: formatNameAddr(invite.parsed.from),
        remoteTarget: contactUriOf(invite),
        routeSet: recordRoutes(invite),
        localSeq,
        remoteSeq: invite.parsed.cseq.seq,
      },
      'early',
    );
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  confirm(): void {
    if (this.state === 'early') this.state = 'confirmed';
  }

  terminate(): void {
    this.state = 'terminated';
  }

  /** A 2xx or re-INVITE may move the peer: 12.2.1.2 / 12.2.2 say the remote target follows its Contact. */
  updateTarget(msg: SipRequest | SipResponse): void {
    if (getHeader(msg, 'Contact') !== undefined) this.remoteTarget = contactUriOf(msg);
  }

  /**
   * Checks a request the peer sent in this dialog (12.2.2): its CSeq must go up. Returns false for an old or
   * out-of-order one (the UAS answers 500).
   */
  acceptRemoteSeq(req: SipRequest): boolean {
    const seq = req.parsed.cseq.seq;
    if (req.method === 'ACK' || req.method === 'CANCEL') return true;
    if (this.remoteSeq !== null && seq <= this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /**
   * A request inside the dialog (12.2.1.1). Loose routing: the Request-URI is the remote target and the route set
   * goes in Route. Strict routing (first route without ;lr): the first route becomes the Request-URI and the
   * remote target goes last in Route. `seq` is for the ACK, which reuses the INVITE's number.
   */
  createRequest(method: string, headers: Array<[string, string]> = [], body = '', seq?: number): SipRequest {
    let uri = formatUri(this.remoteTarget);
    const routes = [...this.routeSet];
    if (routes.length > 0) {
      const first = parseNameAddr(routes[0]).uri;
      if (first.kind === 'sip' && !first.params.has('lr')) {
        routes.shift();
        routes.push(`<${uri}>`);
        uri = formatUri({ ...first, headers: new Map() });
      }
    }
    const cseq = seq ?? ++this.localSeq;
    const all: Array<[string, string]> = [['Via', PLACEHOLDER_VIA]];
    for (const r of routes) all.push(['Route', r]);
    all.push(['From', this.localParty], ['To', this.remoteParty], ['Call-ID', this.callId], ['CSeq', `${cseq} ${method}`], ['Max-Forwards', '70'], ...headers);
    return buildRequest({ method, uri, headers: all, body });
  }
}
