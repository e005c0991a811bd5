/**
 * RTCP (RFC 3550 section 6): reception statistics as in its appendix A.1 (sequence validation), A.3 (loss) and
 * A.8 (interarrival jitter), the compound SR/RR + SDES packet, BYE, and a reader that picks out what a two-party
 * call needs: the peer's report about our stream (loss, jitter, LSR/DLSR for the round-trip time) and its BYE.
 * Writers fill a caller's buffer and return the new offset; the reader fills a reusable view. Reports go out every
 * few seconds, so allocation matters less than on the RTP path, but none happens per report either.
 */
import { readUint32 } from './rtp-packet.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
const SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const NTP_UNIX_OFFSET_S = 2208988800;
const REPORT_BLOCK_BYTES = 24;

/** RFC 3550 A.1/A.3/A.8 for one received SSRC. Times are in RTP timestamp units. */
export class ReceptionStatistics {
  maxSeq = 0;
  cycles = 0;
  baseSeq = 0;
  badSeq = SEQ_MOD + 1;
  received = 0;
  /** Interarrival jitter, in timestamp units, as a float (A.8 keeps it scaled by 16; the float is the same figure). */
  jitter = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit = 0;
  private started = false;
  private hasTransit = false;

  reset(): void {
    this.started = false;
    this.hasTransit = false;
    this.jitter = 0;
    this.received = 0;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /**
   * A.1 update_seq. Returns false for a packet to be ignored (a jump being confirmed). The source is already vetted
   * (negotiated payload from the signalled host), so there is no MIN_SEQUENTIAL probation: the first packet counts.
   */
  updateSequence(seq: number): boolean {
    if (!this.started) {
      this.started = true;
      this.initSeq(seq);
      this.received = 1;
      return true;
    }
    const udelta = (seq - this.maxSeq) & 0xffff;
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      // A very large jump: restart only when the packet after it confirms the new sequence (the peer restarted).
      if (seq === this.badSeq) this.initSeq(seq);
      else {
        this.badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    this.received++;
    return true;
  }

  /** A.8: `arrival` is the arrival time converted to the stream's timestamp units. */
  updateJitter(rtpTimestamp: number, arrival: number): void {
    const transit = arrival - rtpTimestamp;
    if (this.hasTransit) {
      // Timestamps wrap at 2^32; fold the difference back into range before taking its size.
      let d = transit - this.transit;
      if (d > 2147483648) d -= 4294967296;
      else if (d < -2147483648) d += 4294967296;
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.transit = transit;
    this.hasTransit = true;
  }

  get extendedMaxSeq(): number {
    return this.cycles + this.maxSeq;
  }

  get expected(): number {
    return this.started ? this.extendedMaxSeq - this.baseSeq + 1 : 0;
  }

  /** A.3 cumulative number of packets lost (negative when duplicates outnumber losses). */
  get lost(): number {
    return this.expected - this.received;
  }

  /**
   * Writes one report block (A.3 fraction since the previous block) at `at` and returns the next offset.
   * `lsr`/`dlsr` are the middle 32 bits of the last SR's NTP time and the delay since it, in 1/65536 s.
   */
  writeReportBlock(buf: Uint8Array, at: number, sourceSsrc: number, lsr: number, dlsr: number): number {
    const expected = this.expected;
    const expectedInterval = expected - this.expectedPrior;
    this.expectedPrior = expected;
    const receivedInterval = this.received - this.receivedPrior;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, this.lost)) & 0xffffff;
    writeUint32(buf, at, sourceSsrc);
    buf[at + 4] = Math.min(255, fraction);
    buf[at + 5] = lost >>> 16;
    buf[at + 6] = (lost >>> 8) & 0xff;
    buf[at + 7] = lost & 0xff;
    writeUint32(buf, at + 8, this.extendedMaxSeq);
    writeUint32(buf, at + 12, Math.floor(this.jitter));
    writeUint32(buf, at + 16, lsr);
    writeUint32(buf, at + 20, dlsr);
    return at + REPORT_BLOCK_BYTES;
  }
}

export function writeUint32(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v >>> 24;
  buf[at + 1] = (v >>> 16) & 0xff;
  buf[at + 2] = (v >>> 8) & 0xff;
  buf[at + 3] = v & 0xff;
}

function writeHeader(buf: Uint8Array, at: number, count: number, type: number, bytes: number): void {
  buf[at] = 0x80 | count;
  buf[at + 1] = type;
  const words = bytes / 4 - 1;
  buf[at + 2] = words >>> 8;
  buf[at + 3] = words & 0xff;
}

/** NTP time (RFC 3550 section 4) of a Unix time in ms, as seconds and fraction. */
export class NtpTime {
  seconds = 0;
  fraction = 0;
  set(unixMs: number): this {
    const s = Math.floor(unixMs / 1000);
    this.seconds = (s + NTP_UNIX_OFFSET_S) >>> 0;
    this.fraction = Math.floor(((unixMs - s * 1000) / 1000) * 4294967296) >>> 0;
    return this;
  }
  /** The middle 32 bits, the unit of LSR/DLSR and of the round-trip computation (1/65536 s). */
  get middle(): number {
    return (((this.seconds & 0xffff) << 16) | (this.fraction >>> 16)) >>> 0;
  }
}

/** Figures for the sender-info part of an SR. */
export interface SenderInfo {
  ntp: NtpTime;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** Where the report block in an SR/RR comes from: our statistics about the peer's SSRC, if we have heard it. */
export interface ReportSource {
  stats: ReceptionStatistics;
  ssrc: number;
  lsr: number;
  dlsr: number;
}

/** The CNAME as SDES bytes, prepared once per session: an SDES packet with one chunk. */
export function encodeSdesCname(ssrc: number, cname: string): Uint8Array {
  const text = new TextEncoder().encode(cname).subarray(0, 255);
  const chunk = 4 + 2 + text.length + 1; // SSRC, type+len, text, end-of-items
  const padded = Math.ceil(chunk / 4) * 4;
  const out = new Uint8Array(4 + padded);
  writeHeader(out, 0, 1, RTCP_SDES, out.length);
  writeUint32(out, 4, ssrc);
  out[8] = 1; // CNAME
  out[9] = text.length;
  out.set(text, 10);
  return out;
}

/**
 * Writes a compound packet: SR when `sender` is given (we sent RTP since the last report), else RR; one report
 * block when `report` is given; then the SDES CNAME. Returns the length.
 */
export function writeReport(buf: Uint8Array, ssrc: number, sender: SenderInfo | null, report: ReportSource | null, sdes: Uint8Array): number {
  const blocks = report ? 1 : 0;
  let at = 8;
  writeUint32(buf, 4, ssrc);
  if (sender) {
    writeUint32(buf, 8, sender.ntp.seconds);
    writeUint32(buf, 12, sender.ntp.fraction);
    writeUint32(buf, 16, sender.rtpTimestamp);
    writeUint32(buf, 20, sender.packetCount);
    writeUint32(buf, 24, sender.octetCount);
    at = 28;
  }
  if (report) at = report.stats.writeReportBlock(buf, at, report.ssrc, report.lsr, report.dlsr);
  writeHeader(buf, 0, blocks, sender ? RTCP_SR : RTCP_RR, at);
  buf.set(sdes, at);
  return at + sdes.length;
}

/** Appends a BYE for `ssrc` at `at` (after a report, to make the compound packet RFC 3550 asks for). */
export function writeBye(buf: Uint8Array, at: number, ssrc: number): number {
  writeHeader(buf, at, 1, RTCP_BYE, 8);
  writeUint32(buf, at + 4, ssrc);
  return at + 8;
}

export type RtcpParseResult = 'ok' | 'short' | 'version' | 'length' | 'not-rtcp';

/** What one compound RTCP packet said that matters to us. */
export class RtcpReportView {
  senderSsrc = 0;
  /** An SR was present: its NTP middle bits, for our next LSR. */
  hasSenderReport = false;
  srNtpMiddle = 0;
  /** A report block about `ourSsrc` was present. */
  hasReportForUs = false;
  fractionLost = 0;
  cumulativeLost = 0;
  jitter = 0;
  lsr = 0;
  dlsr = 0;
  bye = false;

