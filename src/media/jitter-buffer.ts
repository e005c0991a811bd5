/**
 * Receive-side jitter buffer for one RTP stream of narrowband audio.
 *
 * Packets are decoded on arrival into a ring of samples indexed by RTP timestamp, so reordering costs nothing and
 * packet edges need not line up with playout frames. The playback clock pulls exactly `frameSamples` every 20 ms;
 * the buffer reads `frameSamples +- a few` source samples and time-scales them to one frame (linear
 * interpolation), which is how the playout delay moves: to follow the measured jitter and to absorb clock skew
 * between the far end and our sound card. Steps are 2 samples per frame (1.25 %, inaudible) during speech, up to 10
 * (6 %) while the delay is more than two frames off its target (after a stall), and larger during concealment (40)
 * and after a quiet frame (80: the start of a stream or a talkspurt, where the step takes silence and a bit of the
 * onset). Missing samples go through the G.711 Appendix I concealer (plc.ts), which also delays output by 3.75 ms.
 *
 * The far end's timeline can move under a stream: a new SSRC (it restarted, or a B2BUA switched sources), or
 * timestamps that jump inside one SSRC (a PBX switching sources without a new SSRC), or a network path that becomes
 * slower for good. A packet whose transit time is below the fastest the window has seen (no network does that) or
 * later than maxMs could ever play is held; a second in line with it splices the new timeline on where the queued
 * audio ends (a stray is dropped). Without that, a jump of less than the ring's second either played seconds of
 * concealment or sat above maxMs for seconds.
 *
 * How the delay is measured without a clock at pull time: for every packet, its margin (timestamp minus the next
 * sample to be played, at arrival) is how much audio was queued ahead of it; a negative margin is a late packet.
 * Over the last `windowPackets` packets the buffer keeps the worst margin above 1 ms and the best margin (that of
 * packets which came by the fastest path: the playout delay proper, but never more than the transit-time spread above the worst, since margins are quantised to a pull) at least `minMs` and never above `maxMs`. Margins are stored offset by the running total of time-scaling so that old
 * entries stay comparable after adjustments.
 */
import { BLOCK_AUDIO, BLOCK_CONCEALED, PacketLossConcealer } from './plc.js';
import { SlidingExtreme } from './sliding-extreme.js';

export type PullResult = 'audio' | 'concealed' | 'silence';

/**
 * One received packet's header fields and arrival time (RtpPacketView is one). Taken as an object, not as five
 * numbers: timestamps and SSRCs above 2^30 and fractional times are not small integers, so V8 would box each as a
 * heap number for the call, 50 times a second.
 */
export interface JitterPacket {
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  /** Arrival time in ms, on any clock the caller keeps to for the stream's life. */
  readonly arrivalMs: number;
}

export interface JitterBufferOptions {
  minMs: number;
  maxMs: number;
  clockRate: number;
  frameSamples: number;
  /** Writes `codes.length` samples into `out` (which may be longer). */
  decode: (codes: Uint8Array, out: Int16Array) => void;
  /** First playout delay before anything has been measured (default 40 ms, clamped to [minMs, maxMs]). */
  startMs?: number;
  /** Packets over which jitter is measured (default 250, 5 s of 20 ms packets). */
  windowPackets?: number;
  /** Largest payload accepted, in samples (default six frames). */
  maxPacketSamples?: number;
}

export interface JitterBufferStats {
  received: number;
  late: number;
  duplicate: number;
  lost: number;
  /** Frames (pulls) that contained concealed samples. */
  concealed: number;
  /** Frames that were silence because nothing had arrived for more than 60 ms, or before the first packet. */
  silence: number;
  delayMs: number;
  targetDelayMs: number;
  /** Spread of transit times over the window (max - min), in ms. */
  jitterMs: number;
  /** Packets dropped as malformed, too large or too far ahead. */
  dropped: number;
  /** Stream restarts: SSRC changes and timestamp jumps. */
  resyncs: number;
  /** Samples consumed beyond / short of one frame per pull by time-scaling (skew and delay changes). */
  samplesDropped: number;
  samplesInserted: number;
}

const SEQ_SLOTS = 1024;
const RESYNC_AFTER = 3;

export class JitterBufferConfigError extends RangeError {
  constructor(readonly option: string, message: string) {
    super(message);
    this.name = 'JitterBufferConfigError';
  }
}

