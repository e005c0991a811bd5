/**
 * The piece that joins the SIP stack to the analog lines: it is the stack's call layer (INVITEs, BYEs and ACKs
 * come here) and every line's call side (the line controller places, answers and hangs up through it). It owns
 * each line's calls (line-call.ts); placing a call is outgoing-call.ts, taking one is incoming-call.ts. One call
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
import type { InviteSession, SessionBase } from '../sip/invite-session.js';
import type { SipRequest } from '../sip/message.js';
import { buildResponse } from '../sip/serializer.js';
import type { InviteServerTransaction, ServerTransaction } from '../sip/server-transaction.js';
import type { TransactionLayer } from '../sip/transaction-layer.js';
import type { Peer } from '../sip/transport.js';
import { answerReferNotify } from '../sip/call-transfer.js';
import { holdCall, retrieveCall } from './call-hold.js';
import type { CallMediaOptions } from './call-media.js';
import type { SocketBinder } from '../media/rtp-port-pair.js';
import { bracket, lineForRequest, ProxyAddresses } from './call-routing.js';
import { IncomingCalls } from './incoming-call.js';
import { errorText, type CallDesk, type CallSlot, type LineCall } from './line-call.js';
import { MessageWaitingNotices } from './message-waiting.js';
import { OutgoingCalls } from './outgoing-call.js';
import { ThreeWayCalling } from './three-way-calling.js';

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
  /** How call media makes its sockets (CallMediaOptions.bind). */
  bind?: SocketBinder;
}

export class CallLayer implements CallDesk {
  private host: SignallingHost | null = null;
  private readonly ports = new Map<number, FxsPort>();
  readonly calls: CallSlot = new Map();
  readonly others: CallSlot = new Map();
  readonly log: Logger;
  readonly userAgent: string;
  readonly clock: Clock;
  /** BYEs still waiting for their answer; shutdown waits for them so calls end properly. */
  private readonly byes = new Set<Promise<void>>();
  private readonly outgoing: OutgoingCalls;
  private readonly incoming: IncomingCalls;
  private readonly notices: MessageWaitingNotices;
  private readonly threeWay: ThreeWayCalling;

  constructor(private readonly o: CallLayerOptions) {
    this.log = o.log.child({ component: 'call' });
    this.userAgent = o.userAgent;
    this.clock = o.clock;
    this.outgoing = new OutgoingCalls(this, o.media.codecs, () => this.requireHost().contact.host);
    const proxies = new ProxyAddresses();
    this.incoming = new IncomingCalls(this, proxies);
    this.threeWay = new ThreeWayCalling(this);
    this.notices = new MessageWaitingNotices({ log: this.log, userAgent: o.userAgent, proxies, accountOf: (id) => this.accountOf(id), newTag: () => this.newTag() });
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
    this.outgoing.place(port, target);
  }

  answerCall(port: FxsPort): void {
    if (!this.calls.has(port.id)) {
      // Rung for the second call after the first had already ended (its far end hung up, or a consultation call
      // failed): it becomes the line's call now.
      this.threeWay.forget(port.id);
      this.promoteOther(port.id);
    }
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
    if (port.controller.call) {
      port.controller.call.codec = call.media.codec;
      port.controller.call.media = call.media;
    }
    this.log.info({ line: port.id, codec: call.media.codec }, 'call answered');
  }

  hangUp(port: FxsPort, reason: 'on-hook' | 'timeout'): void {
    this.threeWay.forget(port.id); // hung up with no consultation call placed: the held call rings back
    const call = this.calls.get(port.id);
    if (!call) return;
    this.log.info({ line: port.id, reason }, 'hanging up');
    call.abandoned = true;
    this.end(this.calls, call);
    this.promoteOther(port.id);
  }

  /** The line rings for its other call (LineController.onHook): it becomes the line's call. */
  promoteOther(lineId: number): void {
    const other = this.others.get(lineId);
    if (!other) return;
    this.others.delete(lineId);
    this.calls.set(lineId, other);
  }

  // Three-way calling (three-way-calling.ts): the LineSeams of the same names.
  consult(port: FxsPort): void {
    this.threeWay.consult(port);
  }

  endConsultation(port: FxsPort): void {
    this.threeWay.endConsultation(port);
  }

  conference(port: FxsPort): void {
    this.threeWay.conference(port);
  }

  endConference(port: FxsPort): void {
    this.threeWay.endConference(port);
  }

  transferCalls(port: FxsPort): void {
    this.threeWay.transfer(port);
  }

