/**
 * One full-duplex G.711 stream of a call: an RTP socket on an even port and RTCP on the next, symmetric RTP (we
 * send from the port we receive on), latching onto the far end's real source port, the packetizer, the jitter
 * buffer on the receive side, RFC 4733 events both ways and RTCP reports with the call's quality figures.
 *
 * Hot path: `sendFrame` writes into one preallocated Buffer, received datagrams are parsed in place, and every
 * callback is bound once in the constructor. On Node's dgram sockets what remains per packet is Node's own (the
 * received Buffer, the rinfo object and a send request); on NativeUdpSockets (the agent's and the media thread's
 * when hal/native is built) none of these. scripts/bench/media-call.bench.mjs measures both.
 */
import { isIP, SocketAddress } from 'node:net';
import type { Clock, Random, TimerHandle } from '../../hal/clock.js';
import type { DatagramSocket, DatagramSource } from '../../hal/datagram-socket.js';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw, A_LAW_SILENCE, MU_LAW_SILENCE } from './g711.js';
import { JitterBuffer, type PullResult } from './jitter-buffer.js';
import { MediaCounters, type RtpSessionStats } from './media-stats.js';
import { RtpHeaderCounter, RtpPacketView, RTP_HEADER_BYTES, writeRtpHeader } from './rtp-packet.js';
import { ReceptionStatistics } from './rtcp.js';
import { RtcpReporter, type RemoteParty } from './rtcp-reporter.js';
import { bindDgram, bindRtpPortPair, type SocketBinder } from './rtp-port-pair.js';

export type { RtpSessionStats } from './media-stats.js';
import { TelephoneEventReceiver, TelephoneEventSender, writeTelephoneEvent, dtmfEventCode, TelephoneEventError } from './telephone-event.js';

export class RtpSessionError extends Error {
  constructor(
    readonly reason: 'remote-address' | 'ptime' | 'frame-size' | 'no-telephone-event' | 'no-free-port' | 'dtmf-duration',
    message: string,
  ) {
    super(message);
    this.name = 'RtpSessionError';
  }
}

export type G711Codec = 'PCMU' | 'PCMA';

export interface RtpSessionOptions {
  clock: Clock;
  random: Random;
  /** Local address to bind (default 0.0.0.0, or :: for an IPv6 remote). */
  localAddress?: string;
  /** `[media] rtp_ports`: even ports in this range are tried for RTP, RTCP takes the port after. */
  ports: { min: number; max: number };
  /** From the SDP answer/offer (c= and m=): an IP address literal. */
  remoteAddress: string;
  remotePort: number;
  /** From a=rtcp when present; default remotePort + 1. */
  remoteRtcpPort?: number;
  codec: G711Codec;
  /** Default 0 for PCMU, 8 for PCMA. */
  payloadType?: number;
  /** The negotiated dynamic payload type of telephone-event, if any. */
  telephoneEventPayloadType?: number;
  ptimeMs?: number;
  jitter?: { minMs: number; maxMs: number };
  rtcpIntervalMs?: number;
  cname?: string;
}

export type RtpSessionState = 'open' | 'closing' | 'closed';

/** A source that went silent this long may be replaced by a new port/SSRC from the signalled host. */
const RELATCH_AFTER_MS = 1000;
const EVENT_GAP_MS = 50;
const SEND_SLOTS = 8;