export class JitterBuffer {
  readonly stats: JitterBufferStats = {
    received: 0, late: 0, duplicate: 0, lost: 0, concealed: 0, silence: 0, delayMs: 0, targetDelayMs: 0,
    jitterMs: 0, dropped: 0, resyncs: 0, samplesDropped: 0, samplesInserted: 0,
  };

  private readonly frame: number;
  private readonly perMs: number;
  private readonly minS: number;
  private readonly maxS: number;
  private readonly startS: number;
  private readonly safetyS: number;
  private readonly shrinkDeadband: number;
  private readonly maxPacket: number;
  private readonly decode: (codes: Uint8Array, out: Int16Array) => void;

  private readonly ring: Int16Array;
  private readonly valid: Uint8Array;
  private readonly mask: number;
  private readonly decoded: Int16Array;
  private readonly seqSeen: Int32Array;
  private readonly plc: PacketLossConcealer;
  private readonly src: Int16Array;
  private readonly srcValid: Uint8Array;
  private readonly block: Int16Array;

  // The window's extremes, kept as packets are recorded (sliding-extreme.ts): the worst margin over the whole
  // window, the best over its most recent eighth, and the spread of transit times.
  private readonly marginLow: SlidingExtreme;
  private readonly marginHighRecent: SlidingExtreme;
  private readonly transitLow: SlidingExtreme;
  private readonly transitHigh: SlidingExtreme;

  private started = false;
  private ssrc = 0;
  private readTs = 0; // next RTP timestamp to play (uint32)
  private adjust = 0; // running sum of (consumed - frame): keeps stored margins comparable
  private lastTs = 0;
  private extTs = 0; // unwrapped timestamp of the last packet, for transit times
  private maxSeq = 0;
  private seqCycles = 0;
  private baseExtSeq = 0;
  private uniqueReceived = 0;
  private lostBefore = 0; // losses of earlier SSRCs
  private outOfRange = 0; // consecutive packets too far ahead or behind to be this stream
  private tsShift = 0; // added to the far end's timestamps: nonzero once its timeline was spliced (new SSRC, jump)
  private writeEnd = 0; // just past the newest sample written (mapped timestamp)
  // One packet off the timeline, held until the next says whether the timeline moved (both kept preallocated).
  private readonly pending = { sequence: 0, timestamp: 0, ssrc: 0, arrivalMs: 0 };
  private readonly pendingPayload: Uint8Array;
  private pendingLength = 0;
  private pendingTransit = 0;
  private pendingHeld = false;
  private prevSample = 0; // last source sample of the previous pull, for interpolation
  private prevFlags = 0;
  private prevLevel = 0;

  constructor(opts: JitterBufferOptions) {
    const { minMs, maxMs, clockRate, frameSamples } = opts;
    if (!(clockRate > 0) || !Number.isInteger(clockRate)) throw new JitterBufferConfigError('clockRate', `clockRate must be a positive integer, got ${clockRate}`);
    if (!(frameSamples > 0) || !Number.isInteger(frameSamples)) throw new JitterBufferConfigError('frameSamples', `frameSamples must be a positive integer, got ${frameSamples}`);
    if (!(minMs >= 0) || !(maxMs >= minMs)) throw new JitterBufferConfigError('minMs', `need 0 <= minMs <= maxMs, got ${minMs}..${maxMs}`);
    this.frame = frameSamples;
    this.perMs = clockRate / 1000;
    this.minS = Math.round(minMs * this.perMs);
    this.maxS = Math.round(maxMs * this.perMs);
    const startMs = Math.min(maxMs, Math.max(minMs, opts.startMs ?? 40));
    this.startS = Math.round(startMs * this.perMs);
    this.safetyS = Math.round(this.perMs); // 1 ms
    this.shrinkDeadband = Math.round(4 * this.perMs);
    this.maxPacket = opts.maxPacketSamples ?? frameSamples * 6;
    this.decode = opts.decode;

    let size = 1;
    while (size < this.maxS + this.maxPacket + 4 * frameSamples + 500 * this.perMs) size <<= 1;
    this.ring = new Int16Array(size);
    this.valid = new Uint8Array(size);
    this.mask = size - 1;
    this.decoded = new Int16Array(this.maxPacket);
    this.pendingPayload = new Uint8Array(this.maxPacket);
    this.seqSeen = new Int32Array(SEQ_SLOTS).fill(-1);
    const maxBlock = frameSamples * 2;
    this.plc = new PacketLossConcealer({ sampleRate: clockRate, maxBlock });
    this.src = new Int16Array(maxBlock);
    this.srcValid = new Uint8Array(maxBlock);
    this.block = new Int16Array(maxBlock);
    const w = opts.windowPackets ?? 250;
    // The delay ceiling looks at recent packets only: a margin is quantised to whole frames, and with a slow far-end
    // clock it steps down one frame at a time, which a long-window maximum would hide for seconds.
    this.marginLow = new SlidingExtreme(w, 'min');
    this.marginHighRecent = new SlidingExtreme(w >> 3 || 1, 'max');
    this.transitLow = new SlidingExtreme(w, 'min');
    this.transitHigh = new SlidingExtreme(w, 'max');
    this.stats.targetDelayMs = startMs;
  }

