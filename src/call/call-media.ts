/**
 * The media of one call: an RtpSession joined to the line's audio port. The port's capture clock paces both
 * directions (one mouthpiece frame in -> one RTP frame out, one earpiece frame pulled from the jitter buffer), so
 * RTP timing follows the sound card, or the sim board's FrameClock, never a timer of its own.
 *
 * It also does the SDP side of offer/answer (RFC 3264) for the stream it owns: the offer names the RTP port it has
 * bound, the answer picks the codec the session was opened with. Digits keyed during the call travel as RFC 4733
 * events when the far end agreed to telephone-event (and `[media] dtmf` asks for it), or as SIP INFO (`dtmf =
 * "info"`: handed to the call layer, which owns the dialog); events and INFO digits from the far end are played to
 * the earpiece as real DTMF tones. In the RFC 4733 and INFO modes the keyed tone is cut from the outgoing audio
 * from the moment it is recognised (about 40 ms in) until it ends, so the far end does not get the digit twice.
 */
import type { Clock, Random } from '../../hal/clock.js';
import type { MediaConfig } from '../config/schema.js';
import { DtmfDetector } from '../media/dtmf-detector.js';
import { generateDtmf } from '../media/dtmf-generator.js';
import type { SocketBinder } from '../media/rtp-port-pair.js';
import { RtpSession, type G711Codec, type RtpSessionStats } from '../media/rtp-session.js';
import { answerOffer, buildOffer, parseSdp, readAnswer, serializeSdp, type LocalMedia, type NegotiatedMedia, type SdpSession } from '../sip/sdp.js';
import type { FxsPort } from '../phone/fxs-port.js';
import type { CallQuality } from '../phone/line-seams.js';
import type { CallLeg } from './conference-bridge.js';

export type CallMediaState = 'reserved' | 'flowing' | 'closed';

export interface CallMediaOptions {
  clock: Clock;
  random: Random;
  media: MediaConfig;
  /** The address the far end should send RTP to (c= line): our Contact host. */
  sdpAddress: string;
  log(msg: string, fields?: Record<string, unknown>): void;
  /**
   * Makes the stream's sockets: Node's dgram by default; the agent's NativeUdpSockets (read once per frame, arrival
   * times on `clock`) when hal/media-io.ts is built.
   */
  bind?: SocketBinder;
}

/** Where RTCP goes before the answer tells us the far end: the discard port of the unspecified address. */
const NOWHERE_PORT = 9;
const AUDIO_FRAME = 160;

export class CallMedia {
  state: CallMediaState = 'reserved';
  negotiated: NegotiatedMedia | null = null;
  /**
   * The SDP our 200 carries in calls we answer: our answer to the INVITE's offer, or, when the INVITE had none
   * (a late offer), our own offer, whose answer comes in the ACK (`awaitingAnswer`).
   */
  okSdp: string | null = null;
  awaitingAnswer = false;
  private offer: SdpSession | null = null;
  private port: FxsPort | null = null;
  private readonly dtmf = new DtmfDetector();
  private infoDigit: ((digit: string) => void) | null = null;
  /** INFO mode: a keyed digit is sounding; the mouthpiece goes out as silence meanwhile. */
  private muted = false;
  /** Connected for early media only (no answer yet). */
  private early = false;
  private readonly silence = new Int16Array(AUDIO_FRAME);
  // Re-framing between the port's 20 ms frames and the RTP ptime (a no-op copy when they are equal).
  private readonly txFrame: Int16Array;
  private txFill = 0;
  private readonly rxFrame: Int16Array;
  private rxPos: number;
  private rxHeard = false;
  private readonly sessionId: string;
  private version = 1;
  /** On hold from our side (hook flash to the other call): nothing goes out, nothing is played. */
  private localHold = false;
  /** When the stream was taken off the line, to keep the RTP timestamp on real time across the hold. */
  private detachedAt: number | null = null;
  /** A leg of the line's conference: the bridge, not this stream, is what the port's audio is joined to. */
  private bridged = false;

  private constructor(
    private readonly o: CallMediaOptions,
    private session: RtpSession,
  ) {
    const samples = (o.media.ptime * 8000) / 1000;
    this.txFrame = new Int16Array(samples);
    this.rxFrame = new Int16Array(samples);
    this.rxPos = samples;
    this.sessionId = String(Math.floor(o.random() * 1e9) + 1);
    this.dtmf.onDigit((d) => this.keyed(d));
    this.dtmf.onDigitEnd(() => (this.muted = false));
    this.listen();
  }

