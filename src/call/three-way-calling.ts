/**
 * Three-way calling on a line, the POTS custom-calling feature commercial adapters copy, driven by hook flashes
 * (LineController): a flash in a lone call holds it for a consultation call; a flash before that call is answered
 * drops it and takes the held call back; a flash once it is answered joins all three in a conference (mixed by a
 * ConferenceBridge), and the next flash drops the party added last. Hanging up with the consultation call placed,
 * or in the conference, transfers the first call to it.
 *
 * The transfer (RFC 5589 6.1, with call-transfer.ts): our call to the target ends first, so the target is free for
 * the transferee's call; then the first call gets our REFER. Our part of that call ends only when the transferee's
 * NOTIFY says how its call to the target went: 2xx, the transfer is done; a failure, the phone is rung for the
 * first call again (LineController.transferDone). A transferee that says nothing within TRANSFER_OUTCOME_MS is
 * taken at its 202's word. Ending our call before that would leave some phones without the call they were asked
 * to make.
 */
import type { TimerHandle } from '../../hal/clock.js';
import type { FxsPort } from '../phone/fxs-port.js';
import { sendRefer } from '../sip/call-transfer.js';
import { holdCall, resumeCall, retrieveCall } from './call-hold.js';
import { ConferenceBridge } from './conference-bridge.js';
import type { CallDesk, LineCall } from './line-call.js';

/** How long a transferee that accepted our REFER may take to say how its call went before we end ours anyway. */
export const TRANSFER_OUTCOME_MS = 32_000;

interface PendingTransfer {
  port: FxsPort;
  transferee: LineCall;
  timer: TimerHandle;
}

export class ThreeWayCalling {
  /** Each line's call held for a consultation: the one a hang-up transfers. */
  private readonly consultations = new Map<number, LineCall>();
  /** Each line's conference: its two calls, mixed by a ConferenceBridge joined to the port. */
  private readonly bridges = new Map<number, { port: FxsPort; legs: [LineCall, LineCall] }>();
  /** Transfers whose REFER was accepted, waiting for the transferee's word on its call to the target. */
  private readonly transfers = new Map<LineCall, PendingTransfer>();

  constructor(private readonly desk: CallDesk) {}

  /** A flash in a lone call: it goes on hold, out of the earpiece, for a consultation call. */
  consult(port: FxsPort): void {
    const active = this.desk.calls.get(port.id);
    if (!active || this.desk.others.has(port.id)) return;
    this.desk.calls.delete(port.id);
    this.desk.others.set(port.id, active);
    this.consultations.set(port.id, active);
    holdCall(active, this.desk.logHold);
  }

  /** Back from a consultation: its call, if placed, is hung up; the held call is taken back. */
  endConsultation(port: FxsPort): void {
    this.consultations.delete(port.id);
    const first = this.backToFirst(port);
    if (first) retrieveCall(first, this.desk.logHold);
  }

  /** A flash with the consultation call answered: the held call joins it in a three-way conference. */
  conference(port: FxsPort): void {
    const added = this.desk.calls.get(port.id);
    const first = this.desk.others.get(port.id);
    if (!added?.media || !first?.media || this.bridges.has(port.id)) return;
    const bridge = new ConferenceBridge(added.media.joinBridge(port), first.media.joinBridge(port));
    port.connectAudio(bridge.mouthpiece, bridge.earpiece);
    this.bridges.set(port.id, { port, legs: [added, first] });
    resumeCall(first, this.desk.logHold); // it was held for the consultation: it sends again
    this.desk.log.info({ line: port.id }, 'conference');
  }

  /** A flash in the conference: the call added last is hung up; the first is the line's call again. */
  endConference(port: FxsPort): void {
    this.unbridge(port.id);
    this.consultations.delete(port.id);
    const first = this.backToFirst(port);
    if (!first) return;
    first.media?.connect(port); // it sends already: it was resumed for the conference
    this.desk.log.info({ line: port.id }, 'conference ended: back to the first call');
  }

  /** The line is done with its consultation (hung up without one placed, or rung for the held call). */
  forget(lineId: number): void {
    this.consultations.delete(lineId);
  }

