/**
 * One call's signalling (RFC 3261 sec. 13-15): the INVITE that sets up a dialog and the BYE or CANCEL that ends it,
 * from either side. As caller (UAC) it sends the INVITE with our SDP offer, answers a 401/407 once with the
 * account's digest credentials, acknowledges the 2xx itself (13.2.2.4) and cancels or hangs up on demand. As callee
 * (UAS) it rings (180), answers (200 with our SDP answer, retransmitted until the ACK, 13.3.1.4), refuses (486 and
 * the like) and turns a CANCEL into 487.
 *
 * SDP is opaque here: the call layer builds offers and answers and reads the far end's. Media is not here either.
 */
import type { Clock, Random } from '../../hal/clock.js';
import type { InviteClientTransaction } from './client-transaction.js';
import { Dialog, DialogError, PLACEHOLDER_VIA } from './dialog.js';
import { DigestAuthenticator, DigestAuthError, type SipCredentials } from './digest.js';
import { answerDtmfInfo, DtmfInfoSender } from './dtmf-info.js';
import { OkRetransmitter } from './ok-retransmitter.js';
import { ReinviteSender, type ReinviteResult } from './reinvite-sender.js';
import { getHeaders, type SipRequest, type SipResponse } from './message.js';
import { buildRequest, buildResponse } from './serializer.js';
import type { InviteServerTransaction } from './server-transaction.js';
import { DEFAULT_TIMER_BASE, type TimerBase } from './timers.js';
import type { TransactionError } from './transaction-error.js';
import type { TransactionLayer } from './transaction-layer.js';
import { formatUri } from './uri.js';

export type InviteSessionState =
  /** UAC: INVITE sent, no provisional response yet. */
  | 'inviting'
  /** UAC: the far end is ringing (1xx). */
  | 'early'
  /** UAC: we hung up before the answer; CANCEL sent, waiting for the INVITE's final response. */
  | 'cancelling'
  /** UAS: INVITE received, the phone is ringing. */
  | 'offered'
  /** UAS: 200 sent, waiting for its ACK. */
  | 'accepted'
  /** Both: the call is up. */
  | 'confirmed'
  | 'ended';

/** How a call ended or why it never started, for the line and the call log. */
export type CallEnd =
  | { kind: 'rejected'; status: number }
  | { kind: 'no-response'; why: string }
  | { kind: 'auth-failed'; why: string }
  | { kind: 'cancelled' }
  | { kind: 'remote-bye' }
  | { kind: 'local-hangup' }
  | { kind: 'no-ack' };

export interface InviteSessionEvents {
  /** UAC: 180/183 from the far end. */
  ringing(res: SipResponse): void;
  /** UAC: 2xx with the far end's SDP answer (already acknowledged). UAS: the ACK arrived. */
  answered(sdpAnswer: string): void;
  /** The call is over (or never began); fired once. */
  ended(how: CallEnd): void;
  /** A digit the far end sent as SIP INFO (already answered 200). */
  dtmf?(digit: string): void;
}

export interface SessionBase {
  transactions: TransactionLayer;
  clock: Clock;
  random: Random;
  userAgent: string;
  /** Our Contact URI, e.g. sip:100@192.0.2.10:5060. */
  contact: string;
  events: InviteSessionEvents;
  log(msg: string, fields?: Record<string, unknown>): void;
  timerBase?: TimerBase;
}

export interface OutgoingCallOptions extends SessionBase {
  requestUri: string;
  /** From (without tag) and To, as name-addr. */
  from: string;
  to: string;
  /** Pre-loaded route (the account's outbound proxy), e.g. <sip:proxy.example.org;lr>. */
  route?: string;
  credentials?: SipCredentials;
  sdpOffer: string;
}

const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, INFO';

const TOKEN_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function randomToken(random: Random, length = 12): string {
  let s = '';
  for (let i = 0; i < length; i++) s += TOKEN_CHARS[Math.floor(random() * TOKEN_CHARS.length) % TOKEN_CHARS.length];
  return s;
}