  /** For a call we place: binds the RTP port the offer will name; the far end is unknown until the answer. */
  static async forOffer(o: CallMediaOptions): Promise<CallMedia> {
    const v6 = o.sdpAddress.includes(':');
    const session = await RtpSession.open(sessionOptions(o, {
      codec: o.media.codecs[0],
      payloadType: o.media.codecs[0] === 'PCMU' ? 0 : 8,
      ...(o.media.dtmf === 'rfc4733' ? { telephoneEvent: o.media.dtmf_payload_type } : {}),
      remoteAddress: v6 ? '::' : '0.0.0.0',
      remotePort: NOWHERE_PORT,
      remoteRtcpPort: NOWHERE_PORT,
      direction: 'sendrecv',
      held: false,
    }), o.bind);
    return new CallMedia(o, session);
  }

  /** For a call we answer: negotiates the far end's offer and binds a stream for what was agreed. Throws SdpParseError/SdpNegotiationError. */
  static async forAnswer(o: CallMediaOptions, offerSdp: string): Promise<CallMedia> {
    const offer = parseSdp(offerSdp);
    const probe = answerOffer(offer, localMedia(o, 0, 1, '0')).media;
    const session = await RtpSession.open(sessionOptions(o, probe), o.bind);
    const media = new CallMedia(o, session);
    const { answer, media: agreed } = answerOffer(offer, localMedia(o, session.localPort, media.version, media.sessionId));
    media.negotiated = agreed;
    media.okSdp = serializeSdp(answer);
    return media;
  }

  get codec(): G711Codec | null {
    return this.negotiated?.codec ?? null;
  }

  /** Our SDP offer for the bound port. */
  /** For an INVITE without SDP: the stream is opened, our offer goes in the 200, its answer will come in the ACK. */
  static async forLateOffer(o: CallMediaOptions): Promise<CallMedia> {
    const media = await CallMedia.forOffer(o);
    media.okSdp = media.offerSdp();
    media.awaitingAnswer = true;
    return media;
  }

  offerSdp(): string {
    this.offer = buildOffer(localMedia(this.o, this.session.localPort, this.version, this.sessionId));
    return serializeSdp(this.offer);
  }

  /**
   * The far end's answer: sends to where it says, and re-opens the stream on the same port when it chose another
   * codec or event payload type than the one the stream was opened with. Throws on an unusable answer.
   */
  async useAnswer(answerSdp: string): Promise<NegotiatedMedia> {
    if (!this.offer) throw new Error('useAnswer before offerSdp');
    const agreed = readAnswer(this.offer, parseSdp(answerSdp));
    this.negotiated = agreed;
    this.awaitingAnswer = false;
    const wantTe = this.o.media.dtmf === 'rfc4733' ? this.o.media.dtmf_payload_type : undefined;
    const same = agreed.codec === this.o.media.codecs[0] && agreed.payloadType === (agreed.codec === 'PCMU' ? 0 : 8) && (agreed.telephoneEvent === undefined || agreed.telephoneEvent === wantTe);
    if (same) {
      this.session.setRemote(agreed.remoteAddress, agreed.remotePort, agreed.remoteRtcpPort);
    } else {
      const port = this.session.localPort;
      await this.session.close();
      this.session = await RtpSession.open(sessionOptions({ ...this.o, media: { ...this.o.media, rtp_ports: { min: port, max: port + 1 } } }, agreed), this.o.bind);
      this.listen();
    }
    this.session.receiveAlso(agreed.alsoReceive);
    return agreed;
  }

  /** A re-INVITE's offer (same stream, maybe moved or on hold): our answer, and the stream follows the far end. */
  reoffer(offerSdp: string): string {
    // While we hold the call, our answer keeps saying so (sendonly, or inactive when they hold us too).
    const local = { ...localMedia(this.o, this.session.localPort, ++this.version, this.sessionId), direction: this.localHold ? ('sendonly' as const) : ('sendrecv' as const) };
    const { answer, media } = answerOffer(parseSdp(offerSdp), local);
    this.session.setRemote(media.remoteAddress, media.remotePort, media.remoteRtcpPort);
    this.negotiated = media;
    return serializeSdp(answer);
  }

