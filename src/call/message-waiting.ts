/**
 * Message waiting from the voicemail server: a NOTIFY with Event: message-summary outside any dialog (RFC 3842's
 * unsolicited form, which Asterisk and FreePBX send to the registered Contact of an endpoint with a mailbox). The
 * line it names (by Request-URI user, as for an INVITE) hears stutter dial tone while messages wait.
 *
 * Answers, so that a server learns what went wrong: 489 Bad Event for another event package, 415 for another body
 * type, 400 for a summary that does not parse, 404 for no line, 403 from a stranger when the account takes requests
 * only from its proxy (`accept_from = "proxy"`: otherwise anyone could set the tone), 200 when the line has it.
 */
import type { AccountConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FxsPort } from '../phone/fxs-port.js';
import { getHeader, type SipRequest } from '../sip/message.js';
import { MESSAGE_SUMMARY_TYPE, parseMessageSummary } from '../sip/message-summary.js';
import { buildResponse } from '../sip/serializer.js';
import type { ServerTransaction } from '../sip/server-transaction.js';
import type { Peer } from '../sip/transport.js';
import type { ProxyAddresses } from './call-routing.js';
import { errorText } from './line-call.js';

export interface MessageWaitingOptions {
  log: Logger;
  userAgent: string;
  proxies: ProxyAddresses;
  accountOf(lineId: number): AccountConfig | undefined;
  newTag(): string;
}

export class MessageWaitingNotices {
  constructor(private readonly o: MessageWaitingOptions) {}

  /** An out-of-dialog NOTIFY, for `port` as routed by the call layer (undefined: no line takes it). */
  async notify(req: SipRequest, st: ServerTransaction, source: Peer, port: FxsPort | undefined): Promise<void> {
    const reply = (status: number, headers: Array<[string, string]> = []): void => {
      st.respond(buildResponse(req, status, undefined, [['User-Agent', this.o.userAgent], ...headers], { toTag: this.o.newTag() }));
    };
    const event = (getHeader(req, 'Event') ?? '').split(';')[0].trim().toLowerCase();
    if (event !== 'message-summary') {
      reply(489, [['Allow-Events', 'message-summary']]);
      return;
    }
    const type = (getHeader(req, 'Content-Type') ?? '').split(';')[0].trim().toLowerCase();
    if (type !== MESSAGE_SUMMARY_TYPE) {
      reply(415, [['Accept', MESSAGE_SUMMARY_TYPE]]);
      return;
    }
    let summary;
    try {
      summary = parseMessageSummary(req.body);
    } catch (err) {
      this.o.log.warn({ peer: `${source.host}:${source.port}`, err: errorText(err) }, 'message-summary NOTIFY refused: body does not parse');
      reply(400);
      return;
    }
    if (!port) {
      reply(404);
      return;
    }
    const account = this.o.accountOf(port.id);
    if (account?.accept_from === 'proxy' && !(await this.o.proxies.isFrom(account, source.host))) {
      this.o.log.warn({ line: port.id, peer: `${source.host}:${source.port}` }, 'NOTIFY not from our registrar/proxy refused (accept_from = "proxy")');
      reply(403);
      return;
    }
    port.controller.setMessageWaiting(summary.waiting, summary.voice);
    this.o.log.info({ line: port.id, waiting: summary.waiting, new: summary.voice?.new, old: summary.voice?.old, account: summary.account ?? undefined }, 'message waiting');
    reply(200);
  }
}