  /**
   * Current playout delay in ms: audio queued ahead of packets that arrive by the fastest path, plus the
   * concealer's 3.75 ms lookahead. Measured at arrival against the next pull's position, it leaves out the wait from
   * arrival to that pull (the buffer keeps no clock at pull time), so the true delay is up to one frame more.
   */
  get delayMs(): number {
    return this.stats.delayMs;
  }

  /** Forgets the stream and the statistics (a new call). */
  reset(): void {
    this.restartStream();
    this.plc.reset();
    this.prevSample = 0;
    this.prevFlags = 0;
    this.prevLevel = 0;
    const st = this.stats;
    st.received = st.late = st.duplicate = st.lost = st.concealed = st.silence = 0;
    st.dropped = st.resyncs = st.samplesDropped = st.samplesInserted = 0;
    st.delayMs = st.jitterMs = 0;
    st.targetDelayMs = this.startS / this.perMs;
    this.lostBefore = 0;
  }

  private restartStream(): void {
    this.started = false;
    this.valid.fill(0);
    this.restartSequence();
    this.clearWindows();
    this.outOfRange = 0;
  }

  private restartSequence(): void {
    this.seqSeen.fill(-1);
    this.uniqueReceived = 0;
    this.seqCycles = 0;
    this.pendingHeld = false;
  }

  private clearWindows(): void {
    this.marginLow.clear();
    this.marginHighRecent.clear();
    this.transitLow.clear();
    this.transitHigh.clear();
    this.adjust = 0;
  }

  /** Decodes a packet's payload into the ring at its timestamp; `packet` is read during the call only. */
  push(packet: JitterPacket, payload: Uint8Array): void {
    const arrivalMs = packet.arrivalMs;
    const len = payload.length;
    if (len === 0 || len > this.maxPacket || !Number.isFinite(arrivalMs)) {
      this.stats.dropped++;
      return;
    }
    const seq = packet.sequence & 0xffff;
    const timestamp = packet.timestamp >>> 0;
    const ssrc = packet.ssrc >>> 0;
    if (this.started && ssrc !== this.ssrc) {
      // A new stream (the far end restarted, or a B2BUA switched sources): its timestamps and sequence numbers
      // start from new random bases, and it goes on where the old one's queued audio ends.
      this.lostBefore = this.stats.lost;
      this.restartSequence();
      this.ssrc = ssrc;
      this.maxSeq = this.baseExtSeq = seq;
      this.splice(timestamp, this.startS);
    }
    if (!this.started) this.startStream(seq, timestamp, ssrc);
    else if (this.seqSeen[seq & (SEQ_SLOTS - 1)] === seq) {
      this.stats.duplicate++;
      return;
    }
    if (!this.marginLow.empty) {
      // A packet off the stream's timeline: its transit time (arrival minus timestamp) is below the fastest the
      // window has seen, which no network can do, or later than any delay could ever play. Either the far end's
      // timestamps jumped (a B2BUA or PBX switching sources without a new SSRC, music on hold starting), or the
      // network now takes a different path, or the packet is a stray. A second such packet in line with it says
      // the timeline moved: the stream goes on from there, where the queued audio ends. A stray is dropped.
      const transit = arrivalMs * this.perMs - (this.extTs + ((((timestamp + this.tsShift) >>> 0) - this.lastTs) | 0));
      const fastest = this.transitLow.value;
      if (transit < fastest - 2 * this.frame || transit > fastest + this.maxS + this.frame) {
        if (this.pendingHeld && Math.abs(transit - this.pendingTransit) <= this.frame >> 1) {
          this.pendingHeld = false;
          // Held a frame for this confirmation, it plays at once: no delay is added for the wait.
          this.splice(this.pending.timestamp, this.safetyS);
          this.place(this.pending, this.pendingPayload.subarray(0, this.pendingLength));
          this.place(packet, payload);
          return;
        }
        if (this.pendingHeld) this.stats.dropped++;
        this.hold(packet, payload, transit);
        return;
      }
      if (this.pendingHeld) {
        this.pendingHeld = false;
        this.stats.dropped++;
      }
    }
    this.place(packet, payload);
  }