  /**
   * Our re-INVITE's offer to put the call on hold (a=sendonly, RFC 3264 8.4; we send nothing meanwhile, which
   * sendonly allows) or to take it back (a=sendrecv). The far end's answer goes to `useReanswer`.
   */
  holdOffer(hold: boolean): string {
    this.localHold = hold;
    this.offer = buildOffer({ ...localMedia(this.o, this.session.localPort, ++this.version, this.sessionId), direction: hold ? 'sendonly' : 'sendrecv' });
    return serializeSdp(this.offer);
  }

  /** The answer to our re-INVITE: the stream follows it (the far end may have moved). Throws on an unusable one. */
  useReanswer(answerSdp: string): NegotiatedMedia {
    if (!this.offer) throw new Error('useReanswer before holdOffer');
    const agreed = readAnswer(this.offer, parseSdp(answerSdp));
    this.session.setRemote(agreed.remoteAddress, agreed.remotePort, agreed.remoteRtcpPort);
    this.session.receiveAlso(agreed.alsoReceive);
    this.negotiated = agreed;
    return agreed;
  }

  /** Takes the stream off the line (the call goes on hold); `connect` puts it back. */
  detach(): void {
    if (this.state !== 'flowing') return;
    if (!this.bridged) this.port?.connectAudio(null, null);
    this.bridged = false;
    this.port = null;
    this.state = 'reserved';
    this.detachedAt = this.o.clock.now();
  }

  /**
   * Joins the stream to the line: from now on the port's frames go out and the jitter buffer feeds the earpiece.
   * `early` (early media, before the answer): the far end's audio plays over our ringback when it has any; the
   * answer that follows calls connect again to make it the line's only audio.
   */
  connect(port: FxsPort, early = false): void {
    if (this.state === 'closed' || (this.state === 'flowing' && (early || !this.early))) return;
    this.rejoin(port, early);
    port.connectAudio(this.mouthpiece, this.earpiece, early);
  }

  /**
   * Joins the stream to the line as one leg of a conference: its two audio ends go to the bridge that mixes the
   * legs (conference-bridge.ts), which the caller joins to the port. `detach` takes it out again.
   */
  joinBridge(port: FxsPort): CallLeg {
    this.detach();
    this.rejoin(port, false);
    this.bridged = true;
    return { mouthpiece: this.mouthpiece, earpiece: this.earpiece };
  }

  private rejoin(port: FxsPort, early: boolean): void {
    if (this.detachedAt !== null) {
      this.session.resume(Math.floor((this.o.clock.now() - this.detachedAt) / this.o.media.ptime));
      this.detachedAt = null;
    } else if (this.state === 'reserved') {
      // Whatever the far end sent before the line took the stream is stale by now: start from what comes next.
      this.session.resume(0);
    }
    this.state = 'flowing';
    this.early = early;
    this.port = port;
  }

  /**
   * Whether our audio goes out. Not while the far end holds the call (it offered sendonly or inactive, or the
   * RFC 2543 c=0.0.0.0) or asked only to send: RFC 3264 6.1 forbids sending on a stream marked recvonly or
   * inactive from our side. RTCP goes on, so the far end still sees us alive.
   */
  get sending(): boolean {
    const m = this.negotiated;
    if (this.localHold) return false;
    return !m || (!m.held && (m.direction === 'sendrecv' || m.direction === 'sendonly'));
  }

  stats(): RtpSessionStats {
    return this.session.stats();
  }

