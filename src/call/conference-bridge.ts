/**
 * A three-way conference on one line, mixed here the way a commercial adapter does it: the phone hears both far
 * ends, and each far end hears the phone and the other far end. It sits between the line's audio port and the two
 * calls' streams (CallMedia.joinBridge), on the port's 20 ms frame clock, and allocates nothing per frame.
 *
 * Each far end gets what the other said in the previous frame (the earpiece is pulled after the mouthpiece is
 * sent, FxsPort.frame), so the far ends hear each other 20 ms later than they hear the phone: well inside what a
 * conversation notices, and no extra buffering.
 */

/** One call's two audio ends, as CallMedia hands them to the line. */
export interface CallLeg {
  /**
   * Our audio to the far end: one port frame. `keyed`, when given, is the phone's own audio, in which the leg looks
   * for keyed digits instead (in a conference `pcm` has the other far end mixed in, and its tones are not our keys).
   */
  mouthpiece(pcm: Int16Array, keyed?: Int16Array): void;
  /** The far end's audio: fills one port frame, true when there was something to hear. */
  earpiece(out: Int16Array): boolean;
}

export class ConferenceBridge {
  private readonly heardA: Int16Array;
  private readonly heardB: Int16Array;
  private readonly toLeg: Int16Array;

  constructor(
    private readonly a: CallLeg,
    private readonly b: CallLeg,
    frameSamples = 160,
  ) {
    this.heardA = new Int16Array(frameSamples);
    this.heardB = new Int16Array(frameSamples);
    this.toLeg = new Int16Array(frameSamples);
  }

  /** The phone's frame: A gets it with B's last frame mixed in, B with A's. */
  readonly mouthpiece = (pcm: Int16Array): void => {
    mix(this.toLeg, pcm, this.heardB);
    this.a.mouthpiece(this.toLeg, pcm);
    mix(this.toLeg, pcm, this.heardA);
    this.b.mouthpiece(this.toLeg, pcm);
  };

  /** The earpiece's frame: both far ends. */
  readonly earpiece = (out: Int16Array): boolean => {
    const a = this.a.earpiece(this.heardA);
    if (!a) this.heardA.fill(0);
    const b = this.b.earpiece(this.heardB);
    if (!b) this.heardB.fill(0);
    mix(out, this.heardA, this.heardB);
    return a || b;
  };
}

/** out = x + y, clipped to 16 bits (a plain sum: two voices rarely peak together, and clipping beats halving both). */
function mix(out: Int16Array, x: Int16Array, y: Int16Array): void {
  const n = Math.min(out.length, x.length, y.length);
  for (let i = 0; i < n; i++) {
    const s = x[i] + y[i];
    out[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
  }
}
