/**
 * Calls that come to the phone: which line an INVITE is for and whether it may ring it (404, 403 for a stranger
 * when the account takes calls only from its proxy, 486 for a busy line), the stream for its offer (or our offer
 * for a late-offer INVITE, whose answer comes in the ACK), and ringing. A line in a call may take the INVITE as a
 * waiting call instead (`[[line]] call_waiting`, the line controller decides): it goes in the line's second slot and
 * the phone hears the call-waiting beep instead of the ringer.
 */
import type { FxsPort } from '../phone/fxs-port.js';
import { InviteSession, type CallEnd } from '../sip/invite-session.js';
import type { SipRequest } from '../sip/message.js';
import { buildResponse } from '../sip/serializer.js';
import type { InviteServerTransaction } from '../sip/server-transaction.js';
import type { Peer } from '../sip/transport.js';
import { CallMedia } from './call-media.js';
import type { ProxyAddresses } from './call-routing.js';
import { callerIdentity } from './caller-identity.js';
import { errorText, type CallDesk, type LineCall } from './line-call.js';

export class IncomingCalls {
  constructor(
    private readonly desk: CallDesk,
    private readonly proxies: ProxyAddresses,
  ) {}

  /** A new INVITE, for `port` as routed by the call layer (undefined: no line takes it). */
  async offer(req: SipRequest, st: InviteServerTransaction, source: Peer, port: FxsPort | undefined): Promise<void> {
    const { desk } = this;
    const reply = (status: number): void => {
      st.respond(buildResponse(req, status, undefined, [['User-Agent', desk.userAgent]], { toTag: desk.newTag() }));
    };
    if (!port) {
      reply(404);
      return;
    }
    const account = desk.accountOf(port.id);
    if (account && account.accept_from === 'proxy' && !(await this.proxies.isFrom(account, source.host))) {
      desk.log.warn({ line: port.id, peer: `${source.host}:${source.port}` }, 'INVITE not from our registrar/proxy refused (accept_from = "proxy")');
      reply(403);
      return;
    }
    const c = port.controller;
    const busy = desk.calls.has(port.id) || c.state !== 'idle' || c.hook !== 'on';
    // A line in a call may take a second one as a waiting call (the line controller says whether it does).
    const waits = busy && c.state === 'connected' && c.other === null && desk.calls.has(port.id) && !desk.others.has(port.id);
    if (busy && !waits) {
      desk.log.info({ line: port.id, state: c.state, hook: c.hook }, 'incoming call: line busy');
      reply(486);
      return;
    }
    const call: LineCall = { port, session: null, media: null, abandoned: false };
    const slot = waits ? desk.others : desk.calls;
    slot.set(port.id, call);
    const session = InviteSession.answerable(
      desk.sessionBase(port.id, account?.user ?? 'pi-ata', {
        ringing: () => undefined,
        answered: (ackSdp) => void this.acked(call, ackSdp),
        ended: (how) => this.ended(call, how),
        dtmf: (digit) => call.media?.playDigit(digit),
      }),
      req,
      st,
    );
    call.session = session;
    try {
      // An INVITE without SDP (a late offer, RFC 3261 13.2.1) gets our offer in the 200 and its answer in the ACK.
      const options = desk.mediaOptions(port.id);
      const media = req.body.length === 0 ? await CallMedia.forLateOffer(options) : await CallMedia.forAnswer(options, req.body);
      call.media = media;
      media.onInfoDigit((digit) => session.sendDtmfInfo(digit));
    } catch (err) {
      desk.log.warn({ line: port.id, err: errorText(err) }, 'incoming offer refused');
      desk.release(slot, call);
      session.reject(488);
      return;
    }
    if (session.state !== 'offered') {
      desk.release(slot, call); // cancelled while the stream was being set up
      return;
    }
    const who = callerIdentity(req);
    desk.log.info({ line: port.id, from: who.remote, number: who.number, name: who.name, alert_info: who.alertInfo, waiting: waits || undefined }, waits ? 'incoming call: waiting' : 'incoming call');
    if (!(waits ? c.callWaiting(who) : c.incomingCall(who))) {
      desk.release(slot, call);
      session.reject(486);
      return;
    }
    session.ring();
  }

  /** The ACK of our 200: for a late offer it carries the answer, without which the call cannot have audio. */
  private async acked(call: LineCall, ackSdp: string): Promise<void> {
    const { desk } = this;
    desk.log.info({ line: call.port.id }, 'ACK received: call confirmed');
    const media = call.media;
    if (!media?.awaitingAnswer || !desk.isLive(call)) return;
    try {
      if (ackSdp.length === 0) throw new Error('the ACK has no SDP answer');
      await media.useAnswer(ackSdp);
    } catch (err) {
      // RFC 3261 13.3.1.4: a UAS that cannot use the answer in the ACK ends the call with a BYE.
      desk.log.warn({ line: call.port.id, err: errorText(err) }, 'late offer: no usable answer in the ACK, hanging up');
      // It may have been put on hold again meanwhile: end it in whichever slot it is, and tell the line accordingly.
      if (desk.calls.get(call.port.id) === call) {
        desk.end(desk.calls, call);
        call.port.controller.remoteHangUp();
      } else {
        desk.end(desk.others, call);
        call.port.controller.otherCallEnded();
      }
      return;
    }
    if (desk.calls.get(call.port.id) !== call) return; // held again meanwhile: the stream joins the line on retrieval
    media.connect(call.port);
    desk.log.info({ line: call.port.id, codec: media.codec, remote: `${media.negotiated?.remoteAddress}:${media.negotiated?.remotePort}` }, 'late offer answered in the ACK');
  }

  private ended(call: LineCall, how: CallEnd): void {
    const { desk } = this;
    desk.log.info({ line: call.port.id, ...how }, 'call ended');
    if (desk.otherEnded(call)) return;
    if (desk.calls.get(call.port.id) !== call) return;
    desk.drop(call.port.id);
    const c = call.port.controller;
    if (c.state === 'ringing') c.incomingCallEnded();
    else if (how.kind === 'remote-bye' || how.kind === 'no-ack') c.remoteHangUp();
  }
}
