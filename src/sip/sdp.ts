/**
 * SDP (RFC 4566) as this adapter needs it, and the offer/answer rules of RFC 3264 for one audio stream of G.711
 * (PCMU/PCMA) with RFC 4733 telephone-event, ptime, direction attributes (hold) and IPv4/IPv6 connection data.
 *
 * The body comes from the network: every line is checked, and anything malformed gives an SdpParseError with the
 * line number. Lines and attributes we do not use are kept (attributes as text) so nothing is lost in a round trip.
 */
import { isIP } from 'node:net';

export class SdpParseError extends Error {
  override readonly name = 'SdpParseError';
  constructor(
    readonly fault: string,
    /** 1-based line of the body where the fault is (0 for the body as a whole). */
    readonly line: number,
  ) {
    super(line > 0 ? `SDP line ${line}: ${fault}` : `SDP: ${fault}`);
  }
}

/** Why an offer or an answer cannot be used; the UAS answers 488 for any of these. */
export type NegotiationFault = 'no-audio' | 'no-common-codec' | 'no-connection' | 'remote-address' | 'answer-mismatch';

export class SdpNegotiationError extends Error {
  override readonly name = 'SdpNegotiationError';
  constructor(
    readonly fault: NegotiationFault,
    detail: string,
  ) {
    super(`${fault}: ${detail}`);
  }
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
export type G711Name = 'PCMU' | 'PCMA';

export interface SdpConnection {
  addrType: 'IP4' | 'IP6';
  address: string;
}

export interface RtpMap {
  encoding: string;
  clockRate: number;
  channels?: number;
}

export interface SdpMedia {
  type: string;
  port: number;
  proto: string;
  formats: string[];
  connection?: SdpConnection;
  rtpmap: Map<number, RtpMap>;
  fmtp: Map<number, string>;
  ptime?: number;
  direction?: Direction;
  rtcpPort?: number;
  /** Every other a= line of this media, as "name" or "name:value". */
  attributes: string[];
}

export interface SdpSession {
  origin: { username: string; sessionId: string; version: string; addrType: 'IP4' | 'IP6'; address: string };
  name: string;
  connection?: SdpConnection;
  direction?: Direction;
  /** Session-level a= lines other than direction. */
  attributes: string[];
  media: SdpMedia[];
}

const MAX_SDP_BYTES = 16 * 1024;
const MAX_MEDIA = 16;
const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const STATIC_PT: Record<number, G711Name> = { 0: 'PCMU', 8: 'PCMA' };

function parsePort(text: string, line: number): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new SdpParseError(`bad port ${JSON.stringify(text)}`, line);
  return Number(text);
}

function parseConnection(value: string, line: number): SdpConnection {
  const parts = value.split(' ');
  if (parts.length !== 3 || parts[0] !== 'IN') throw new SdpParseError('c= must be "IN IP4|IP6 address"', line);
  if (parts[1] !== 'IP4' && parts[1] !== 'IP6') throw new SdpParseError(`unknown address type ${parts[1]}`, line);
  // Multicast TTL/count suffixes ("/127") are dropped: we only do unicast.
  const address = parts[2].split('/')[0];
  if (!/^[A-Za-z0-9.:\-]+$/.test(address) || address.length > 253) throw new SdpParseError('bad connection address', line);
  return { addrType: parts[1], address };
}

function parseMediaLine(value: string, line: number): SdpMedia {
  const parts = value.split(' ');
  if (parts.length < 4) throw new SdpParseError('m= needs media, port, proto and formats', line);
  const port = parsePort(parts[1].split('/')[0], line);
  const formats = parts.slice(3).filter((f) => f.length > 0);
  if (formats.length === 0 || formats.length > 64) throw new SdpParseError('m= format list is empty or too long', line);
  return { type: parts[0], port, proto: parts[2], formats, rtpmap: new Map(), fmtp: new Map(), attributes: [] };
}

function payloadNumber(text: string, line: number): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) > 127) throw new SdpParseError(`bad payload type ${JSON.stringify(text)}`, line);
  return Number(text);
}