export class InviteSession {
  state: InviteSessionState;
  readonly direction: 'out' | 'in';
  readonly callId: string;
  dialog: Dialog | null = null;
  /** The INVITE that set the call up (the latest one after a digest retry). */
  invite: SipRequest;
  private clientTx: InviteClientTransaction | null = null;
  private serverTx: InviteServerTransaction | null = null;
  private auth: DigestAuthenticator | null = null;
  private authTried = false;
  private okResender: OkRetransmitter | null = null;
  private infoSender: DtmfInfoSender | null = null;
  private reinviter: ReinviteSender | null = null;
  /** The 2xx to a re-INVITE we received, retransmitted until the ACK with its CSeq (RFC 3261 14.2). */
  private reOk: { cseq: number; resender: OkRetransmitter } | null = null;
  private readonly base: TimerBase;
  private readonly localTag: string;
  /** Settles when the BYE we sent has its final response (or failed); null when we sent none. */
  byeSettled: Promise<void> | null = null;

  private constructor(
    private readonly o: SessionBase,
    direction: 'out' | 'in',
    invite: SipRequest,
    localTag: string,
  ) {
    this.direction = direction;
    this.invite = invite;
    this.callId = invite.parsed.callId;
    this.localTag = localTag;
    this.base = o.timerBase ?? DEFAULT_TIMER_BASE;
    this.state = direction === 'out' ? 'inviting' : 'offered';
  }

  /** Places a call: builds and sends the INVITE. Failures arrive as `ended`. */
  static call(o: OutgoingCallOptions): InviteSession {
    const tag = randomToken(o.random);
    const callId = `${randomToken(o.random, 20)}@pi-ata`;
    const headers: Array<[string, string]> = [['Via', PLACEHOLDER_VIA]];
    if (o.route) headers.push(['Route', o.route]);
    headers.push(
      ['From', `${o.from};tag=${tag}`],
      ['To', o.to],
      ['Call-ID', callId],
      ['CSeq', '1 INVITE'],
      ['Contact', `<${o.contact}>`],
      ['Allow', ALLOW],
      ['User-Agent', o.userAgent],
      ['Content-Type', 'application/sdp'],
    );
    const invite = buildRequest({ method: 'INVITE', uri: o.requestUri, headers, body: o.sdpOffer });
    const s = new InviteSession(o, 'out', invite, tag);
    if (o.credentials) s.auth = new DigestAuthenticator(o.credentials, o.random, (m) => o.log(m));
    s.sendInvite();
    return s;
  }

  /** Takes an incoming INVITE; the caller then calls `ring`, `accept` or `reject`. */
  static answerable(o: SessionBase, invite: SipRequest, st: InviteServerTransaction): InviteSession {
    const s = new InviteSession(o, 'in', invite, randomToken(o.random));
    s.serverTx = st;
    st.onCancel = () => s.cancelledByCaller();
    st.onError = (err) => o.log('INVITE server transaction failed', { err: err.message });
    // Our dialog is made at once so that a BYE or ACK can be matched to it by tags.
    s.dialog = Dialog.asUas(invite, s.localTag, Math.floor(o.random() * 10000) + 1);
    return s;
  }

  get localTagValue(): string {
    return this.localTag;
  }

  // --- UAC ---------------------------------------------------------------------------------------------------

  private sendInvite(): void {
    this.clientTx = this.o.transactions.sendRequest(this.invite, {
      onProvisional: (res) => this.provisional(res),
      onFinal: (res) => this.final(res),
      onError: (err) => this.inviteFailed(err),
    }) as InviteClientTransaction;
  }

  private provisional(res: SipResponse): void {
    if (this.state !== 'inviting' && this.state !== 'early') return;
    this.state = 'early';
    if (res.status === 180 || res.status === 183) this.o.events.ringing(res);
  }