  parse(buf: Uint8Array, length: number, ourSsrc: number): RtcpParseResult {
    this.hasSenderReport = false;
    this.hasReportForUs = false;
    this.bye = false;
    if (length < 8 || length > buf.length) return 'short';
    if (buf[1] !== RTCP_SR && buf[1] !== RTCP_RR) return 'not-rtcp';
    let at = 0;
    while (at < length) {
      if (at + 4 > length) return 'length';
      if (buf[at] >> 6 !== 2) return 'version';
      const count = buf[at] & 0x1f;
      const type = buf[at + 1];
      const bytes = (((buf[at + 2] << 8) | buf[at + 3]) + 1) * 4;
      if (at + bytes > length) return 'length';
      if (type === RTCP_SR || type === RTCP_RR) {
        if (bytes < 8) return 'length';
        this.senderSsrc = readUint32(buf, at + 4);
        let blocks = at + 8;
        if (type === RTCP_SR) {
          if (bytes < 28) return 'length';
          this.hasSenderReport = true;
          this.srNtpMiddle = (((readUint32(buf, at + 8) & 0xffff) << 16) | (readUint32(buf, at + 12) >>> 16)) >>> 0;
          blocks = at + 28;
        }
        for (let i = 0; i < count && blocks + REPORT_BLOCK_BYTES <= at + bytes; i++, blocks += REPORT_BLOCK_BYTES) {
          if (readUint32(buf, blocks) !== ourSsrc) continue;
          this.hasReportForUs = true;
          this.fractionLost = buf[blocks + 4];
          this.cumulativeLost = ((buf[blocks + 5] << 24) | (buf[blocks + 6] << 16) | (buf[blocks + 7] << 8)) >> 8;
          this.jitter = readUint32(buf, blocks + 12);
          this.lsr = readUint32(buf, blocks + 16);
          this.dlsr = readUint32(buf, blocks + 20);
        }
      } else if (type === RTCP_BYE) {
        this.bye = true;
      }
      at += bytes;
    }
    return 'ok';
  }
}

/** Round-trip time (RFC 3550 6.4.1) in ms from our NTP middle bits at arrival and the block's LSR/DLSR; -1 if none. */
export function roundTripMs(arrivalMiddle: number, lsr: number, dlsr: number): number {
  if (lsr === 0) return -1;
  const rtt = (arrivalMiddle - lsr - dlsr) >>> 0;
  // A negative result (clock steps, a bogus block) wraps to a huge value: treat anything over a minute as unknown.
  return rtt > 65536 * 60 ? -1 : (rtt * 1000) / 65536;
}
