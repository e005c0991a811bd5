/**
 * Per-call quality figures of an RTP stream, kept for the call log and the status API: what we sent, what we
 * received (RFC 3550 A.3 loss, A.8 jitter), what the far end's RTCP said about our stream, and what was dropped.
 */
import type { JitterBufferStats } from './jitter-buffer.js';

export interface RtpSessionStats {
  packetsSent: number;
  packetsReceived: number;
  /** RFC 3550 A.3 cumulative loss of the far end's stream as we received it (summed over its SSRCs). */
  lost: number;
  /** RFC 3550 A.8 interarrival jitter of the far end's stream, in ms. */
  jitterMs: number;
  /** From the far end's RTCP reports on our stream; -1 until one came. */
  rttMs: number;
  remoteFractionLost: number;
  remoteJitterMs: number;
  octetsSent: number;
  eventsSent: number;
  eventsReceived: number;
  /** Datagrams dropped: from another host (RTP bleed), unexpected payload type, malformed. */
  strangers: number;
  wrongPayloadType: number;
  malformed: number;
  /** Packets carrying our own SSRC (our stream looped back to us, or a collision), dropped. */
  looped: number;
  /** First packets of a new SSRC, dropped until a second in sequence confirms it (RFC 3550 A.1). */
  probation: number;
  playoutDelayMs: number;
  remoteBye: boolean;
  jitterBuffer: JitterBufferStats;
}

/** The counters a session bumps on its hot path: plain fields on one object, so nothing is allocated per packet. */
export class MediaCounters {
  packetsSent = 0;
  octetsSent = 0;
  eventsSent = 0;
  strangers = 0;
  wrongPayloadType = 0;
  malformed = 0;
  looped = 0;
  probation = 0;
  rttMs = -1;
  remoteFractionLost = 0;
  remoteJitterMs = 0;
  remoteBye = false;
}