  private final(res: SipResponse): void {
    if (res.status >= 200 && res.status < 300) {
      this.success(res);
      return;
    }
    if (this.state !== 'inviting' && this.state !== 'early' && this.state !== 'cancelling') return;
    if ((res.status === 401 || res.status === 407) && this.state !== 'cancelling' && this.retryWithCredentials(res)) return;
    this.auth?.onNonChallengeFinal();
    this.finish(this.state === 'cancelling' ? { kind: 'cancelled' } : { kind: 'rejected', status: res.status });
  }

  private retryWithCredentials(res: SipResponse): boolean {
    if (!this.auth) return false;
    let authz;
    try {
      this.auth.onChallenge(res, this.authTried);
      authz = this.auth.authorize('INVITE', formatUri(this.invite.uri), this.invite.body);
    } catch (err) {
      this.finish({ kind: 'auth-failed', why: err instanceof DigestAuthError ? err.message : String(err) });
      return true;
    }
    if (!authz) return false;
    this.authTried = true;
    // Same Call-ID and From tag, next CSeq (RFC 3261 22.2); the To of the original request, not the 401's tag.
    const headers: Array<[string, string]> = [];
    for (const h of this.invite.headers) {
      if (h.name === 'Authorization' || h.name === 'Proxy-Authorization' || h.name === 'Content-Length') continue;
      headers.push([h.name, h.name === 'CSeq' ? `${this.invite.parsed.cseq.seq + 1} INVITE` : h.value]);
    }
    headers.push([authz.name, authz.value]);
    this.invite = buildRequest({ method: 'INVITE', uri: this.invite.uri, headers, body: this.invite.body });
    this.state = 'inviting';
    this.sendInvite();
    return true;
  }

  private success(res: SipResponse): void {
    let dialog = this.dialog;
    if (!dialog) {
      try {
        dialog = Dialog.asUac(this.invite, res);
      } catch (err) {
        this.o.log('2xx that makes no dialog: ignored', { err: err instanceof DialogError ? err.message : String(err) });
        return;
      }
      this.dialog = dialog;
    } else if (res.parsed.to.params.get('tag') !== dialog.remoteTag) {
      // A second fork answered: acknowledge it and hang it up at once (RFC 3261 13.2.2.4); we keep the first.
      const other = Dialog.asUac(this.invite, res);
      this.sendAck(other);
      this.sendBye(other);
      return;
    }
    // Every 2xx (retransmissions included) gets an ACK: ours may have been lost.
    this.sendAck(dialog);
    this.auth?.onNonChallengeFinal();
    if (this.state === 'cancelling') {
      // The answer crossed our CANCEL: the call exists now, so end it properly.
      dialog.confirm();
      this.sendBye(dialog);
      this.finish({ kind: 'cancelled' });
      return;
    }
    if (this.state !== 'inviting' && this.state !== 'early') return;
    dialog.confirm();
    this.state = 'confirmed';
    this.o.events.answered(res.body);
  }

  private inviteFailed(err: TransactionError): void {
    if (this.state === 'cancelling') {
      this.finish({ kind: 'cancelled' });
      return;
    }
    if (this.state !== 'inviting' && this.state !== 'early') return;
    this.finish({ kind: 'no-response', why: `${err.failure}: ${err.message}` });
  }

  private sendAck(dialog: Dialog): void {
    const ack = dialog.createRequest('ACK', [['User-Agent', this.o.userAgent]], '', this.invite.parsed.cseq.seq);
    this.o.transactions.sendStateless(ack).catch((err) => this.o.log('ACK not sent', { err: String(err) }));
  }

  // --- UAS ---------------------------------------------------------------------------------------------------

  /** 180 Ringing with our tag (the early dialog's). */
  ring(): void {
    if (this.state !== 'offered' || !this.serverTx) return;
    this.serverTx.respond(this.response(180));
  }