  /**
   * Maps the far end's timestamp `first` (a new SSRC's first packet, or the first of a moved timeline) to where the
   * audio queued so far ends, or, with nothing queued, `ahead` samples from the play point; the windows start
   * afresh, since the new timeline's transit times have nothing to do with the old one's.
   */
  private splice(first: number, ahead: number): void {
    const queued = (this.writeEnd - this.readTs) | 0;
    const at = queued > 0 ? this.writeEnd : (this.readTs + ahead) >>> 0;
    this.tsShift = (at - first) >>> 0;
    this.lastTs = at;
    this.clearWindows();
    this.outOfRange = 0;
    this.stats.resyncs++;
  }

  /** Keeps one packet off the timeline aside (preallocated: the stream's one such packet at a time). */
  private hold(packet: JitterPacket, payload: Uint8Array, transit: number): void {
    const p = this.pending;
    p.sequence = packet.sequence;
    p.timestamp = packet.timestamp >>> 0;
    p.ssrc = packet.ssrc;
    p.arrivalMs = packet.arrivalMs;
    this.pendingPayload.set(payload);
    this.pendingLength = payload.length;
    this.pendingTransit = transit;
    this.pendingHeld = true;
  }

  /** Puts a packet of the current timeline into the ring. */
  private place(packet: JitterPacket, payload: Uint8Array): void {
    const len = payload.length;
    const seq = packet.sequence & 0xffff;
    const timestamp = (packet.timestamp + this.tsShift) >>> 0;
    const margin = (timestamp - this.readTs) | 0;
    if (margin + len > this.mask + 1 - 3 * this.frame || margin < -(this.mask + 1)) {
      // Too far from the play point to be this stream's next audio (before the window knows the stream): drop, and
      // re-anchor if it keeps happening.
      if (++this.outOfRange < RESYNC_AFTER) {
        this.stats.dropped++;
        return;
      }
      this.lostBefore = this.stats.lost;
      this.restartStream();
      this.stats.resyncs++;
      this.startStream(seq, packet.timestamp >>> 0, packet.ssrc >>> 0);
      return this.place(packet, payload);
    }
    this.outOfRange = 0;
    this.countSequence(seq);
    this.stats.received++;

    this.extTs += (timestamp - this.lastTs) | 0;
    this.lastTs = timestamp;
    this.record(margin, packet.arrivalMs * this.perMs - this.extTs);

    if (margin + len <= 0) {
      this.stats.late++;
      return;
    }
    const end = (timestamp + len) >>> 0;
    if (((end - this.writeEnd) | 0) > 0) this.writeEnd = end;
    this.decode(payload, this.decoded);
    const ring = this.ring;
    const valid = this.valid;
    const mask = this.mask;
    for (let k = margin < 0 ? -margin : 0; k < len; k++) {
      const idx = (timestamp + k) & mask;
      ring[idx] = this.decoded[k];
      valid[idx] = 1;
    }
  }

  /**
   * A packet of the stream that carries no audio (an RFC 4733 event shares the audio's sequence numbers): counted as
   * received, so that it is not taken for a lost one. Before the first audio packet, or from another SSRC, there is
   * no sequence to count it in yet, and nothing is done.
   */
  noteNonAudio(packet: JitterPacket): void {
    const seq = packet.sequence & 0xffff;
    if (!this.started || packet.ssrc >>> 0 !== this.ssrc || this.seqSeen[seq & (SEQ_SLOTS - 1)] === seq) return;
    this.countSequence(seq);
  }

  private startStream(seq: number, timestamp: number, ssrc: number): void {
    this.started = true;
    this.ssrc = ssrc;
    this.tsShift = 0;
    this.readTs = (timestamp - this.startS) >>> 0;
    this.writeEnd = this.readTs;
    this.lastTs = timestamp;
    this.extTs = 0;
    this.maxSeq = seq;
    this.baseExtSeq = seq;
  }

  private countSequence(seq: number): void {
    this.seqSeen[seq & (SEQ_SLOTS - 1)] = seq;
    const ahead = (seq - this.maxSeq) & 0xffff;
    if (ahead !== 0 && ahead < 0x8000) {
      if (seq < this.maxSeq) this.seqCycles += 0x10000;
      this.maxSeq = seq;
    }
    this.uniqueReceived++;
    const expected = this.seqCycles + this.maxSeq - this.baseExtSeq + 1;
    const lost = expected - this.uniqueReceived;
    this.stats.lost = this.lostBefore + (lost > 0 ? lost : 0);
  }