function parseMediaAttribute(m: SdpMedia, name: string, value: string | undefined, line: number): void {
  switch (name) {
    case 'rtpmap': {
      const match = /^(\d{1,3}) ([A-Za-z0-9\-_.]+)\/(\d{1,6})(?:\/(\d{1,2}))?$/.exec(value ?? '');
      if (!match) throw new SdpParseError('bad a=rtpmap', line);
      const pt = payloadNumber(match[1], line);
      m.rtpmap.set(pt, { encoding: match[2], clockRate: Number(match[3]), ...(match[4] ? { channels: Number(match[4]) } : {}) });
      return;
    }
    case 'fmtp': {
      const sp = (value ?? '').indexOf(' ');
      if (sp < 0) throw new SdpParseError('bad a=fmtp', line);
      m.fmtp.set(payloadNumber(value!.slice(0, sp), line), value!.slice(sp + 1).trim());
      return;
    }
    case 'ptime': {
      const p = Number(value);
      if (!/^\d{1,4}(\.\d+)?$/.test(value ?? '') || p <= 0) throw new SdpParseError('bad a=ptime', line);
      m.ptime = p;
      return;
    }
    case 'rtcp':
      m.rtcpPort = parsePort((value ?? '').split(' ')[0], line);
      return;
    default:
      if (DIRECTIONS.has(name) && value === undefined) m.direction = name as Direction;
      else m.attributes.push(value === undefined ? name : `${name}:${value}`);
  }
}

/** Parses an SDP body (binary string). Throws SdpParseError. */
export function parseSdp(body: string): SdpSession {
  if (body.length > MAX_SDP_BYTES) throw new SdpParseError(`body larger than ${MAX_SDP_BYTES} bytes`, 0);
  const lines = body.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'v=0') throw new SdpParseError('first line must be v=0', 1);
  let origin: SdpSession['origin'] | undefined;
  let name: string | undefined;
  let sessionConnection: SdpConnection | undefined;
  let sessionDirection: Direction | undefined;
  const attributes: string[] = [];
  const media: SdpMedia[] = [];
  let current: SdpMedia | undefined;
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    const text = lines[i];
    if (text.length < 2 || text[1] !== '=' || !/^[a-z]$/.test(text[0])) throw new SdpParseError('expected type=value', n);
    const type = text[0];
    const value = text.slice(2);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new SdpParseError('control character in value', n);
    switch (type) {
      case 'o': {
        const p = value.split(' ');
        if (p.length !== 6 || p[3] !== 'IN' || (p[4] !== 'IP4' && p[4] !== 'IP6')) throw new SdpParseError('bad o= line', n);
        origin = { username: p[0], sessionId: p[1], version: p[2], addrType: p[4], address: p[5] };
        break;
      }
      case 's':
        name = value;
        break;
      case 'c':
        if (current) current.connection = parseConnection(value, n);
        else sessionConnection = parseConnection(value, n);
        break;
      case 'm':
        if (media.length >= MAX_MEDIA) throw new SdpParseError(`more than ${MAX_MEDIA} media`, n);
        current = parseMediaLine(value, n);
        media.push(current);
        break;
      case 'a': {
        const colon = value.indexOf(':');
        const aname = colon < 0 ? value : value.slice(0, colon);
        const avalue = colon < 0 ? undefined : value.slice(colon + 1);
        if (!/^[A-Za-z0-9\-_.]+$/.test(aname)) throw new SdpParseError('bad attribute name', n);
        if (current) parseMediaAttribute(current, aname, avalue, n);
        else if (DIRECTIONS.has(aname) && avalue === undefined) sessionDirection = aname as Direction;
        else attributes.push(value);
        break;
      }
      default:
        // t=, b=, i=, u=, e=, p=, k=, r=, z= carry nothing this adapter acts on.
        break;
    }
  }
  if (!origin) throw new SdpParseError('no o= line', 0);
  if (name === undefined) throw new SdpParseError('no s= line', 0);
  return { origin, name, ...(sessionConnection ? { connection: sessionConnection } : {}), ...(sessionDirection ? { direction: sessionDirection } : {}), attributes, media };
}