  /** Answers with 200 and our SDP; retransmits it (T1, doubling to T2) until the ACK, for 64*T1 at most. */
  accept(sdpAnswer: string): void {
    if (this.state !== 'offered' || !this.serverTx) return;
    const ok = this.response(200, [['Content-Type', 'application/sdp']], sdpAnswer);
    const tx = this.serverTx;
    tx.respond(ok);
    this.state = 'accepted';
    this.okResender = new OkRetransmitter({
      clock: this.o.clock,
      base: this.base,
      resend: () => tx.respond(ok),
      // RFC 3261 13.3.1.4: no ACK within 64*T1 -> the dialog is confirmed and at once ended with a BYE.
      giveUp: () => this.noAck(),
    });
  }

  /** Refuses the INVITE (486 busy, 488 bad SDP, 480, 603 ...). */
  reject(status: number, headers: Array<[string, string]> = []): void {
    if (this.state !== 'offered' || !this.serverTx) return;
    this.serverTx.respond(this.response(status, headers));
    this.finish({ kind: 'rejected', status });
  }

  /** The ACK for our 200 (the call layer matched it by dialog). */
  ackReceived(ack: SipRequest): void {
    if (this.state === 'confirmed' && this.reOk && ack.parsed.cseq.seq === this.reOk.cseq) {
      this.stopReOk();
      return;
    }
    if (this.state !== 'accepted') return;
    if (ack.parsed.cseq.seq !== this.invite.parsed.cseq.seq) return;
    this.okResender?.stop();
    this.okResender = null;
    this.dialog?.confirm();
    this.state = 'confirmed';
    this.o.events.answered(ack.body);
  }

  /**
   * Answers a re-INVITE in our dialog (the call layer built the response). A 2xx is retransmitted at T1, doubling to
   * T2, until the ACK with the re-INVITE's CSeq arrives; with none after 64*T1 the call is ended with a BYE, as for
   * the first INVITE. Without this a lost 200 left the far end retrying a re-INVITE we no longer answered.
   */
  answerReinvite(req: SipRequest, st: { respond(res: SipResponse): unknown }, res: SipResponse): void {
    this.stopReOk();
    st.respond(res);
    if (res.status < 200 || res.status >= 300 || this.state !== 'confirmed') return;
    const resender = new OkRetransmitter({
      clock: this.o.clock,
      base: this.base,
      resend: () => st.respond(res),
      giveUp: () => {
        this.o.log('no ACK for our 200 to a re-INVITE: hanging up', { cseq: req.parsed.cseq.seq });
        this.noAck();
      },
    });
    this.reOk = { cseq: req.parsed.cseq.seq, resender };
  }

  private stopReOk(): void {
    this.reOk?.resender.stop();
    this.reOk = null;
  }

  private noAck(): void {
    this.reOk = null;
    this.okResender = null;
    if (this.dialog) this.sendBye(this.dialog);
    this.finish({ kind: 'no-ack' });
  }

  private cancelledByCaller(): void {
    if (this.state !== 'offered' || !this.serverTx) return;
    this.serverTx.respond(this.response(487));
    this.finish({ kind: 'cancelled' });
  }

  private response(status: number, extra: Array<[string, string]> = [], body = ''): SipResponse {
    const headers: Array<[string, string]> = [];
    if (status > 100 && status < 300) {
      headers.push(['Contact', `<${this.o.contact}>`]);
      // RFC 3261 12.1.1: the caller learns the route set from these, so a proxy that record-routed stays in the
      // dialog's path (its ACK and BYE go through the proxy, not straight to our Contact).
      for (const rr of getHeaders(this.invite, 'Record-Route')) headers.push(['Record-Route', rr]);
    }
    headers.push(['User-Agent', this.o.userAgent], ...extra);
    if (status === 200) headers.push(['Allow', ALLOW]);
    return buildResponse(this.invite, status, undefined, headers, { toTag: this.localTag, body });
  }