export class RtpSession {
  state: RtpSessionState = 'open';
  readonly localPort: number;
  readonly ssrc: number;
  private readonly frameSamples: number;
  private readonly clockRate = 8000;
  private readonly audioPt: number;
  private readonly eventPt: number;
  /** A second G.711 payload type the far end may send (its answer listed both), or -1; `rxAlt` while one is pushed. */
  private altPt = -1;
  private altDecode: (codes: Uint8Array, out: Int16Array) => unknown = decodeALaw;
  private rxAlt = false;
  // A small ring of packet buffers: when the kernel's socket buffer is full, libuv sends later from the buffer it
  // was given, so a buffer is not rewritten until SEND_SLOTS packets later (a catch-up burst is at most a few).
  private readonly sendBufs: Buffer[] = [];
  private readonly eventBufs: Buffer[] = [];
  private readonly sendPayloads: Uint8Array[];
  private sendSlot = 0;
  private eventSlot = 0;
  private readonly rxScratch: Uint8Array;
  private readonly encode: (pcm: Int16Array, out: Uint8Array) => Uint8Array;
  private readonly view = new RtpPacketView();
  private readonly reception = new ReceptionStatistics();
  private readonly reporter: RtcpReporter;
  private readonly jitterBuffer: JitterBuffer;
  private readonly eventSender: TelephoneEventSender;
  private readonly eventReceiver: TelephoneEventReceiver;
  private readonly remote: RemoteParty;
  private lastHeardAt = 0;
  /** The ports the SDP named (the latch may have moved the ones we send to). */
  private signalledRtpPort: number;
  private signalledRtcpPort: number;
  /** A new SSRC from the far end on probation (RFC 3550 A.1): it takes over at its second packet in sequence. */
  private candidateSsrc = -1;
  private candidateSequence = 0;
  /** Packets and losses of the far end's earlier streams (SSRCs, latches): the call's figures are the sums. */
  private receivedBefore = 0;
  private lostBefore = 0;
  /** The next packet's sequence number and timestamp (and our SSRC), kept as header bytes: see RtpHeaderCounter. */
  private readonly header: RtpHeaderCounter;
  private talkspurtStart = true;
  private dtmfTimer: TimerHandle | undefined;
  private readonly pendingDigits: { digit: string; durationMs: number }[] = [];
  private dtmfListener: ((digit: string) => void) | undefined;
  private readonly counters = new MediaCounters();
  private readonly onRtpDatagram = (msg: Buffer, length: number, from: DatagramSource): void => this.receiveRtp(msg, length, from);
  private readonly onDtmfTimerFired = (): void => this.dtmfTick();

  /**
   * Binds an even RTP port from the range and its RTCP port, and starts the RTCP timer. `bind` makes the sockets:
   * Node's dgram by default; NativeUdpSockets (nativeBinder), read at each readFrame, their arrival times on
   * `options.clock`.
   */
  static async open(options: RtpSessionOptions, bind: SocketBinder = bindDgram): Promise<RtpSession> {
    if (!isIP(options.remoteAddress)) throw new RtpSessionError('remote-address', `remote address must be an IP literal, got ${options.remoteAddress}`);
    checkPtime(options.ptimeMs ?? 20); // before binding: a refused session must not keep its ports
    const v6 = isIP(options.remoteAddress) === 6;
    const pair = await bindRtpPortPair(options.localAddress ?? (v6 ? '::' : '0.0.0.0'), options.ports, options.random, bind);
    if (!pair) throw new RtpSessionError('no-free-port', `no free even RTP port with its RTCP port in ${options.ports.min}-${options.ports.max}`);
    return new RtpSession(options, pair.rtp, pair.rtcp, pair.port);
  }

  private constructor(
    private readonly options: RtpSessionOptions,
    private readonly rtp: DatagramSocket,
    private readonly rtcp: DatagramSocket,
    port: number,
  ) {
    const { clock, random } = options;
    const ptime = options.ptimeMs ?? 20;
    this.localPort = port;
    this.frameSamples = (ptime * this.clockRate) / 1000;
    const mu = options.codec === 'PCMU';
    this.audioPt = options.payloadType ?? (mu ? 0 : 8);
    this.eventPt = options.telephoneEventPayloadType ?? -1;
    this.encode = mu ? encodeMuLaw : encodeALaw;
    const decode = mu ? decodeMuLaw : decodeALaw;
    for (let i = 0; i < SEND_SLOTS; i++) {
      this.sendBufs.push(Buffer.alloc(RTP_HEADER_BYTES + this.frameSamples, mu ? MU_LAW_SILENCE : A_LAW_SILENCE));
      this.eventBufs.push(Buffer.alloc(RTP_HEADER_BYTES + 4));
    }
    this.sendPayloads = this.sendBufs.map((b) => b.subarray(RTP_HEADER_BYTES));
    this.rxScratch = new Uint8Array(this.frameSamples);
    this.ssrc = Math.floor(random() * 4294967296) >>> 0;
    const sequence = Math.floor(random() * 65536) & 0xffff;
    this.header = new RtpHeaderCounter(this.ssrc, sequence, Math.floor(random() * 4294967296) >>> 0);
    this.remote = { address: canonicalAddress(options.remoteAddress), rtpPort: options.remotePort, rtcpPort: options.remoteRtcpPort ?? options.remotePort + 1, latched: false, rtcpLatched: false, ssrc: 0 };
    this.signalledRtpPort = this.remote.rtpPort;
    this.signalledRtcpPort = this.remote.rtcpPort;
    this.jitterBuffer = new JitterBuffer({
      minMs: options.jitter?.minMs ?? 20,
      maxMs: options.jitter?.maxMs ?? 200,
      clockRate: this.clockRate,
      frameSamples: this.frameSamples,
      decode: (codes, out) => void (this.rxAlt ? this.altDecode : decode)(codes, out),
    });
    this.eventSender = new TelephoneEventSender(this.clockRate);
    this.eventReceiver = new TelephoneEventReceiver((digit) => this.dtmfListener?.(digit));
    this.reporter = new RtcpReporter({
      clock,
      random,
      socket: rtcp,
      ssrc: this.ssrc,
      cname: options.cname ?? `pi-ata-${this.ssrc.toString(16)}`,
      intervalMs: options.rtcpIntervalMs ?? 5000,
      clockRate: this.clockRate,
      remote: this.remote,
      reception: this.reception,
      counters: this.counters,
      rtpTimestamp: () => this.header.timestamp,
    });
    rtp.onDatagram(this.onRtpDatagram);
    rtcp.onDatagram(this.reporter.onDatagram);
  }