function formatConnection(c: SdpConnection): string {
  return `c=IN ${c.addrType} ${c.address}\r\n`;
}

/** Writes an SDP body with CRLF line ends (RFC 4566 sec. 5). */
export function serializeSdp(s: SdpSession): string {
  const o = s.origin;
  let out = `v=0\r\no=${o.username} ${o.sessionId} ${o.version} IN ${o.addrType} ${o.address}\r\ns=${s.name || '-'}\r\n`;
  if (s.connection) out += formatConnection(s.connection);
  out += 't=0 0\r\n';
  if (s.direction) out += `a=${s.direction}\r\n`;
  for (const a of s.attributes) out += `a=${a}\r\n`;
  for (const m of s.media) {
    out += `m=${m.type} ${m.port} ${m.proto} ${m.formats.join(' ')}\r\n`;
    if (m.connection) out += formatConnection(m.connection);
    for (const f of m.formats) {
      const pt = Number(f);
      const map = m.rtpmap.get(pt);
      if (map) out += `a=rtpmap:${pt} ${map.encoding}/${map.clockRate}${map.channels ? `/${map.channels}` : ''}\r\n`;
      const fmtp = m.fmtp.get(pt);
      if (fmtp) out += `a=fmtp:${pt} ${fmtp}\r\n`;
    }
    if (m.ptime !== undefined) out += `a=ptime:${m.ptime}\r\n`;
    if (m.rtcpPort !== undefined) out += `a=rtcp:${m.rtcpPort}\r\n`;
    for (const a of m.attributes) out += `a=${a}\r\n`;
    if (m.direction) out += `a=${m.direction}\r\n`;
  }
  return out;
}

// --- offer/answer (RFC 3264) ---------------------------------------------------------------------------------

/** What we offer or answer with. */
export interface LocalMedia {
  /** Our RTP address (IP literal) and port. */
  address: string;
  port: number;
  /** Codecs in our order of preference ([media] codecs). */
  codecs: G711Name[];
  /** Dynamic payload type for telephone-event, or undefined to not offer RFC 4733. */
  telephoneEvent?: number;
  ptime: number;
  direction: Direction;
  sessionId: string;
  sessionVersion: number;
  username?: string;
}

/** The stream both sides agreed on: what the RtpSession needs. */
export interface NegotiatedMedia {
  codec: G711Name;
  payloadType: number;
  telephoneEvent?: number;
  remoteAddress: string;
  remotePort: number;
  remoteRtcpPort?: number;
  /** The far end's ptime, if it said. */
  ptime?: number;
  /**
   * The other G.711 codec of an answer that listed both (RFC 3264 7: the answerer may send any format its answer
   * names, the first preferred): received and played too, though we send `codec`.
   */
  alsoReceive?: { codec: G711Name; payloadType: number };
  /** The direction as seen from our side (sendonly = we send, they do not). */
  direction: Direction;
  /** The far end put us on hold (sendonly/inactive or the RFC 2543 c=0.0.0.0). */
  held: boolean;
}

function addrTypeOf(address: string): 'IP4' | 'IP6' {
  return isIP(address) === 6 ? 'IP6' : 'IP4';
}

function rtpMapOf(m: SdpMedia, pt: number): RtpMap | undefined {
  const map = m.rtpmap.get(pt);
  if (map) return map;
  const stat = STATIC_PT[pt];
  return stat ? { encoding: stat, clockRate: 8000 } : undefined;
}

function g711Of(map: RtpMap | undefined): G711Name | undefined {
  if (!map || map.clockRate !== 8000 || (map.channels !== undefined && map.channels !== 1)) return undefined;
  const e = map.encoding.toUpperCase();
  return e === 'PCMU' || e === 'PCMA' ? e : undefined;
}

