/**
 * RTP fixed header (RFC 3550 section 5.1), written and parsed in place. Nothing here allocates: the writer fills a
 * caller's buffer, and the parser fills the fields of a reusable RtpPacketView, so one view serves every packet of
 * a stream. Malformed input is reported as a reason string (a constant, so no allocation either) and dropped by the
 * caller; it never throws.
 */

export const RTP_VERSION = 2;
export const RTP_HEADER_BYTES = 12;

/** Why a datagram was not accepted as RTP. 'ok' means the view holds the packet. */
export type RtpParseResult = 'ok' | 'short' | 'version' | 'csrc-overrun' | 'extension-overrun' | 'padding-invalid' | 'rtcp';

/** Writes the 12-byte header at `buf[0..12)`; returns the offset of the payload. */
export function writeRtpHeader(
  buf: Uint8Array,
  marker: boolean,
  payloadType: number,
  sequence: number,
  timestamp: number,
  ssrc: number,
): number {
  buf[0] = 0x80; // V=2, no padding, no extension, no CSRC
  buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  buf[2] = (sequence >>> 8) & 0xff;
  buf[3] = sequence & 0xff;
  buf[4] = timestamp >>> 24;
  buf[5] = (timestamp >>> 16) & 0xff;
  buf[6] = (timestamp >>> 8) & 0xff;
  buf[7] = timestamp & 0xff;
  buf[8] = ssrc >>> 24;
  buf[9] = (ssrc >>> 16) & 0xff;
  buf[10] = (ssrc >>> 8) & 0xff;
  buf[11] = ssrc & 0xff;
  return RTP_HEADER_BYTES;
}

export function readUint32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

/**
 * The next header of an outgoing stream, kept as its 12 bytes: the SSRC written once, the sequence number and the
 * timestamp counted up in the bytes themselves, 16 bits at a time. So every value the per-packet path computes is a
 * small integer. A uint32 timestamp or SSRC held as a JavaScript number is not one above 2^30, and V8 boxes it as a
 * heap number wherever it crosses a call that V8 does not inline, or is touched by code still in its baseline tier:
 * an allocation per packet, for the life of the call.
 */
export class RtpHeaderCounter {
  private readonly bytes = new Uint8Array(RTP_HEADER_BYTES);

  constructor(ssrc: number, sequence: number, timestamp: number) {
    writeRtpHeader(this.bytes, false, 0, sequence & 0xffff, timestamp >>> 0, ssrc >>> 0);
  }

  /** The sequence number the next packet gets. */
  get sequence(): number {
    return (this.bytes[2] << 8) | this.bytes[3];
  }

  /** The timestamp the next audio packet gets (a heap number when above 2^30: for the rare paths only). */
  get timestamp(): number {
    return readUint32(this.bytes, 4);
  }

  /** Writes the header with `marker` and `payloadType` into `buf[0..12)`, then counts the sequence number up. */
  writeNext(buf: Uint8Array, marker: boolean, payloadType: number): void {
    const b = this.bytes;
    for (let i = 0; i < RTP_HEADER_BYTES; i++) buf[i] = b[i];
    buf[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    this.countSequence();
  }

  /** Counts the sequence number up by one (a packet whose header was written otherwise), wrapping at 2^16. */
  countSequence(): void {
    const b = this.bytes;
    const seq = (((b[2] << 8) | b[3]) + 1) & 0xffff;
    b[2] = seq >> 8;
    b[3] = seq & 0xff;
  }

  /** Advances the timestamp by `samples` (an integer; negative goes back), wrapping at 2^32. */
  advance(samples: number): void {
    const b = this.bytes;
    let nLow = samples;
    let nHigh = 0;
    if (samples < 0 || samples > 0xffff) {
      // Not a frame's worth (a resume after a long hold): the general case, where doubles are allowed.
      const n = ((samples % 4294967296) + 4294967296) % 4294967296;
      nLow = n % 65536;
      nHigh = (n - nLow) / 65536;
    }
    const low = ((b[6] << 8) | b[7]) + nLow;
    const high = ((b[4] << 8) | b[5]) + nHigh + (low >> 16);
    b[4] = (high >> 8) & 0xff;
    b[5] = high & 0xff;
    b[6] = (low >> 8) & 0xff;
    b[7] = low & 0xff;
  }
}

/** The fields of the last parsed packet; `payloadOffset`/`payloadLength` locate the payload inside the datagram. */
export class RtpPacketView {
  marker = false;
  payloadType = 0;
  sequence = 0;
  timestamp = 0;
  ssrc = 0;
  csrcCount = 0;
  hasExtension = false;
  paddingBytes = 0;
  payloadOffset = 0;
  payloadLength = 0;
  /**
   * When the datagram arrived, in ms on the receiver's clock: not in the packet; set by whoever received it, so that
   * this one object carries a packet to the jitter buffer (JitterPacket) without its uint32 fields and the time being
   * passed as arguments, which V8 boxes as heap numbers at every call it does not inline.
   */
  arrivalMs = 0;

  /** Parses `length` bytes of `buf`. CSRCs and a header extension are skipped; padding is removed. */
  parse(buf: Uint8Array, length: number): RtpParseResult {
    if (length < RTP_HEADER_BYTES || length > buf.length) return 'short';
    const b0 = buf[0];
    if (b0 >> 6 !== RTP_VERSION) return 'version';
    const b1 = buf[1];
    // RTCP packet types 200-204 occupy what would be marker + PT 72-76 (RFC 5761 section 4): not audio.
    if (b1 >= 200 && b1 <= 204) return 'rtcp';
    const csrcCount = b0 & 0x0f;
    let offset = RTP_HEADER_BYTES + csrcCount * 4;
    if (offset > length) return 'csrc-overrun';
    const hasExtension = (b0 & 0x10) !== 0;
    if (hasExtension) {
      if (offset + 4 > length) return 'extension-overrun';
      const words = (buf[offset + 2] << 8) | buf[offset + 3];
      offset += 4 + words * 4;
      if (offset > length) return 'extension-overrun';
    }
    let end = length;
    let paddingBytes = 0;
    if (b0 & 0x20) {
      paddingBytes = buf[length - 1];
      if (paddingBytes === 0 || end - paddingBytes < offset) return 'padding-invalid';
      end -= paddingBytes;
    }
    this.marker = (b1 & 0x80) !== 0;
    this.payloadType = b1 & 0x7f;
    this.sequence = (buf[2] << 8) | buf[3];
    this.timestamp = readUint32(buf, 4);
    this.ssrc = readUint32(buf, 8);
    this.csrcCount = csrcCount;
    this.hasExtension = hasExtension;
    this.paddingBytes = paddingBytes;
    this.payloadOffset = offset;
    this.payloadLength = end - offset;
    return 'ok';
  }
}

/** RTP sequence numbers are 16 bits: the distance from a to b, in -32768..32767. */
export function sequenceDelta(a: number, b: number): number {
  return (((b - a) & 0xffff) << 16) >> 16;
}