  get frameSize(): number {
    return this.frameSamples;
  }

  onDtmf(listener: (digit: string) => void): void {
    this.dtmfListener = listener;
  }

  /**
   * Also takes packets of the other G.711 codec, on `payloadType`, when the far end's answer listed both (it may
   * switch between them); undefined forgets it.
   */
  receiveAlso(also: { codec: G711Codec; payloadType: number } | undefined): void {
    this.altPt = also && also.payloadType !== this.audioPt && also.payloadType !== this.eventPt ? also.payloadType : -1;
    this.altDecode = also?.codec === 'PCMU' ? decodeMuLaw : decodeALaw;
  }

  /**
   * A re-INVITE's SDP: when it moved the far end, send there and latch afresh. Every re-INVITE (hold, resume, a
   * session refresh) comes here; one that names the same address and ports keeps the latch and the figures.
   */
  setRemote(address: string, port: number, rtcpPort = port + 1): void {
    if (!isIP(address)) throw new RtpSessionError('remote-address', `remote address must be an IP literal, got ${address}`);
    const r = this.remote;
    const canonical = canonicalAddress(address);
    if (canonical === r.address && port === this.signalledRtpPort && rtcpPort === this.signalledRtcpPort) return;
    r.address = canonical;
    r.rtpPort = this.signalledRtpPort = port;
    r.rtcpPort = this.signalledRtcpPort = rtcpPort;
    r.latched = r.rtcpLatched = false;
  }

  /** Encodes and sends one frame (ptime of audio); paced by the caller's capture clock. Muted while an event goes out. */
  sendFrame(pcm: Int16Array): void {
    if (this.state !== 'open') return;
    if (pcm.length !== this.frameSamples) throw new RtpSessionError('frame-size', `frame of ${pcm.length} samples, ${this.frameSamples} expected`);
    this.pollEventEnd();
    if (this.eventSender.state !== 'idle' || this.dtmfTimer !== undefined) {
      this.header.advance(this.frameSamples);
      this.talkspurtStart = true; // in-band audio is muted while an event is on the wire (RFC 4733 section 2.5.1.4)
      return;
    }
    const slot = this.sendSlot;
    this.sendSlot = (slot + 1) % SEND_SLOTS;
    const buf = this.sendBufs[slot];
    this.encode(pcm, this.sendPayloads[slot]);
    this.header.writeNext(buf, this.talkspurtStart, this.audioPt);
    this.header.advance(this.frameSamples);
    this.talkspurtStart = false;
    this.rtp.send(buf, 0, buf.length, this.remote.rtpPort, this.remote.address);
    this.counters.packetsSent++;
    this.counters.octetsSent += this.frameSamples;
    this.reporter.sentSinceReport = true;
  }

  /**
   * A frame not sent (the stream is on hold from our side): the timestamp still advances by the frame's length so it
   * stays on real time, and the next packet starts a new talkspurt (marker set, RFC 3551 4.1).
   */
  skipFrame(): void {
    this.header.advance(this.frameSamples);
    this.talkspurtStart = true;
  }

  /**
   * The stream comes back after a pause in which neither direction was served (the call was on hold on our side):
   * the timestamp catches up with the `frames` not sent, so it stays on real time, the next packet starts a
   * talkspurt, and whatever the far end sent meanwhile is dropped from the jitter buffer rather than played late.
   */
  resume(frames: number): void {
    this.header.advance(frames * this.frameSamples);
    this.talkspurtStart = true;
    // Sockets read only per frame held what came during the pause: heard now, then dropped with the rest.
    this.drain();
    this.jitterBuffer.reset();
  }

  /**
   * Fills `out` with the next frame for the earpiece from the jitter buffer (called every ptime by playback). What
   * arrived on sockets read per frame (NativeUdpSocket) goes into the jitter buffer first.
   */
  readFrame(out: Int16Array): PullResult {
    this.drain();
    this.pollEventEnd();
    return this.jitterBuffer.pull(out);
  }