  /**
   * `call` is leaving its slot (it ended, or is being ended). Outside a conference, nothing to do (null). In one,
   * the bridge is taken down and the other party returned, for the caller to put in the earpiece alone.
   */
  leaving(call: LineCall): LineCall | null {
    if (this.consultations.get(call.port.id) === call) this.consultations.delete(call.port.id);
    const bridge = this.bridges.get(call.port.id);
    if (!bridge?.legs.includes(call)) return null;
    this.unbridge(call.port.id);
    this.consultations.delete(call.port.id);
    return bridge.legs[0] === call ? bridge.legs[1] : bridge.legs[0];
  }

  /**
   * Hung up during a consultation or a conference: our call to the target ends and the first call is REFERred
   * there; its outcome reaches the line through LineController.transferDone.
   */
  transfer(port: FxsPort): void {
    const { desk } = this;
    this.unbridge(port.id); // from a conference: the two far ends are handed to each other
    const first = this.consultations.get(port.id);
    this.consultations.delete(port.id);
    // The consultation call is the one in the earpiece slot; the first call waits in the second slot.
    const consultation = desk.calls.get(port.id);
    if (consultation) desk.end(desk.calls, consultation);
    const dialog = first?.session?.state === 'confirmed' ? first.session.dialog : null;
    const uri = consultation?.target;
    if (!first || !dialog || !uri || first !== desk.others.get(port.id)) {
      this.failed(port, { why: !uri ? 'the consultation call was not one we placed' : 'the held call is not up' });
      return;
    }
    desk.log.info({ line: port.id, to: uri }, 'transferring the held call');
    void sendRefer(dialog, uri, { transactions: desk.transactions, userAgent: desk.userAgent, contact: desk.contactUri(port.id) }).then((result) => {
      if (result.kind !== 'accepted') {
        this.failed(port, result.kind === 'refused' ? { status: result.status } : { why: result.why });
        return;
      }
      // Our call to it ends once the transferee says how its call to the target went (progress, outcome).
      desk.log.info({ line: port.id, status: result.status }, 'transfer accepted');
      const timer = desk.clock.setTimeout(() => this.outcome(first, 'silent'), TRANSFER_OUTCOME_MS);
      this.transfers.set(first, { port, transferee: first, timer });
    });
  }

  /** A NOTIFY (Event: refer) in `call`'s dialog said `status` about the transferee's call to the target. */
  progress(call: LineCall, status: number): void {
    if (status >= 200) this.outcome(call, status);
  }

  /** The transferee's word, its silence, or its own hang-up: the transfer is settled. */
  outcome(call: LineCall, how: number | 'silent' | 'hung-up'): void {
    const t = this.transfers.get(call);
    if (!t) return;
    this.transfers.delete(call);
    this.desk.clock.clearTimeout(t.timer);
    if (typeof how === 'number' && how >= 300) {
      this.failed(t.port, { status: how, why: 'the transferee could not reach the target' });
      return;
    }
    this.desk.log.info({ line: t.port.id, outcome: how }, 'transfer done');
    t.port.controller.transferDone('accepted');
    if (this.desk.others.get(t.port.id) === call) this.desk.end(this.desk.others, call);
  }

  /** Whether `call` is a transferee whose REFER outcome is still awaited (its hang-up settles the transfer). */
  transferring(call: LineCall): boolean {
    return this.transfers.has(call);
  }

  private failed(port: FxsPort, why: Record<string, unknown>): void {
    this.desk.log.warn({ line: port.id, ...why }, 'transfer failed');
    const held = this.desk.others.get(port.id);
    if (!held) {
      port.controller.transferDone('gone');
      return;
    }
    if (port.controller.transferDone('refused')) this.desk.promoteOther(port.id);
    else this.desk.end(this.desk.others, held);
  }

  /** Hangs up the line's call in the earpiece (the party added last) and makes the held one the line's call. */
  private backToFirst(port: FxsPort): LineCall | null {
    const added = this.desk.calls.get(port.id);
    if (added) this.desk.end(this.desk.calls, added);
    const first = this.desk.others.get(port.id);
    if (!first) return null;
    this.desk.promoteOther(port.id);
    return first;
  }

  private unbridge(lineId: number): void {
    const bridge = this.bridges.get(lineId);
    if (!bridge) return;
    this.bridges.delete(lineId);
    bridge.port.connectAudio(null, null);
    for (const leg of bridge.legs) leg.media?.detach();
  }
}
