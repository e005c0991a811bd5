/**
 * Calls the phone places: the route (call-routing.ts), the INVITE with our offer, early media from a 180/183 with
 * SDP, the answer, and how the call's end sounds on the line (busy for 486/600, congestion for the rest, nothing
 * when the phone hung up first).
 */
import { SipCredentials } from '../sip/digest.js';
import { formatNameAddr, quoteString } from '../sip/header-values.js';
import { getHeader, type SipResponse } from '../sip/message.js';
import { InviteSession, type CallEnd } from '../sip/invite-session.js';
import { parseUri } from '../sip/uri.js';
import type { FxsPort } from '../phone/fxs-port.js';
import { CallMedia } from './call-media.js';
import { bracket, nextHopOf, targetUri, withLr } from './call-routing.js';
import { errorText, type CallDesk, type LineCall } from './line-call.js';

export class OutgoingCalls {
  constructor(
    private readonly desk: CallDesk,
    private readonly codecs: readonly string[],
    /** Our Contact host, for the From of a line without an account. */
    private readonly contactHost: () => string,
  ) {}

  /** Places the call; anything that goes wrong before the INVITE is sent gives the phone congestion. */
  place(port: FxsPort, target: { digits: string; uri?: string }): void {
    void this.dial(port, target).catch((err) => {
      this.desk.log.error({ line: port.id, err: errorText(err) }, 'call could not be placed');
      this.desk.drop(port.id);
      port.controller.callFailed('congestion');
    });
  }

  private async dial(port: FxsPort, target: { digits: string; uri?: string }): Promise<void> {
    const { desk } = this;
    const account = desk.accountOf(port.id);
    const requestUri = targetUri(target, account);
    if (!requestUri) {
      desk.log.warn({ line: port.id, digits: target.digits }, 'no route: the line has no account; dial a speed-dial code or an IP address (a*b*c*d)');
      port.controller.callFailed('congestion');
      return;
    }
    const call: LineCall = { port, session: null, media: null, abandoned: false, target: requestUri };
    desk.calls.set(port.id, call);
    const media = await CallMedia.forOffer(desk.mediaOptions(port.id));
    call.media = media;
    media.onInfoDigit((digit) => call.session?.sendDtmfInfo(digit));
    if (call.abandoned) {
      await media.close();
      return;
    }
    const contactUser = account?.user ?? 'pi-ata';
    const nextHop = nextHopOf(account);
    const from = account
      ? `${account.display_name ? quoteString(account.display_name) + ' ' : ''}<sip:${account.user}@${account.domain}>`
      : `<sip:${contactUser}@${bracket(this.contactHost())}>`;
    desk.log.info({ line: port.id, to: requestUri, codecs: this.codecs }, 'placing call');
    call.session = InviteSession.call({
      ...desk.sessionBase(port.id, contactUser, {
        ringing: (res) => this.ringing(call, res),
        answered: (sdp) => void this.answered(call, sdp),
        ended: (how) => this.ended(call, how),
        dtmf: (digit) => call.media?.playDigit(digit),
      }),
      requestUri,
      from,
      to: formatNameAddr({ uri: parseUri(requestUri), params: new Map() }),
      ...(nextHop ? { route: `<${withLr(nextHop)}>` } : {}),
      ...(account ? { credentials: new SipCredentials(account.auth_user, account.password) } : {}),
      sdpOffer: media.offerSdp(),
    });
  }

  /**
   * 180/183 for our call. With SDP it is early media (RFC 3960's gateway model, as carriers use it for their
   * ringback and announcements): the stream follows that SDP at once and the far end's audio plays over our
   * ringback. An SDP we cannot use is ignored here (the line hears our ringback); the 200's SDP is what counts.
   */
  private ringing(call: LineCall, res: SipResponse): void {
    call.port.controller.callRinging();
    const media = call.media;
    const type = (getHeader(res, 'Content-Type') ?? '').split(';')[0].trim().toLowerCase();
    if (!media || res.body.length === 0 || type !== 'application/sdp') return;
    const sdp = res.body;
    call.early = (call.early ?? Promise.resolve()).then(async () => {
      try {
        await media.useAnswer(sdp);
      } catch (err) {
        this.desk.log.warn({ line: call.port.id, err: errorText(err) }, 'early media SDP unusable: ignored');
        return;
      }
      if (this.desk.calls.get(call.port.id) !== call || call.session?.state !== 'early') return;
      media.connect(call.port, true);
      this.desk.log.info({ line: call.port.id, status: res.status, remote: `${media.negotiated?.remoteAddress}:${media.negotiated?.remotePort}` }, 'early media');
    });
  }

  private async answered(call: LineCall, sdp: string): Promise<void> {
    await call.early;
    const media = call.media;
    if (!media || this.desk.calls.get(call.port.id) !== call) return;
    try {
      await media.useAnswer(sdp);
    } catch (err) {
      this.desk.log.warn({ line: call.port.id, err: errorText(err) }, 'answer SDP unusable: hanging up');
      this.desk.end(this.desk.calls, call);
      call.port.controller.callFailed('congestion');
      return;
    }
    if (this.desk.calls.get(call.port.id) !== call) return;
    media.connect(call.port);
    this.desk.log.info({ line: call.port.id, codec: media.codec, remote: `${media.negotiated?.remoteAddress}:${media.negotiated?.remotePort}` }, 'call connected');
    call.port.controller.callAnswered(media.codec, media);
  }

  private ended(call: LineCall, how: CallEnd): void {
    this.desk.log.info({ line: call.port.id, ...how }, 'call ended');
    if (this.desk.otherEnded(call)) return;
    if (this.desk.calls.get(call.port.id) !== call) return; // we hung up: the line has moved on
    this.desk.drop(call.port.id);
    const c = call.port.controller;
    if (c.state === 'ringing') c.incomingCallEnded(); // rung again for it after a hang-up
    else if (how.kind === 'remote-bye' || how.kind === 'no-ack') c.remoteHangUp();
    else if (how.kind === 'rejected' && (how.status === 486 || how.status === 600)) c.callFailed('busy');
    else c.callFailed('congestion');
  }
}
