/**
 * RFC 4733 telephone-events (DTMF digits carried as named events, not as tones).
 *
 * Payload (4 bytes): event (8 bits), E (end) bit, R, volume (6 bits, -dBm0), duration (16 bits, timestamp units).
 *
 * The sender is a state machine driven by time (the session calls `advance` from its timers): one event at a
 * time, the same RTP timestamp throughout (the timestamp where the event began), marker on its first packet only,
 * an update every 50 ms with the duration grown to the time elapsed, and three end packets 50 ms apart. The receiver reports
 * each event once, de-duplicating by (timestamp, event) since updates and end packets repeat it, and decides the
 * end by the E bit or, when the end packets are lost, after a timeout without updates.
 */

export const TELEPHONE_EVENT_BYTES = 4;
export const EVENT_UPDATE_MS = 50;
export const END_PACKETS = 3;
/** An event whose updates stop for this long is over even without an end packet (three missed updates + slack). */
export const LOST_END_TIMEOUT_MS = 200;
const MAX_DURATION = 0xffff;

const DIGITS = '0123456789*#ABCD';

/** The RFC 4733 event code of a DTMF digit ('0'-'9', '*', '#', 'A'-'D'), or -1. */
export function dtmfEventCode(digit: string): number {
  return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** The digit of an event code 0-15, or undefined for other events (flash, tones). */
export function dtmfDigit(code: number): string | undefined {
  return code >= 0 && code < 16 ? DIGITS[code] : undefined;
}

export class TelephoneEventError extends Error {
  constructor(readonly digit: string) {
    super(`not a DTMF digit: ${JSON.stringify(digit)}`);
    this.name = 'TelephoneEventError';
  }
}

export function writeTelephoneEvent(buf: Uint8Array, at: number, event: number, end: boolean, volume: number, duration: number): number {
  buf[at] = event;
  buf[at + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
  buf[at + 2] = duration >>> 8;
  buf[at + 3] = duration & 0xff;
  return at + TELEPHONE_EVENT_BYTES;
}

/** What the sender wants on the wire next: the session writes it into its packet buffer. */
export interface EventPacket {
  event: number;
  marker: boolean;
  end: boolean;
  duration: number;
  timestamp: number;
}

export type SenderState = 'idle' | 'sending' | 'ending';

export class TelephoneEventSender {
  state: SenderState = 'idle';
  /** The packet to send, valid after `begin`/`advance` returned true. Reused: read it before the next call. */
  readonly packet: EventPacket = { event: 0, marker: false, end: false, duration: 0, timestamp: 0 };
  private startedAt = 0;
  private durationSamples = 0;
  private endsSent = 0;

  constructor(
    private readonly clockRate = 8000,
    readonly volume = 10,
  ) {}

  /** Starts an event at RTP timestamp `timestamp`; the first packet (marker set) is ready in `packet`. */
  begin(digit: string, durationMs: number, timestamp: number, nowMs: number): boolean {
    const code = dtmfEventCode(digit);
    if (code < 0) throw new TelephoneEventError(digit);
    this.state = 'sending';
    this.startedAt = nowMs;
    this.durationSamples = Math.min(MAX_DURATION, Math.max(1, Math.round((durationMs * this.clockRate) / 1000)));
    this.endsSent = 0;
    const p = this.packet;
    p.event = code;
    p.marker = true;
    p.end = false;
    p.timestamp = timestamp >>> 0;
    p.duration = 0;
    return true;
  }

  /** Time moved to `nowMs` (an update is due every 50 ms): fills `packet` and returns true when one must go out. */
  advance(nowMs: number): boolean {
    const p = this.packet;
    p.marker = false;
    if (this.state === 'idle') return false;
    if (this.state === 'ending') {
      if (++this.endsSent >= END_PACKETS) this.state = 'idle';
      return true;
    }
    const elapsed = Math.round(((nowMs - this.startedAt) * this.clockRate) / 1000);
    if (elapsed >= this.durationSamples) {
      p.duration = this.durationSamples;
      p.end = true;
      this.state = 'ending';
      this.endsSent = 1;
      return true;
    }
    p.duration = elapsed;
    return true;
  }

  /**
   * Milliseconds until the next packet is due: updates every 50 ms, and the end packet's two repeats 50 ms apart too
   * ("a total of three times at the interval used by the source for updates", RFC 4733 2.5.1.4), so that a burst of
   * loss shorter than 100 ms cannot take all three.
   */
  nextDelayMs(nowMs: number): number {
    if (this.state === 'ending') return EVENT_UPDATE_MS;
    const elapsedMs = nowMs - this.startedAt;
    const endMs = (this.durationSamples * 1000) / this.clockRate;
    const nextUpdate = (Math.floor(elapsedMs / EVENT_UPDATE_MS) + 1) * EVENT_UPDATE_MS;
    return Math.max(0, Math.min(nextUpdate, endMs) - elapsedMs);
  }

  /** Abandons the event (call ended). */
  cancel(): void {
    this.state = 'idle';
  }
}

export type ReceiverState = 'idle' | 'in-event' | 'ended';

export class TelephoneEventReceiver {
  state: ReceiverState = 'idle';
  private timestamp = 0;
  private event = -1;
  private lastHeardAt = 0;
  /** Events reported, and events ended by timeout because their end packets never came. */
  eventsReceived = 0;
  endsByTimeout = 0;
  /** Packets of events older than the current one, ignored. */
  stale = 0;
  /** Malformed payloads dropped. */
  dropped = 0;

  constructor(private readonly onEvent: (digit: string, event: number) => void) {}

  /** One telephone-event payload (`length` bytes at `at` in `buf`) with its RTP timestamp. */
  receive(buf: Uint8Array, at: number, length: number, rtpTimestamp: number, nowMs: number): void {
    if (length < TELEPHONE_EVENT_BYTES) {
      this.dropped++;
      return;
    }
    const event = buf[at];
    const end = (buf[at + 1] & 0x80) !== 0;
    const same = this.state !== 'idle' && rtpTimestamp === this.timestamp && event === this.event;
    if (same) {
      if (this.state === 'in-event') {
        this.lastHeardAt = nowMs;
        if (end) this.state = 'ended';
      }
      return; // an update, a repeated end packet, or a straggler of an ended event
    }
    if (this.state !== 'idle' && ((rtpTimestamp - this.timestamp) | 0) < 0) {
      this.stale++; // a late packet of an earlier event (reordered behind the next one): already reported
      return;
    }
    // A new (timestamp, event): a new event, even when it is the same digit pressed again.
    this.timestamp = rtpTimestamp;
    this.event = event;
    this.lastHeardAt = nowMs;
    this.state = end ? 'ended' : 'in-event';
    this.eventsReceived++;
    const digit = dtmfDigit(event);
    if (digit !== undefined) this.onEvent(digit, event);
  }

  /**
   * The far end started a new stream (a new SSRC): its timestamps start from a new random base, which says nothing
   * about which events came first, so the last event is forgotten rather than compared against. The counts stay.
   */
  reset(): void {
    this.state = 'idle';
    this.event = -1;
  }

  /** Called as time passes (every frame): ends an event whose end packets were lost. */
  poll(nowMs: number): void {
    if (this.state === 'in-event' && nowMs - this.lastHeardAt >= LOST_END_TIMEOUT_MS) {
      this.state = 'ended';
      this.endsByTimeout++;
    }
  }
}