  private drain(): void {
    this.rtp.drain();
    this.rtcp.drain();
  }

  private pollEventEnd(): void {
    // Only while an event is open: reading the system clock allocates (hrtime.bigint), and this runs every frame.
    if (this.eventReceiver.state === 'in-event') this.eventReceiver.poll(this.options.clock.now());
  }

  /** Sends a digit as an RFC 4733 event; digits queue behind one another with a 50 ms gap. */
  sendDtmf(digit: string, durationMs = 100): void {
    if (this.eventPt < 0) throw new RtpSessionError('no-telephone-event', 'telephone-event was not negotiated: send DTMF in-band');
    if (dtmfEventCode(digit) < 0) throw new TelephoneEventError(digit);
    checkDtmfDuration(durationMs);
    if (this.state !== 'open') return;
    this.pendingDigits.push({ digit, durationMs: Math.max(40, durationMs) });
    if (this.eventSender.state === 'idle' && this.dtmfTimer === undefined) this.startNextDigit();
  }

  private eventIdle(): boolean {
    return this.eventSender.state === 'idle';
  }

  private startNextDigit(): void {
    const next = this.pendingDigits.shift();
    if (!next) return;
    const now = this.options.clock.now();
    this.eventSender.begin(next.digit, next.durationMs, this.header.timestamp, now);
    this.sendEventPacket();
    this.dtmfTimer = this.options.clock.setTimeout(this.onDtmfTimerFired, this.eventSender.nextDelayMs(now));
  }

  private dtmfTick(): void {
    this.dtmfTimer = undefined;
    if (this.state !== 'open') return;
    const now = this.options.clock.now();
    if (this.eventSender.state !== 'idle') {
      if (this.eventSender.advance(now)) this.sendEventPacket();
      const over = this.eventIdle();
      const delay = over ? EVENT_GAP_MS : this.eventSender.nextDelayMs(now);
      // After the last end packet the timer still runs once: the gap before the next digit, audio still muted.
      if (!over || this.pendingDigits.length > 0) this.dtmfTimer = this.options.clock.setTimeout(this.onDtmfTimerFired, delay);
      return;
    }
    this.startNextDigit();
  }

  private sendEventPacket(): void {
    const p = this.eventSender.packet;
    const buf = this.eventBufs[this.eventSlot];
    this.eventSlot = (this.eventSlot + 1) % SEND_SLOTS;
    writeRtpHeader(buf, p.marker, this.eventPt, this.header.sequence, p.timestamp, this.ssrc);
    this.header.countSequence();
    writeTelephoneEvent(buf, RTP_HEADER_BYTES, p.event, p.end, this.eventSender.volume, p.duration);
    this.rtp.send(buf, 0, buf.length, this.remote.rtpPort, this.remote.address);
    this.counters.packetsSent++;
    this.counters.octetsSent += 4;
    if (p.marker) this.counters.eventsSent++;
    this.reporter.sentSinceReport = true;
  }

