/**
 * The control half of a media stream (RFC 3550 6): sender and receiver reports on a randomized ~5 s schedule,
 * the far end's reports turned into loss, jitter and round-trip time for the call's quality figures, and BYE with a
 * last report when the stream ends. Not on the per-packet path: it runs every few seconds and on RTCP arrival.
 */
import type { Clock, Random, TimerHandle } from '../../hal/clock.js';
import type { DatagramSocket, DatagramSource } from '../../hal/datagram-socket.js';
import type { MediaCounters } from './media-stats.js';
import { encodeSdesCname, NtpTime, ReceptionStatistics, roundTripMs, RtcpReportView, writeBye, writeReport } from './rtcp.js';

/** The far end as both halves of the stream see it: the RTP side latches it, the RTCP side reports on it. */
export interface RemoteParty {
  address: string;
  rtpPort: number;
  rtcpPort: number;
  /** The RTP side has seen a packet that proves which source is the far end. */
  latched: boolean;
  rtcpLatched: boolean;
  ssrc: number;
}

export interface RtcpReporterOptions {
  clock: Clock;
  random: Random;
  socket: DatagramSocket;
  ssrc: number;
  cname: string;
  intervalMs: number;
  clockRate: number;
  remote: RemoteParty;
  reception: ReceptionStatistics;
  counters: MediaCounters;
  /** The RTP timestamp that corresponds to now, for the sender report. */
  rtpTimestamp: () => number;
}

export type RtcpReporterState = 'reporting' | 'ended';

export class RtcpReporter {
  state: RtcpReporterState = 'reporting';
  /**
   * Set by the RTP side whenever it sends: a report is a sender report if we sent since the last report or the one
   * before it (RFC 3550 6.4), so that a short pause (hold) does not flip SR and RR back and forth.
   */
  sentSinceReport = false;
  private sentBeforeReport = false;
  /** Set by the RTP side whenever the far end's stream brings a packet: a report block is only about a source heard since the last report (6.4). */
  heardSinceReport = false;
  private readonly buf = Buffer.alloc(512);
  private readonly view = new RtcpReportView();
  private readonly ntp = new NtpTime();
  private readonly sdes: Uint8Array;
  private readonly wallOrigin: number;
  private readonly clockOrigin: number;
  private lastSrMiddle = 0;
  private lastSrArrivalMs = 0;
  /** Whose SR that was: a new SSRC of the far end has sent none yet, and its report block says LSR 0. */
  private lastSrSsrc = -1;
  private timer: TimerHandle | undefined;
  private readonly onTimer = (): void => this.send(false);
  readonly onDatagram = (msg: Buffer, length: number, from: DatagramSource): void => this.receive(msg, length, from);

  constructor(private readonly o: RtcpReporterOptions) {
    this.sdes = encodeSdesCname(o.ssrc, o.cname);
    this.wallOrigin = o.clock.wallTime().getTime();
    this.clockOrigin = o.clock.now();
    this.schedule();
  }

  private receive(msg: Buffer, length: number, rinfo: DatagramSource): void {
    const { remote, counters } = this.o;
    if (this.state === 'ended' || rinfo.address !== remote.address) {
      counters.strangers++;
      return;
    }
    const r = this.view;
    if (r.parse(msg, length, this.o.ssrc) !== 'ok') {
      counters.malformed++;
      return;
    }
    if (remote.latched && r.senderSsrc !== remote.ssrc) {
      counters.strangers++;
      return;
    }
    // Latched only once RTP has proved which SSRC is the far end's: before that, anyone on the signalled host (the
    // same NAT) could take our reports for good.
    if (!remote.rtcpLatched && remote.latched) {
      remote.rtcpLatched = true;
      remote.rtcpPort = rinfo.port;
    }
    const now = rinfo.arrivedAt ?? this.o.clock.now();
    if (r.hasSenderReport) {
      this.lastSrMiddle = r.srNtpMiddle;
      this.lastSrArrivalMs = now;
      this.lastSrSsrc = r.senderSsrc;
    }
    if (r.hasReportForUs) {
      counters.remoteFractionLost = r.fractionLost / 256;
      counters.remoteJitterMs = (r.jitter * 1000) / this.o.clockRate;
      const rtt = roundTripMs(this.ntpAt(now).middle, r.lsr, r.dlsr);
      if (rtt >= 0) counters.rttMs = rtt;
    }
    if (r.bye) counters.remoteBye = true;
  }

  /** Stops the schedule and sends BYE in a compound packet with a last report; resolves once it is on the wire. */
  end(): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    this.state = 'ended';
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    return new Promise<void>((resolve) => this.send(true, resolve));
  }

  private ntpAt(nowMs: number): NtpTime {
    return this.ntp.set(this.wallOrigin + (nowMs - this.clockOrigin));
  }

  private schedule(): void {
    // RFC 3550 6.3.5: randomize the interval over [0.5, 1.5] x the nominal one.
    this.timer = this.o.clock.setTimeout(this.onTimer, this.o.intervalMs * (0.5 + this.o.random()));
  }

  private send(bye: boolean, done?: () => void): void {
    this.timer = undefined;
    const { remote, counters } = this.o;
    const now = this.o.clock.now();
    const sender = this.sentSinceReport || this.sentBeforeReport
      ? { ntp: this.ntpAt(now), rtpTimestamp: this.o.rtpTimestamp(), packetCount: counters.packetsSent >>> 0, octetCount: counters.octetsSent >>> 0 }
      : null;
    this.sentBeforeReport = this.sentSinceReport;
    this.sentSinceReport = false;
    const lsr = this.lastSrSsrc === remote.ssrc ? this.lastSrMiddle : 0;
    const report = remote.latched && this.heardSinceReport
      ? { stats: this.o.reception, ssrc: remote.ssrc, lsr, dlsr: lsr ? Math.floor(((now - this.lastSrArrivalMs) * 65536) / 1000) >>> 0 : 0 }
      : null;
    this.heardSinceReport = false;
    let len = writeReport(this.buf, this.o.ssrc, sender, report, this.sdes);
    if (bye) len = writeBye(this.buf, len, this.o.ssrc);
    // A DatagramSocket never throws: a send to a closed socket or a bad port is dropped, and `done` still runs.
    this.o.socket.send(this.buf, 0, len, remote.rtcpPort, remote.address, done);
    if (!bye && this.state === 'reporting') this.schedule();
  }
}
