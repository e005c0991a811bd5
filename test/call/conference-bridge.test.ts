import { describe, expect, it } from 'vitest';
import { ConferenceBridge, type CallLeg } from '../../src/call/conference-bridge.js';

/** A far end that says `voice` every frame (or nothing, with null) and keeps what it was sent. */
function leg(voice: number | null) {
  const sent: number[][] = [];
  const keyed: number[][] = [];
  const l: CallLeg = {
    mouthpiece: (pcm, k) => void (sent.push(Array.from(pcm)), keyed.push(Array.from(k ?? []))),
    earpiece: (out) => (voice === null ? (out.fill(1234), false) : (out.fill(voice), true)),
  };
  return { l, sent, keyed };
}

describe('ConferenceBridge', () => {
  it('the earpiece hears both far ends summed; each far end hears the phone plus the other far end', () => {
    const a = leg(100);
    const b = leg(-30);
    const bridge = new ConferenceBridge(a.l, b.l, 4);
    const ear = new Int16Array(4);
    // First frame: nothing heard from the far ends yet, so each gets the phone alone.
    bridge.mouthpiece(Int16Array.from([1, 2, 3, 4]));
    expect(a.sent[0]).toEqual([1, 2, 3, 4]);
    expect(b.sent[0]).toEqual([1, 2, 3, 4]);
    expect(bridge.earpiece(ear)).toBe(true);
    expect(Array.from(ear)).toEqual([70, 70, 70, 70]);
    // Next frame: A gets the phone plus B's last frame, B the phone plus A's.
    bridge.mouthpiece(Int16Array.from([1, 2, 3, 4]));
    expect(a.sent[1]).toEqual([-29, -28, -27, -26]);
    expect(b.sent[1]).toEqual([101, 102, 103, 104]);
    // Keys are looked for in the phone's own audio, not in the mix: B's tones are not the phone's digits.
    expect(a.keyed[1]).toEqual([1, 2, 3, 4]);
    expect(b.keyed[1]).toEqual([1, 2, 3, 4]);
  });

  it('a far end with nothing to play counts as silence, whatever its frame held; both silent is "nothing heard"', () => {
    const a = leg(null);
    const b = leg(null);
    const bridge = new ConferenceBridge(a.l, b.l, 4);
    const ear = new Int16Array(4);
    expect(bridge.earpiece(ear)).toBe(false);
    expect(Array.from(ear)).toEqual([0, 0, 0, 0]);
    bridge.mouthpiece(Int16Array.from([5, 5, 5, 5]));
    expect(a.sent[0]).toEqual([5, 5, 5, 5]);
  });

  it('sums are clipped to 16 bits, not wrapped', () => {
    const bridge = new ConferenceBridge(leg(30000).l, leg(30000).l, 2);
    const ear = new Int16Array(2);
    bridge.earpiece(ear);
    expect(Array.from(ear)).toEqual([32767, 32767]);
    const low = new ConferenceBridge(leg(-30000).l, leg(-30000).l, 2);
    low.earpiece(ear);
    expect(Array.from(ear)).toEqual([-32768, -32768]);
  });
});