  private receiveRtp(msg: Buffer, length: number, rinfo: DatagramSource): void {
    if (this.state !== 'open') return;
    const remote = this.remote;
    if (rinfo.address !== remote.address) {
      this.counters.strangers++;
      return;
    }
    const v = this.view;
    if (v.parse(msg, length) !== 'ok') {
      this.counters.malformed++;
      return;
    }
    const pt = v.payloadType;
    if (pt !== this.audioPt && pt !== this.eventPt && pt !== this.altPt) {
      this.counters.wrongPayloadType++;
      return;
    }
    if (v.ssrc === this.ssrc) {
      // Our own SSRC coming back: our stream looped to us (a B2BUA or a misrouted reflection), or a collision.
      this.counters.looped++;
      return;
    }
    const now = rinfo.arrivedAt ?? this.options.clock.now();
    if (!remote.latched || (rinfo.port !== remote.rtpPort && now - this.lastHeardAt >= RELATCH_AFTER_MS)) {
      // Symmetric RTP: answer to where the far end really sends from (it may sit behind NAT), but only once a
      // packet from the signalled host with a negotiated payload type proves it is the far end.
      remote.latched = true;
      remote.rtpPort = rinfo.port;
      remote.ssrc = v.ssrc;
      this.newRemoteStream();
    } else if (rinfo.port !== remote.rtpPort) {
      this.counters.strangers++;
      return;
    } else if (v.ssrc !== remote.ssrc) {
      // A new stream from the far end (it restarted, or a B2BUA switched sources), or a straggler of the stream it
      // replaced: only a second packet in sequence makes the new SSRC the stream, so one straggler cannot flip it
      // back (RFC 3550 A.1's probation). The jitter buffer then splices it on where the old one ends.
      if (v.ssrc !== this.candidateSsrc || v.sequence !== ((this.candidateSequence + 1) & 0xffff)) {
        this.candidateSsrc = v.ssrc;
        this.candidateSequence = v.sequence;
        this.counters.probation++;
        return;
      }
      remote.ssrc = v.ssrc;
      this.newRemoteStream();
    }
    this.lastHeardAt = now;
    this.reporter.heardSinceReport = true;
    v.arrivalMs = now;
    if (!this.reception.updateSequence(v.sequence)) return;
    if (pt === this.eventPt) {
      // Every packet of an event carries the timestamp where it began, so its transit time grows with the event:
      // RFC 3550's interarrival jitter is of the audio's transit only.
      this.jitterBuffer.noteNonAudio(v);
      this.eventReceiver.receive(msg, v.payloadOffset, v.payloadLength, v.timestamp, now);
      return;
    }
    this.reception.updateJitter(v.timestamp, now * (this.clockRate / 1000));
    const len = v.payloadLength;
    let payload: Uint8Array;
    if (len === this.frameSamples) {
      payload = this.rxScratch;
      const off = v.payloadOffset;
      for (let i = 0; i < len; i++) payload[i] = msg[off + i];
    } else {
      payload = msg.subarray(v.payloadOffset, v.payloadOffset + len); // another ptime: rare, allowed to allocate
    }
    this.rxAlt = pt === this.altPt;
    this.jitterBuffer.push(v, payload);
  }

  /** The far end's stream is a new one (latched, or a new SSRC): its sequence and timestamps start afresh. */
  private newRemoteStream(): void {
    this.receivedBefore += this.reception.received;
    this.lostBefore += Math.max(0, this.reception.lost);
    this.reception.reset();
    this.eventReceiver.reset();
    this.candidateSsrc = -1;
  }

  stats(): RtpSessionStats {
    const c = this.counters;
    const jb = this.jitterBuffer.stats;
    return {
      packetsSent: c.packetsSent,
      packetsReceived: this.receivedBefore + this.reception.received,
      lost: this.lostBefore + Math.max(0, this.reception.lost),
      jitterMs: (this.reception.jitter * 1000) / this.clockRate,
      rttMs: c.rttMs,
      remoteFractionLost: c.remoteFractionLost,
      remoteJitterMs: c.remoteJitterMs,
      octetsSent: c.octetsSent,
      eventsSent: c.eventsSent,
      eventsReceived: this.eventReceiver.eventsReceived,
      strangers: c.strangers,
      wrongPayloadType: c.wrongPayloadType,
      malformed: c.malformed,
      looped: c.looped,
      probation: c.probation,
      playoutDelayMs: this.jitterBuffer.delayMs,
      remoteBye: c.remoteBye,
      jitterBuffer: { ...jb },
    };
  }

  /** Ends the stream: RTCP BYE (in a compound packet with a last report), then both sockets close. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.options.clock.clearTimeout(this.dtmfTimer);
    this.dtmfTimer = undefined;
    this.eventSender.cancel();
    this.pendingDigits.length = 0;
    await this.reporter.end();
    this.state = 'closed';
    this.rtp.close();
    this.rtcp.close();
  }
}

/**
 * The one spelling of an address (RFC 5952: lower case, zeros compressed) that received datagrams' sources have:
 * an SDP may write `0:0::1` or upper-case hex for the host that sends as `::1`.
 */
function canonicalAddress(address: string): string {
  return new SocketAddress({ address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' }).address;
}

/**
 * A digit's duration in ms must be a finite number: a NaN one made a NaN timer deadline, which a clock that runs its
 * own timers (the media thread's) took as always due. Below 40 ms is raised to 40, above 8191 ms cut to 8191
 * (RFC 4733's 16-bit duration), by the sender.
 */
export function checkDtmfDuration(durationMs: number): void {
  if (!Number.isFinite(durationMs)) throw new RtpSessionError('dtmf-duration', `DTMF duration must be a finite number of ms, got ${durationMs}`);
}

/** ptime: 10 to 60 ms in steps of 10 (what G.711 streams use; RFC 3551 4.5). */
export function checkPtime(ptime: number): void {
  if (!(ptime >= 10 && ptime <= 60 && ptime % 10 === 0)) throw new RtpSessionError('ptime', `ptime must be 10..60 ms in steps of 10, got ${ptime}`);
}