  /** Hook flash with a second call: the call in the earpiece is held, the other is answered or retrieved. */
  swapCalls(port: FxsPort): void {
    const other = this.others.get(port.id);
    if (!other) return;
    const active = this.calls.get(port.id);
    if (!active) this.threeWay.forget(port.id); // the consultation's far end hung up: a flash takes the held call back
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

  readonly logHold = (fields: Record<string, unknown>, msg: string): void => this.log.info(fields, msg);

  /** Waits (at most `ms`) for the BYEs sent so far to be answered: the agent stops only after that. */
  async drain(ms: number): Promise<void> {
    if (this.byes.size === 0) return;
    let timer;
    const timeout = new Promise<void>((r) => (timer = this.o.clock.setTimeout(r, ms)));
    await Promise.race([Promise.all([...this.byes]), timeout]);
    this.o.clock.clearTimeout(timer);
  }

  track(session: InviteSession | null): void {
    const bye = session?.byeSettled;
    if (!bye) return;
    this.byes.add(bye);
    void bye.then(() => this.byes.delete(bye));
  }

  // --- the stack's call layer --------------------------------------------------------------------------------

  onRequest(req: SipRequest, st: ServerTransaction, source: Peer): void {
    const inDialog = req.parsed.to.params.get('tag') != null;
    if ((req.method === 'INVITE' || req.method === 'NOTIFY') && !inDialog) {
      const lineId = lineForRequest(req, this.host?.accounts.map((a) => a.config) ?? [], [...this.ports.keys()]);
      const port = lineId === undefined ? undefined : this.ports.get(lineId);
      const work = req.method === 'INVITE' ? this.incoming.offer(req, st as InviteServerTransaction, source, port) : this.notices.notify(req, st, source, port);
      void work.catch((err) => {
        this.log.error({ method: req.method, err: err instanceof Error ? err.stack : String(err) }, 'request failed');
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
    if (req.method === 'NOTIFY') {
      // How the transferee's call to the target goes (a REFER of ours); the call itself is over or ends soon.
      const status = answerReferNotify(req, st, this.o.userAgent);
      if (status === null) return;
      this.log.info({ line: call.port.id, status }, 'transfer progress');
      this.threeWay.progress(call, status);
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
      this.log.warn({ line: call.port.id, err: errorText(err) }, 're-INVITE refused');
      st.respond(buildResponse(req, 488, undefined, [['User-Agent', this.o.userAgent]]));
    }
  }

  // --- shared ------------------------------------------------------------------------------------------------

  sessionBase(lineId: number, contactUser: string, events: SessionBase['events']): SessionBase {
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

  contactUri(lineId: number, user = this.accountOf(lineId)?.user ?? 'pi-ata'): string {
    const c = this.requireHost().contact;
    return `sip:${user}@${bracket(c.host)}:${c.port}`;
  }

  mediaOptions(lineId: number): CallMediaOptions {
    const log = this.log.child({ line: lineId });
    return { clock: this.o.clock, random: this.o.random, media: this.o.media, sdpAddress: this.requireHost().contact.host, log: (msg: string, fields?: Record<string, unknown>) => log.info(fields ?? {}, msg), bind: this.o.bind };
  }

  accountOf(lineId: number): AccountConfig | undefined {
    return this.host?.accounts.find((a) => a.config.line === lineId)?.config;
  }

  private callOfDialog(req: SipRequest): LineCall | undefined {
    const key = dialogKeyOfRequest(req);
    for (const c of [...this.calls.values(), ...this.others.values()]) if (c.session?.dialog?.key === key) return c;
    return undefined;
  }

  isLive(call: LineCall): boolean {
    return this.calls.get(call.port.id) === call || this.others.get(call.port.id) === call;
  }

  /** The line's second call ended (the waiting caller gave up, the held far end hung up): true when it was that. */
  otherEnded(call: LineCall): boolean {
    // A transferee that hangs up on us before saying how its call went: the transfer is as done as it will get.
    if (this.threeWay.transferring(call)) this.threeWay.outcome(call, 'hung-up');
    if (!this.release(this.others, call)) return false;
    call.port.controller.otherCallEnded();
    return true;
  }

  /** Forgets the line's call and releases its media. */
  drop(lineId: number): void {
    const call = this.calls.get(lineId);
    if (call) this.release(this.calls, call);
  }

  /** Takes `call` out of `slot` (the line's call or its second call) and closes its media; false when not there. */
  release(slot: CallSlot, call: LineCall): boolean {
    if (slot.get(call.port.id) !== call) return false;
    const remaining = this.threeWay.leaving(call);
    slot.delete(call.port.id);
    const media = call.media;
    call.media = null;
    void media?.close().catch((err) => this.log.warn({ err: String(err) }, 'closing call media failed'));
    if (remaining) {
      // A party of the conference left: the other is the line's only call, in the earpiece.
      if (this.others.get(call.port.id) === remaining) this.promoteOther(call.port.id);
      remaining.media?.connect(call.port);
    }
    return true;
  }

  end(slot: CallSlot, call: LineCall): void {
    this.release(slot, call);
    call.session?.hangUp();
    this.track(call.session);
  }

  newTag(): string {
    return 'x' + Math.floor(this.o.random() * 1e9).toString(36);
  }

  get transactions(): TransactionLayer {
    return this.requireHost().transactions;
  }

  private requireHost(): SignallingHost {
    if (!this.host) throw new Error('call layer used before the SIP stack was attached');
    return this.host;
  }
}