  /** The figures the call log and the status API keep for the call (the stream's so far; final once closed). */
  quality(): CallQuality {
    const s = this.session.stats();
    return {
      packetsSent: s.packetsSent,
      packetsReceived: s.packetsReceived,
      lost: s.lost,
      jitterMs: s.jitterMs,
      rttMs: s.rttMs < 0 ? null : s.rttMs,
      concealedFrames: s.jitterBuffer.concealed,
      playoutDelayMs: s.playoutDelayMs,
    };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.port && !this.bridged) this.port.connectAudio(null, null);
    this.bridged = false;
    this.port = null;
    this.state = 'closed';
    const stats = this.session.stats();
    this.o.log('call media closed', { sent: stats.packetsSent, received: stats.packetsReceived, lost: stats.lost, jitter_ms: Math.round(stats.jitterMs * 10) / 10, events_sent: stats.eventsSent, events_received: stats.eventsReceived, concealed: stats.jitterBuffer.concealed, late: stats.jitterBuffer.late, playout_delay_ms: Math.round(stats.playoutDelayMs * 10) / 10, time_scaled_samples: stats.jitterBuffer.samplesDropped + stats.jitterBuffer.samplesInserted });
    await this.session.close();
  }

  /** Where keyed digits go when `[media] dtmf = "info"`. */
  onInfoDigit(cb: (digit: string) => void): void {
    this.infoDigit = cb;
  }

  /** A digit from the far end (RFC 4733 event or SIP INFO), played to the earpiece as the real tone pair. */
  playDigit(digit: string, via = 'SIP INFO'): void {
    this.o.log('DTMF from the far end', { digit, via });
    this.port?.earpiece.playSignal(generateDtmf(digit, { onMs: 100, offMs: 0 }));
  }

  private listen(): void {
    this.session.onDtmf((digit) => this.playDigit(digit, 'RFC 4733'));
  }

  private keyed(digit: string): void {
    if (this.o.media.dtmf === 'info') {
      if (!this.infoDigit) return;
      this.muted = true;
      this.o.log('DTMF to the far end (SIP INFO)', { digit });
      this.infoDigit(digit);
      return;
    }
    const te = this.negotiated?.telephoneEvent;
    if (this.o.media.dtmf !== 'rfc4733' || te === undefined) return; // in-band: the tone is in the audio already
    this.o.log('DTMF to the far end (RFC 4733)', { digit });
    this.session.sendDtmf(digit);
  }

  // Bound once: these run every 20 ms.
  private readonly mouthpiece = (input: Int16Array, keyed: Int16Array = input): void => {
    this.dtmf.process(keyed);
    const sending = this.sending;
    const pcm = this.muted && input.length === AUDIO_FRAME ? this.silence : input;
    const frame = this.txFrame;
    if (frame.length === AUDIO_FRAME) {
      if (sending) this.session.sendFrame(pcm);
      else this.session.skipFrame();
      return;
    }
    let i = 0;
    while (i < pcm.length) {
      const n = Math.min(frame.length - this.txFill, pcm.length - i);
      frame.set(pcm.subarray(i, i + n), this.txFill);
      this.txFill += n;
      i += n;
      if (this.txFill === frame.length) {
        this.txFill = 0;
        if (sending) this.session.sendFrame(frame);
        else this.session.skipFrame();
      }
    }
  };

  private readonly earpiece = (out: Int16Array): boolean => {
    const frame = this.rxFrame;
    if (frame.length === AUDIO_FRAME) return this.session.readFrame(out) !== 'silence';
    let heard = false;
    let i = 0;
    while (i < out.length) {
      if (this.rxPos === frame.length) {
        this.rxHeard = this.session.readFrame(frame) !== 'silence';
        this.rxPos = 0;
      }
      const n = Math.min(frame.length - this.rxPos, out.length - i);
      out.set(frame.subarray(this.rxPos, this.rxPos + n), i);
      this.rxPos += n;
      i += n;
      heard ||= this.rxHeard;
    }
    return heard;
  };
}

function localMedia(o: CallMediaOptions, port: number, version: number, sessionId: string): LocalMedia {
  return {
    address: o.sdpAddress,
    port,
    codecs: [...o.media.codecs],
    ...(o.media.dtmf === 'rfc4733' ? { telephoneEvent: o.media.dtmf_payload_type } : {}),
    ptime: o.media.ptime,
    direction: 'sendrecv',
    sessionId,
    sessionVersion: version,
    username: 'pi-ata',
  };
}

function sessionOptions(o: CallMediaOptions, m: NegotiatedMedia): Parameters<typeof RtpSession.open>[0] {
  return {
    clock: o.clock,
    random: o.random,
    ports: o.media.rtp_ports,
    remoteAddress: m.remoteAddress,
    remotePort: m.remotePort,
    ...(m.remoteRtcpPort !== undefined ? { remoteRtcpPort: m.remoteRtcpPort } : {}),
    codec: m.codec,
    payloadType: m.payloadType,
    ...(m.telephoneEvent !== undefined ? { telephoneEventPayloadType: m.telephoneEvent } : {}),
    ptimeMs: o.media.ptime,
    jitter: { minMs: o.media.jitter_ms.min, maxMs: o.media.jitter_ms.max },
  };
}