  private record(margin: number, transit: number): void {
    const stored = margin + this.adjust;
    this.marginLow.push(stored);
    this.marginHighRecent.push(stored);
    this.transitLow.push(transit);
    this.transitHigh.push(transit);
  }

  /** How many samples to read for the next frame: `frame` plus or minus the correction the window asks for. */
  private nextReadLength(): number {
    if (this.marginLow.empty) return this.frame;
    const lo = this.marginLow.value - this.adjust;
    let hi = this.marginHighRecent.value - this.adjust;
    const tMin = this.transitLow.value;
    const tMax = this.transitHigh.value;
    // A margin is read against a position that moves a whole frame per pull, so two packets the network delivered
    // 1 ms apart, one just before a pull and one just after, differ by a frame. The fastest packets are truly ahead
    // of the latest by no more than the spread of transit times; any excess is that quantisation, not delay, and
    // shrinking on it would resample audible audio for seconds (baresip's sender timer sweeps its packets across
    // our pull instant every 120 ms). The transit times are continuous, so they bound it.
    const spread = tMax - tMin;
    if (hi > lo + spread) hi = lo + spread;
    const st = this.stats;
    st.jitterMs = spread / this.perMs;
    const plcMs = this.plc.delaySamples / this.perMs;
    st.delayMs = hi / this.perMs + plcMs;
    // Enough delay for the latest packet of the window, and for the earliest at least minMs, at most maxMs.
    let need = Math.max(this.safetyS - lo, this.minS - hi);
    need = Math.min(need, this.maxS - hi);
    st.targetDelayMs = (hi + need) / this.perMs + plcMs;
    if (need > 0) return this.frame - Math.min(Math.ceil(need), this.stepLimit(need));
    if (need < -this.shrinkDeadband) return this.frame + Math.min(Math.floor(-need), this.stepLimit(-need));
    return this.frame;
  }

  /** Largest time-scaling step this frame: big where nobody hears it, tiny inside speech. */
  private stepLimit(amount: number): number {
    if (this.plc.muted || this.prevLevel < 64) return this.frame >> 1;
    if (this.prevFlags & BLOCK_CONCEALED) return this.frame >> 2;
    return amount > 2 * this.frame ? Math.max(2, this.frame >> 4) : 2;
  }

  pull(out: Int16Array): PullResult {
    const frame = this.frame;
    if (!this.started) {
      out.fill(0, 0, frame);
      this.stats.silence++;
      return 'silence';
    }
    const n = this.nextReadLength();
    const ring = this.ring;
    const valid = this.valid;
    const mask = this.mask;
    const src = this.src;
    const sv = this.srcValid;
    let idx = this.readTs & mask;
    for (let i = 0; i < n; i++) {
      src[i] = ring[idx];
      sv[i] = valid[idx];
      valid[idx] = 0;
      idx = (idx + 1) & mask;
    }
    this.readTs = (this.readTs + n) >>> 0;
    this.adjust += n - frame;
    if (n > frame) this.stats.samplesDropped += n - frame;
    else this.stats.samplesInserted += frame - n;

    const flags = this.plc.process(src, sv, n, this.block);
    this.prevFlags = flags;
    this.timeScale(n, out);

    if (flags & BLOCK_CONCEALED) {
      this.stats.concealed++;
      return 'concealed';
    }
    if (flags & BLOCK_AUDIO) return 'audio';
    this.stats.silence++;
    return 'silence';
  }

  /** Resamples `n` block samples to one frame; output j sits at source position (j+1)*n/frame - 1. */
  private timeScale(n: number, out: Int16Array): void {
    const frame = this.frame;
    const b = this.block;
    let level = 0;
    if (n === frame) {
      for (let j = 0; j < frame; j++) {
        const v = b[j];
        out[j] = v;
        level += v < 0 ? -v : v;
      }
    } else {
      const step = n / frame;
      for (let j = 0; j < frame; j++) {
        const pos = (j + 1) * step - 1;
        const i = Math.floor(pos);
        const f = pos - i;
        const a = i < 0 ? this.prevSample : b[i];
        const c = b[i + 1 < n ? i + 1 : n - 1];
        const v = Math.round(a + (c - a) * f);
        out[j] = v;
        level += v < 0 ? -v : v;
      }
    }
    this.prevSample = b[n - 1];
    this.prevLevel = level / frame;
  }
}
