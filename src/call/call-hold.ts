/**
 * Hold and retrieve from our side, for hook-flash call waiting: the call leaves the earpiece at once and a re-INVITE
 * with a=sendonly tells the far end (RFC 3264 8.4); taking it back puts it in the earpiece at once and re-INVITEs
 * with a=sendrecv. The earpiece does not wait for the far end's answer, so the phone never hears a gap of a
 * round trip; a far end that refuses the re-INVITE (or never answers it) keeps the call as it was (RFC 3261 14.1),
 * which for hold means it goes on sending audio that nobody plays.
 */
import type { FxsPort } from '../phone/fxs-port.js';
import type { InviteSession } from '../sip/invite-session.js';
import type { CallMedia } from './call-media.js';

export interface HoldableCall {
  port: FxsPort;
  session: InviteSession | null;
  media: CallMedia | null;
}

type Log = (fields: Record<string, unknown>, msg: string) => void;

/** Takes the call off the line and asks the far end to hold (when the call is up). */
export function holdCall(call: HoldableCall, log: Log): void {
  const { session, media } = call;
  if (!media) return;
  media.detach();
  if (session?.state !== 'confirmed') return;
  reinvite(call, media.holdOffer(true), 'held', log);
}

/** Puts a held call back on the line and asks the far end to resume. */
export function retrieveCall(call: HoldableCall, log: Log): void {
  if (!call.media) return;
  call.media.connect(call.port);
  resumeCall(call, log, 'retrieved');
}

/**
 * Asks the far end of a held call to send again, without putting it in the earpiece: a conference joins it to its
 * bridge instead.
 */
export function resumeCall(call: HoldableCall, log: Log, what: 'retrieved' | 'joined' = 'joined'): void {
  const { session, media } = call;
  if (!media || session?.state !== 'confirmed') return;
  reinvite(call, media.holdOffer(false), what, log);
}

function reinvite(call: HoldableCall, sdp: string, what: 'held' | 'retrieved' | 'joined', log: Log): void {
  const { session, media } = call;
  void session!.modify(sdp).then((result) => {
    if (result.kind !== 'answered') {
      log({ line: call.port.id, ...result }, `call ${what} here; the far end did not take the re-INVITE`);
      return;
    }
    try {
      const m = media!.useReanswer(result.sdp);
      log({ line: call.port.id, direction: m.direction }, `call ${what}`);
    } catch (err) {
      log({ line: call.port.id, err: err instanceof Error ? err.message : String(err) }, `call ${what} here; the far end's answer was unusable`);
    }
  });
}
