/**
 * The piece that joins the SIP stack to the analog lines: it is the stack's call layer (INVITEs, BYEs and ACKs
 * come here) and every line's call side (the line controller places, answers and hangs up through it). One call
 * per line at a time; a line that is not idle and on hook answers a new INVITE with 486 Busy Here.
 *
 * A line in a call takes a second incoming call as a waiting call (`[[line]] call_waiting`): it rings the far end
 * (180) and the phone hears the call-waiting beep; a hook flash answers it and holds the first call (call-hold.ts),
 * the next flash swaps them back; hanging up rings the phone for the one left. A third call gets 486.
 *
 * Routing, as an adapter without a dial-plan server does it:
 * - out: a speed-dial URI as it is; digits of the form a*b*c*d[*port] straight to that IPv4 address; other digits
 *   to sip:DIGITS@domain of the line's account (through its outbound proxy, else its registrar when that is not
 *   the domain itself, with its digest credentials).
 * - in: the account whose user is the Request-URI's user picks the line, else the first line without an account,
 *   else line 0. An account with accept_from = "proxy" takes calls only from its registrar or outbound proxy.
 */
import type { Clock, Random } from '../../hal/clock.js';
import type { AccountConfig, MediaConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { FxsPort } from '../phone/fxs-port.js';
import { dialogKeyOfRequest } from '../sip/dialog.js';
import { SipCredentials } from '../sip/digest.js';
import { formatNameAddr, quoteString } from '../sip/header-values.js';
import { getHeader, type SipRequest, type SipResponse } from '../sip/message.js';
import { buildResponse } from '../sip/serializer.js';
import type { InviteServerTransaction, ServerTransaction } from '../sip/server-transaction.js';
import type { TransactionLayer } from '../sip/transaction-layer.js';
import type { Peer } from '../sip/transport.js';
import { parseUri } from '../sip/uri.js';
import { holdCall, retrieveCall } from './call-hold.js';
import { CallMedia } from './call-media.js';
import { bracket, lineForRequest, nextHopOf, ProxyAddresses, targetUri, withLr } from './call-routing.js';
import { callerIdentity } from './caller-identity.js';
import { InviteSession, type CallEnd, type SessionBase } from '../sip/invite-session.js';

/** What the call layer needs from the SIP stack. */
export interface SignallingHost {
  readonly transactions: TransactionLayer;
  /** Our address for Contact and SDP (the learned public one when there is one). */
  readonly contact: { host: string; port: number };
  readonly accounts: ReadonlyArray<{ config: AccountConfig }>;
}

export interface CallLayerOptions {
  clock: Clock;
  random: Random;
  log: Logger;
  media: MediaConfig;
  userAgent: string;
}

/** One line's call: the signalling and the media, either of which may not exist yet. */
interface LineCall {
  port: FxsPort;
  session: InviteSession | null;
  media: CallMedia | null;
  /** The phone hung up while the media was still being set up. */
  abandoned: boolean;
  /** Early media being set up from a 180/183 with SDP; the answer waits for it. */
  early?: Promise<void>;
}

export class CallLayer {
  private host: SignallingHost | null = null;
  private readonly ports = new Map<number, FxsPort>();
  /** Each line's call in the earpiece. */
  private readonly calls = new Map<number, LineCall>();
  /** Each line's second call: waiting to be answered, or held by a hook flash. */
  private readonly others = new Map<number, LineCall>();
  private readonly proxies = new ProxyAddresses();
  private readonly log: Logger;
  /** BYEs still waiting for their answer; shutdown waits for them so calls end properly. */
  private readonly byes = new Set<Promise<void>>();

  constructor(private readonly o: CallLayerOptions) {
    this.log = o.log.child({ component: 'call' });
  }

  /** The stack, once it is open (lines are built before it). */
  attach(host: SignallingHost): void {
    this.host = host;
  }

  addLine(port: FxsPort): void {
    this.ports.set(port.id, port);
  }

  // --- the line's call side ----------------------------------------------------------------------------------

  placeCall(port: FxsPort, target: { digits: string; uri?: string }): void {
    void this.dial(port, target).catch((err) => {
      this.log.error({ line: port.id, err: err instanceof Error ? err.message : String(err) }, 'call could not be placed');
      this.drop(port.id);
      port.controller.callFailed('congestion');
    });
  }

  answerCall(port: FxsPort): void {
    const call = this.calls.get(port.id);
    if (call?.session?.state === 'confirmed' && call.media) {
      // The phone was rung for a call it had on hold (hung up with a second call): picking up takes it back.
      retrieveCall(call, this.logHold);
      return;
    }
    if (!call?.session || !call.media || !call.media.okSdp) return;
    call.session.accept(call.media.okSdp);
    // A late offer's stream has nowhere to go until the ACK brings the answer (see incomingAcked).
    if (!call.media.awaitingAnswer) call.media.connect(port);
    if (port.controller.call) port.controller.call.codec = call.media.codec;
    this.log.info({ line: port.id, codec: call.media.codec }, 'call answered');
  }

  hangUp(port: FxsPort, reason: 'on-hook' | 'timeout'): void {
    const call = this.calls.get(port.id);
    if (!call) return;
    this.log.info({ line: port.id, reason }, 'hanging up');
    call.abandoned = true;
    call.session?.hangUp();
    this.track(call.session);
    this.drop(port.id);
    // The line rings for the other call (LineController.onHook): it becomes the line's call.
    const other = this.others.get(port.id);
    if (other) {
      this.others.delete(port.id);
      this.calls.set(port.id, other);
    }
  }

  /** Hook flash with a second call: the call in the earpiece is held, the other is answered or retrieved. */
  swapCalls(port: FxsPort): void {
    const other = this.others.get(port.id);
    if (!other) return;
    const active = this.calls.get(port.id);
    this.others.delete(port.id);
    this.calls.set(port.id, other);
    if (active) {
      this.others.set(port.id, active);
      holdCall(active, this.logHold);
    }
    if (other.session?.state === 'offered') this.answerCall(port);
    else retrieveCall(other, this.logHold);
  }

  /** Ends the lines' second calls, waiting or held (the agent is stopping; it hangs up the lines after this). */
  endSecondCalls(): void {
    for (const call of [...this.others.values()]) {
      call.abandoned = true;
      call.session?.hangUp(); // its `ended` (otherEnded) releases it and tells the line; the line is told once
      this.track(call.session);
      this.otherEnded(call);
    }
  }

  private readonly logHold = (fields: Record<string, unknown>, msg: string): void => this.log.info(fields, msg);

  /** Waits (at most `ms`) for the BYEs sent so far to be answered: the agent stops only after that. */
  async drain(ms: number): Promise<void> {
    if (this.byes.size === 0) return;
    let timer;
    const timeout = new Promise<void>((r) => (timer = this.o.clock.setTimeout(r, ms)));
    await Promise.race([Promise.all([...this.byes]), timeout]);
    this.o.clock.clearTimeout(timer);
  }

  private track(session: InviteSession | null): void {
    const bye = session?.byeSettled;
    if (!bye) return;
    this.byes.add(bye);
    void bye.then(() => this.byes.delete(bye));
  }

  // --- the stack's call layer --------------------------------------------------------------------------------

  onRequest(req: SipRequest, st: ServerTransaction, source: Peer): void {
    const inDialog = req.parsed.to.params.get('tag') != null;
    if (req.method === 'INVITE' && !inDialog) {
      void this.incoming(req, st as InviteServerTransaction, source).catch((err) => {
        this.log.error({ err: err instanceof Error ? err.stack : String(err) }, 'incoming call failed');
        st.respond(buildResponse(req, 500, undefined, [['User-Agent', this.o.userAgent]], { toTag: 'error' }));
      });
      return;
    }
    const call = this.callOfDialog(req);
    if (!call?.session) {
      st.respond(buildResponse(req, 481, undefined, [['User-Agent', this.o.userAgent]]));
      return;
    }
    if (req.method === 'BYE') {
      call.session.remoteBye(req, st);
      return;
    }
    if (req.method === 'INVITE') {
      this.reinvite(call, req, st);
      return;
    }
    if (req.method === 'INFO') {
      call.session.remoteInfo(req, st);
      return;
    }
    st.respond(buildResponse(req, 501, undefined, [['User-Agent', this.o.userAgent]]));
  }

  onAck(req: SipRequest): void {
    this.callOfDialog(req)?.session?.ackReceived(req);
  }

  hasDialog(req: SipRequest): boolean {
    return this.callOfDialog(req) !== undefined;
  }

  hasInviteForCancel(req: SipRequest): boolean {
    for (const c of [...this.calls.values(), ...this.others.values()]) if (c.session?.direction === 'in' && c.session.callId === req.parsed.callId) return true;
    return false;
  }

  // --- outgoing ----------------------------------------------------------------------------------------------

  private async dial(port: FxsPort, target: { digits: string; uri?: string }): Promise<void> {
    const host = this.requireHost();
    const account = this.accountOf(port.id);
    const requestUri = targetUri(target, account);
    if (!requestUri) {
      this.log.warn({ line: port.id, digits: target.digits }, 'no route: the line has no account; dial a speed-dial code or an IP address (a*b*c*d)');
      port.controller.callFailed('congestion');
      return;
    }
    const call: LineCall = { port, session: null, media: null, abandoned: false };
    this.calls.set(port.id, call);
    const media = await CallMedia.forOffer(this.mediaOptions(port.id));
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
      : `<sip:${contactUser}@${bracket(host.contact.host)}>`;
    const log = this.log.child({ line: port.id });
    log.info({ to: requestUri, codecs: this.o.media.codecs }, 'placing call');
    call.session = InviteSession.call({
      ...this.sessionBase(port.id, contactUser, {
        ringing: (res) => this.outgoingRinging(call, res),
        answered: (sdp) => void this.outgoingAnswered(call, sdp),
        ended: (how) => this.outgoingEnded(call, how),
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
  private outgoingRinging(call: LineCall, res: SipResponse): void {
    call.port.controller.callRinging();
    const media = call.media;
    const type = (getHeader(res, 'Content-Type') ?? '').split(';')[0].trim().toLowerCase();
    if (!media || res.body.length === 0 || type !== 'application/sdp') return;
    const sdp = res.body;
    call.early = (call.early ?? Promise.resolve()).then(async () => {
      try {
        await media.useAnswer(sdp);
      } catch (err) {
        this.log.warn({ line: call.port.id, err: err instanceof Error ? err.message : String(err) }, 'early media SDP unusable: ignored');
        return;
      }
      if (this.calls.get(call.port.id) !== call || call.session?.state !== 'early') return;
      media.connect(call.port, true);
      this.log.info({ line: call.port.id, status: res.status, remote: `${media.negotiated?.remoteAddress}:${media.negotiated?.remotePort}` }, 'early media');
    });
  }

  private async outgoingAnswered(call: LineCall, sdp: string): Promise<void> {
    await call.early;
    const media = call.media;
    if (!media || this.calls.get(call.port.id) !== call) return;
    try {
      await media.useAnswer(sdp);
    } catch (err) {
      this.log.warn({ line: call.port.id, err: err instanceof Error ? err.message : String(err) }, 'answer SDP unusable: hanging up');
      call.session?.hangUp();
      this.drop(call.port.id);
      call.port.controller.callFailed('congestion');
      return;
    }
    if (this.calls.get(call.port.id) !== call) return;
    media.connect(call.port);
    this.log.info({ line: call.port.id, codec: media.codec, remote: `${media.negotiated?.remoteAddress}:${media.negotiated?.remotePort}` }, 'call connected');
    call.port.controller.callAnswered(media.codec);
  }

  private outgoingEnded(call: LineCall, how: CallEnd): void {
    this.log.info({ line: call.port.id, ...how }, 'call ended');
    if (this.otherEnded(call)) return;
    if (this.calls.get(call.port.id) !== call) return; // we hung up: the line has moved on
    this.drop(call.port.id);
    const c = call.port.controller;
    if (c.state === 'ringing') c.incomingCallEnded(); // rung again for it after a hang-up
    else if (how.kind === 'remote-bye' || how.kind === 'no-ack') c.remoteHangUp();
    else if (how.kind === 'rejected' && (how.status === 486 || how.status === 600)) c.callFailed('busy');
    else c.callFailed('congestion');
  }

  // --- incoming ----------------------------------------------------------------------------------------------

  private async incoming(req: SipRequest, st: InviteServerTransaction, source: Peer): Promise<void> {
    const lineId = lineForRequest(req, this.host?.accounts.map((a) => a.config) ?? [], [...this.ports.keys()]);
    const port = lineId === undefined ? undefined : this.ports.get(lineId);
    const reply = (status: number, headers: Array<[string, string]> = []): void => {
      st.respond(buildResponse(req, status, undefined, [['User-Agent', this.o.userAgent], ...headers], { toTag: 'x' + Math.floor(this.o.random() * 1e9).toString(36) }));
    };
    if (!port) {
      reply(404);
      return;
    }
    const account = this.accountOf(port.id);
    if (account && account.accept_from === 'proxy' && !(await this.proxies.isFrom(account, source.host))) {
      this.log.warn({ line: port.id, peer: `${source.host}:${source.port}` }, 'INVITE not from our registrar/proxy refused (accept_from = "proxy")');
      reply(403);
      return;
    }
    const c = port.controller;
    const busy = this.calls.has(port.id) || c.state !== 'idle' || c.hook !== 'on';
    // A line in a call may take a second one as a waiting call (the line controller says whether it does).
    const waits = busy && c.state === 'connected' && c.other === null && this.calls.has(port.id) && !this.others.has(port.id);
    if (busy && !waits) {
      this.log.info({ line: port.id, state: c.state, hook: c.hook }, 'incoming call: line busy');
      reply(486);
      return;
    }
    const call: LineCall = { port, session: null, media: null, abandoned: false };
    const slot = waits ? this.others : this.calls;
    slot.set(port.id, call);
    const contactUser = account?.user ?? 'pi-ata';
    const session = InviteSession.answerable(
      this.sessionBase(port.id, contactUser, {
        ringing: () => undefined,
        answered: (ackSdp) => void this.incomingAcked(call, ackSdp),
        ended: (how) => this.incomingEnded(call, how),
        dtmf: (digit) => call.media?.playDigit(digit),
      }),
      req,
      st,
    );
    call.session = session;
    try {
      // An INVITE without SDP (a late offer, RFC 3261 13.2.1) gets our offer in the 200 and its answer in the ACK.
      const media = req.body.length === 0 ? await CallMedia.forLateOffer(this.mediaOptions(port.id)) : await CallMedia.forAnswer(this.mediaOptions(port.id), req.body);
      call.media = media;
      media.onInfoDigit((digit) => session.sendDtmfInfo(digit));
    } catch (err) {
      this.log.warn({ line: port.id, err: err instanceof Error ? err.message : String(err) }, 'incoming offer refused');
      this.release(slot, call);
      session.reject(488);
      return;
    }
    if (session.state !== 'offered') {
      this.release(slot, call); // cancelled while the stream was being set up
      return;
    }
    const who = callerIdentity(req);
    this.log.info({ line: port.id, from: who.remote, number: who.number, name: who.name, alert_info: who.alertInfo, waiting: waits || undefined }, waits ? 'incoming call: waiting' : 'incoming call');
    if (!(waits ? c.callWaiting(who) : c.incomingCall(who))) {
      this.release(slot, call);
      session.reject(486);
      return;
    }
    session.ring();
  }

  /** The ACK of our 200: for a late offer it carries the answer, without which the call cannot have audio. */
  private async incomingAcked(call: LineCall, ackSdp: string): Promise<void> {
    this.log.info({ line: call.port.id }, 'ACK received: call confirmed');
    const media = call.media;
    if (!media?.awaitingAnswer || !this.isLive(call)) return;
    try {
      if (ackSdp.length === 0) throw new Error('the ACK has no SDP answer');
      await media.useAnswer(ackSdp);
    } catch (err) {
      // RFC 3261 13.3.1.4: a UAS that cannot use the answer in the ACK ends the call with a BYE.
      this.log.warn({ line: call.port.id, err: err instanceof Error ? err.message : String(err) }, 'late offer: no usable answer in the ACK, hanging up');
      call.session?.hangUp();
      this.track(call.session);
      this.drop(call.port.id);
      call.port.controller.remoteHangUp();
      return;
    }
    if (this.calls.get(call.port.id) !== call) return; // held again meanwhile: the stream joins the line on retrieval
    media.connect(call.port);
    this.log.info({ line: call.port.id, codec: media.codec, remote: `${media.negotiated?.remoteAddress}:${media.negotiated?.remotePort}` }, 'late offer answered in the ACK');
  }

  private incomingEnded(call: LineCall, how: CallEnd): void {
    this.log.info({ line: call.port.id, ...how }, 'call ended');
    if (this.otherEnded(call)) return;
    if (this.calls.get(call.port.id) !== call) return;
    this.drop(call.port.id);
    const c = call.port.controller;
    if (c.state === 'ringing') c.incomingCallEnded();
    else if (how.kind === 'remote-bye' || how.kind === 'no-ack') c.remoteHangUp();
  }

  private reinvite(call: LineCall, req: SipRequest, st: ServerTransaction): void {
    const dialog = call.session?.dialog;
    if (!call.media || !dialog || call.session?.state !== 'confirmed' || call.session.modifying) {
      // Ours is unanswered (glare) or the call is not up yet: RFC 3261 14.2.
      st.respond(buildResponse(req, 491, undefined, [['User-Agent', this.o.userAgent]]));
      return;
    }
    if (!dialog.acceptRemoteSeq(req)) {
      st.respond(buildResponse(req, 500, undefined, [['User-Agent', this.o.userAgent]]));
      return;
    }
    try {
      const wasSending = call.media.sending;
      const sdp = call.media.reoffer(req.body);
      dialog.updateTarget(req);
      const m = call.media.negotiated!;
      if (wasSending !== call.media.sending) this.log.info({ line: call.port.id, direction: m.direction, held: m.held }, call.media.sending ? 'call resumed: our audio goes out again' : 'call on hold: our audio stops');
      call.session.answerReinvite(req, st, buildResponse(req, 200, undefined, [['Contact', `<${this.contactUri(call.port.id)}>`], ['User-Agent', this.o.userAgent], ['Content-Type', 'application/sdp']], { body: sdp }));
    } catch (err) {
      this.log.warn({ line: call.port.id, err: err instanceof Error ? err.message : String(err) }, 're-INVITE refused');
      st.respond(buildResponse(req, 488, undefined, [['User-Agent', this.o.userAgent]]));
    }
  }

  // --- shared ------------------------------------------------------------------------------------------------

  private sessionBase(lineId: number, contactUser: string, events: SessionBase['events']): SessionBase {
    const log = this.log.child({ line: lineId });
    return {
      transactions: this.requireHost().transactions,
      clock: this.o.clock,
      random: this.o.random,
      userAgent: this.o.userAgent,
      contact: this.contactUri(lineId, contactUser),
      events,
      log: (msg, fields) => log.info(fields ?? {}, msg),
    };
  }

  private contactUri(lineId: number, user = this.accountOf(lineId)?.user ?? 'pi-ata'): string {
    const c = this.requireHost().contact;
    return `sip:${user}@${bracket(c.host)}:${c.port}`;
  }

  private mediaOptions(lineId: number) {
    const log = this.log.child({ line: lineId });
    return { clock: this.o.clock, random: this.o.random, media: this.o.media, sdpAddress: this.requireHost().contact.host, log: (msg: string, fields?: Record<string, unknown>) => log.info(fields ?? {}, msg) };
  }

  private accountOf(lineId: number): AccountConfig | undefined {
    return this.host?.accounts.find((a) => a.config.line === lineId)?.config;
  }

  private callOfDialog(req: SipRequest): LineCall | undefined {
    const key = dialogKeyOfRequest(req);
    for (const c of [...this.calls.values(), ...this.others.values()]) if (c.session?.dialog?.key === key) return c;
    return undefined;
  }

  private isLive(call: LineCall): boolean {
    return this.calls.get(call.port.id) === call || this.others.get(call.port.id) === call;
  }

  /** The line's second call ended (the waiting caller gave up, the held far end hung up): true when it was that. */
  private otherEnded(call: LineCall): boolean {
    if (!this.release(this.others, call)) return false;
    call.port.controller.otherCallEnded();
    return true;
  }

  /** Forgets the line's call and releases its media. */
  private drop(lineId: number): void {
    const call = this.calls.get(lineId);
    if (call) this.release(this.calls, call);
  }

  /** Takes `call` out of `slot` (the line's call or its second call) and closes its media; false when not there. */
  private release(slot: Map<number, LineCall>, call: LineCall): boolean {
    if (slot.get(call.port.id) !== call) return false;
    slot.delete(call.port.id);
    const media = call.media;
    call.media = null;
    void media?.close().catch((err) => this.log.warn({ err: String(err) }, 'closing call media failed'));
    return true;
  }

  private requireHost(): SignallingHost {
    if (!this.host) throw new Error('call layer used before the SIP stack was attached');
    return this.host;
  }
}