function telephoneEventOf(m: SdpMedia): number | undefined {
  for (const f of m.formats) {
    const pt = Number(f);
    const map = m.rtpmap.get(pt);
    if (map && map.encoding.toLowerCase() === 'telephone-event' && map.clockRate === 8000) return pt;
  }
  return undefined;
}

function mirror(d: Direction): Direction {
  return d === 'sendonly' ? 'recvonly' : d === 'recvonly' ? 'sendonly' : d;
}

/** Combines what we want with the direction the far end offered (RFC 3264 sec. 6.1). */
function combine(ours: Direction, theirsMirrored: Direction): Direction {
  const send = (ours === 'sendrecv' || ours === 'sendonly') && (theirsMirrored === 'sendrecv' || theirsMirrored === 'sendonly');
  const recv = (ours === 'sendrecv' || ours === 'recvonly') && (theirsMirrored === 'sendrecv' || theirsMirrored === 'recvonly');
  return send && recv ? 'sendrecv' : send ? 'sendonly' : recv ? 'recvonly' : 'inactive';
}

function audioMedia(local: LocalMedia, formats: string[], rtpmap: Map<number, RtpMap>, direction: Direction): SdpMedia {
  return { type: 'audio', port: local.port, proto: 'RTP/AVP', formats, rtpmap, fmtp: new Map(), ptime: local.ptime, direction, attributes: [] };
}

function sessionOf(local: LocalMedia, media: SdpMedia[]): SdpSession {
  const addrType = addrTypeOf(local.address);
  return {
    origin: { username: local.username ?? '-', sessionId: local.sessionId, version: String(local.sessionVersion), addrType, address: local.address },
    name: '-',
    connection: { addrType, address: local.address },
    attributes: [],
    media,
  };
}

/** Our offer: one audio stream with every configured codec and, when wanted, telephone-event. */
export function buildOffer(local: LocalMedia): SdpSession {
  const formats: string[] = [];
  const rtpmap = new Map<number, RtpMap>();
  for (const c of local.codecs) {
    const pt = c === 'PCMU' ? 0 : 8;
    formats.push(String(pt));
    rtpmap.set(pt, { encoding: c, clockRate: 8000 });
  }
  if (local.telephoneEvent !== undefined) {
    formats.push(String(local.telephoneEvent));
    rtpmap.set(local.telephoneEvent, { encoding: 'telephone-event', clockRate: 8000 });
  }
  const m = audioMedia(local, formats, rtpmap, local.direction);
  if (local.telephoneEvent !== undefined) m.fmtp.set(local.telephoneEvent, '0-16');
  return sessionOf(local, [m]);
}

function remoteEndpoint(s: SdpSession, m: SdpMedia): { address: string; held: boolean } {
  const c = m.connection ?? s.connection;
  if (!c) throw new SdpNegotiationError('no-connection', 'no c= line for the audio stream');
  if (isIP(c.address) === 0) throw new SdpNegotiationError('remote-address', `connection address ${c.address} is not an IP literal`);
  return { address: c.address, held: c.address === '0.0.0.0' || c.address === '::' };
}

function negotiated(s: SdpSession, m: SdpMedia, codec: G711Name, pt: number, te: number | undefined, direction: Direction): NegotiatedMedia {
  const { address, held: zeroAddress } = remoteEndpoint(s, m);
  const theirs = m.direction ?? s.direction ?? 'sendrecv';
  return {
    codec,
    payloadType: pt,
    ...(te !== undefined ? { telephoneEvent: te } : {}),
    remoteAddress: address,
    remotePort: m.port,
    ...(m.rtcpPort !== undefined ? { remoteRtcpPort: m.rtcpPort } : {}),
    ...(m.ptime !== undefined ? { ptime: m.ptime } : {}),
    direction,
    held: zeroAddress || theirs === 'sendonly' || theirs === 'inactive',
  };
}

/**
 * Answers an offer (RFC 3264 sec. 6): the first audio stream with a codec we have is accepted with the codec
 * first in OUR preference list, every other stream is refused with port 0. The answer names the offerer's payload
 * type numbers. Throws SdpNegotiationError when nothing can be accepted (the UAS answers 488).
 */