  // --- both ---------------------------------------------------------------------------------------------------

  /** The phone went on hook: CANCEL before the answer, BYE after it. */
  hangUp(): void {
    switch (this.state) {
      case 'inviting':
      case 'early':
        if (this.clientTx) {
          this.state = 'cancelling';
          // The layer holds the CANCEL back until the INVITE has had a provisional response (RFC 3261 9.1).
          this.o.transactions.sendCancel(this.clientTx, {
            onFinal: () => undefined,
            onError: (err) => {
              // No provisional ever came, so there was nothing to cancel: the INVITE's own timeout ends it.
              this.o.log('CANCEL not sent', { err: err.message });
            },
          });
        }
        return;
      case 'accepted':
      case 'confirmed':
        if (this.dialog) this.sendBye(this.dialog);
        this.finish({ kind: 'local-hangup' });
        return;
      case 'offered':
        this.reject(480);
        return;
      default:
        return;
    }
  }

  /** Sends a keyed digit as SIP INFO in the call's dialog (`[media] dtmf = "info"`); ignored unless the call is up. */
  sendDtmfInfo(digit: string): void {
    if (this.state !== 'confirmed' || !this.dialog) return;
    this.infoSender ??= new DtmfInfoSender({ transactions: this.o.transactions, userAgent: this.o.userAgent, log: this.o.log });
    this.infoSender.send(this.dialog, digit);
  }

  /**
   * Sends a new offer in the confirmed call (hold and resume, reinvite-sender.ts). Resolves with the far end's
   * answer, or why there is none; the call goes on either way.
   */
  modify(sdpOffer: string): Promise<ReinviteResult> {
    if (this.state !== 'confirmed' || !this.dialog) return Promise.resolve({ kind: 'failed', why: 'the call is not up' });
    this.reinviter ??= new ReinviteSender({
      transactions: this.o.transactions,
      clock: this.o.clock,
      random: this.o.random,
      userAgent: this.o.userAgent,
      contact: this.o.contact,
      allow: ALLOW,
      weCalled: this.direction === 'out',
      log: this.o.log,
    });
    return this.reinviter.send(this.dialog, sdpOffer);
  }

  /** True while a re-INVITE of ours is unanswered: one from the far end must get 491 meanwhile (RFC 3261 14.2). */
  get modifying(): boolean {
    return this.reinviter?.busy ?? false;
  }

  /** An INFO in our dialog: answered (dtmf-info.ts), and a digit in it handed up while the call is up. */
  remoteInfo(req: SipRequest, st: { respond(res: SipResponse): unknown }): void {
    const digit = answerDtmfInfo(req, st, this.o.userAgent);
    if (digit !== null && this.state === 'confirmed') this.o.events.dtmf?.(digit);
  }

  /** A BYE in our dialog (the call layer already checked it belongs here). */
  remoteBye(req: SipRequest, st: { respond(res: SipResponse): unknown }): void {
    st.respond(buildResponse(req, 200, undefined, [['User-Agent', this.o.userAgent]]));
    if (this.state === 'ended') return;
    this.finish({ kind: 'remote-bye' });
  }

  private sendBye(dialog: Dialog): void {
    const bye = dialog.createRequest('BYE', [['User-Agent', this.o.userAgent]]);
    dialog.terminate();
    this.byeSettled = new Promise((settle) => {
      this.o.transactions.sendRequest(bye, {
        onFinal: (res) => {
          this.o.log('BYE answered', { status: res.status });
          settle();
        },
        onError: (err) => {
          this.o.log('BYE failed', { err: err.message });
          settle();
        },
      });
    });
  }

  private finish(how: CallEnd): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.stopReOk();
    this.reinviter?.cancel();
    this.okResender?.stop();
    this.okResender = null;
    this.dialog?.terminate();
    this.o.events.ended(how);
  }
}