export function answerOffer(offer: SdpSession, local: LocalMedia): { answer: SdpSession; media: NegotiatedMedia } {
  let chosen: { index: number; codec: G711Name; pt: number; te: number | undefined } | undefined;
  let sawAudio = false;
  offer.media.forEach((m, index) => {
    if (chosen || m.type !== 'audio' || m.port === 0 || !/^RTP\/S?AVP$/.test(m.proto)) return;
    sawAudio = true;
    for (const want of local.codecs) {
      const f = m.formats.find((x) => /^\d+$/.test(x) && g711Of(rtpMapOf(m, Number(x))) === want);
      if (f !== undefined) {
        chosen = { index, codec: want, pt: Number(f), te: local.telephoneEvent !== undefined ? telephoneEventOf(m) : undefined };
        return;
      }
    }
  });
  if (!chosen) {
    throw sawAudio ? new SdpNegotiationError('no-common-codec', `offer has none of ${local.codecs.join(', ')}`) : new SdpNegotiationError('no-audio', 'no usable audio stream in the offer');
  }
  const c = chosen;
  const offered = offer.media[c.index];
  const theirs = offered.direction ?? offer.direction ?? 'sendrecv';
  const direction = combine(local.direction, mirror(theirs));
  const media = offer.media.map((m, i): SdpMedia => {
    if (i !== c.index) return { type: m.type, port: 0, proto: m.proto, formats: m.formats.slice(0, 1), rtpmap: new Map(), fmtp: new Map(), attributes: [] };
    const formats = [String(c.pt)];
    const rtpmap = new Map<number, RtpMap>([[c.pt, { encoding: c.codec, clockRate: 8000 }]]);
    const answerMedia = audioMedia(local, formats, rtpmap, direction);
    if (c.te !== undefined) {
      formats.push(String(c.te));
      rtpmap.set(c.te, { encoding: 'telephone-event', clockRate: 8000 });
      answerMedia.fmtp.set(c.te, '0-16');
    }
    return answerMedia;
  });
  return { answer: sessionOf(local, media), media: negotiated(offer, offered, c.codec, c.pt, c.te, direction) };
}

/**
 * Reads the answer to our offer (RFC 3264 sec. 7): the stream must still be audio with a port, and the codec is
 * the first one the answer lists that we offered.
 */
export function readAnswer(offer: SdpSession, answer: SdpSession): NegotiatedMedia {
  const ours = offer.media.findIndex((m) => m.type === 'audio' && m.port !== 0);
  if (ours < 0) throw new SdpNegotiationError('answer-mismatch', 'our offer had no audio stream');
  if (answer.media.length !== offer.media.length) throw new SdpNegotiationError('answer-mismatch', `answer has ${answer.media.length} streams, offer had ${offer.media.length}`);
  const m = answer.media[ours];
  if (m.type !== 'audio' || m.port === 0) throw new SdpNegotiationError('no-common-codec', 'the far end refused the audio stream');
  const offered = offer.media[ours];
  for (const f of m.formats) {
    if (!/^\d+$/.test(f)) continue;
    const pt = Number(f);
    const codec = g711Of(rtpMapOf(m, pt));
    if (codec && offered.formats.includes(f)) {
      const te = telephoneEventOf(offered) !== undefined ? telephoneEventOf(m) : undefined;
      const theirs = m.direction ?? answer.direction ?? 'sendrecv';
      const agreed = negotiated(answer, m, codec, pt, te, combine(offered.direction ?? 'sendrecv', mirror(theirs)));
      const other = m.formats.find((x) => /^\d+$/.test(x) && offered.formats.includes(x) && (g711Of(rtpMapOf(m, Number(x))) ?? codec) !== codec);
      if (other !== undefined) agreed.alsoReceive = { codec: g711Of(rtpMapOf(m, Number(other)))!, payloadType: Number(other) };
      return agreed;
    }
  }
  throw new SdpNegotiationError('no-common-codec', 'the answer names no codec we offered');
}
