import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { DigitMap } from '../../src/phone/digit-map.js';
import { LineController } from '../../src/phone/line-controller.js';
import type { LineSeams, LineTone } from '../../src/phone/line-seams.js';

/** `calls`: the call-log events (started/answered/ended) go into `log` too. */
/** `extra`: seams to set beyond the defaults (a hotline, transfer off). */
function rig(map = '(*xx|[2-9]xx|xx.T)', speedDial: Record<string, string> = {}, callWaiting = true, calls = false, extra: Partial<LineSeams> = {}) {
  const clock = new FakeClock();
  const log: string[] = [];
  const tones: Array<LineTone | null> = [];
  const seams: LineSeams = {
    clock,
    digitMap: new DigitMap(map),
    speedDial,
    playTone: (t) => tones.push(t),
    startRinging: (c) => log.push(`ring ${c.number ?? '-'}`),
    stopRinging: () => log.push('stop-ring'),
    placeCall: (t) => log.push(`call ${t.uri ?? t.digits}`),
    answerCall: () => log.push('answer'),
    hangUp: (r) => log.push(`hangup ${r}`),
    swapCalls: () => log.push('swap'),
    consult: () => log.push('consult'),
    endConsultation: () => log.push('end-consultation'),
    conference: () => log.push('conference'),
    endConference: () => log.push('end-conference'),
    transferCalls: () => log.push('transfer'),
    callWaitingTone: (on) => log.push(`cw-beep ${on ? 'on' : 'off'}`),
    callWaiting,
    onCall: (event, call, cause) => calls && log.push(`${event} ${call.remote}${cause ? ' ' + cause : ''}`),
    ...extra,
  };
  const line = new LineController(0, seams);
  return { clock, log, tones, line };
}

describe('LineController', () => {
  it('gives dial tone off hook and stops it at the first digit', () => {
    const { line, tones } = rig();
    line.offHook();
    expect(line.state).toBe('dialtone');
    expect(tones).toEqual(['dial']);
    line.digit('2');
    expect(line.state).toBe('dialing');
    expect(tones).toEqual(['dial', null]);
  });

  it('places the call when the digit map completes, with the digits collected', () => {
    const { line, log } = rig('(*xx|[2-9]xx)');
    line.offHook();
    for (const d of '*72') line.digit(d);
    expect(line.state).toBe('calling');
    expect(line.digits).toBe('*72');
    expect(log).toEqual(['call *72']);
  });

  it('waits the short timer for a T rule, then dials (fake clock)', () => {
    const { line, log, clock } = rig();
    line.offHook();
    line.digit('0');
    line.digit('1');
    clock.advance(2_999);
    expect(line.state).toBe('dialing');
    clock.advance(1);
    expect(line.state).toBe('calling');
    expect(log).toEqual(['call 01']);
  });

  it('plays congestion for a number no rule accepts, then the howler after the tone timeout', () => {
    const { line, tones, clock } = rig('[2-9]xx');
    line.offHook();
    line.digit('1');
    expect(line.state).toBe('congestion');
    expect(tones.at(-1)).toBe('congestion');
    clock.advance(60_000);
    expect(tones.at(-1)).toBe('off-hook-warning');
  });

  it('plays the off-hook warning when no digit comes within the first-digit timer', () => {
    const { line, tones, clock } = rig();
    line.offHook();
    clock.advance(15_000);
    expect(tones.at(-1)).toBe('off-hook-warning');
  });

  it('dials a speed-dial code to its URI', () => {
    const { line, log } = rig('[2-9]xx', { '11': 'sip:200@192.0.2.7' });
    line.offHook();
    line.digit('1');
    line.digit('1');
    expect(log).toEqual(['call sip:200@192.0.2.7']);
  });

  it('rings for an incoming call, answers when picked up, hangs up on hook', () => {
    const { line, log } = rig();
    expect(line.incomingCall({ number: '5551234', remote: 'sip:5551234@x' })).toBe(true);
    expect(line.state).toBe('ringing');
    line.offHook();
    expect(line.state).toBe('connected');
    expect(line.call?.answeredAt).not.toBeNull();
    line.onHook();
    expect(line.state).toBe('idle');
    expect(log).toEqual(['ring 5551234', 'stop-ring', 'answer', 'hangup on-hook']);
  });

  it('refuses a second incoming call while off hook (the agent answers busy)', () => {
    const { line } = rig();
    line.offHook();
    expect(line.incomingCall({ remote: 'sip:x@y' })).toBe(false);
    expect(line.state).toBe('dialtone');
  });

  it('stops ringing when the caller cancels', () => {
    const { line, log } = rig();
    line.incomingCall({ remote: 'sip:x@y' });
    line.incomingCallEnded();
    expect(line.state).toBe('idle');
    expect(log.at(-1)).toBe('stop-ring');
  });

  it('hook flash while dialing starts over with dial tone and no digits', () => {
    const { line, tones } = rig();
    line.offHook();
    line.digit('5');
    line.flash();
    expect(line.state).toBe('dialtone');
    expect(line.digits).toBe('');
    expect(tones.at(-1)).toBe('dial');
  });

  it('follows an outgoing call through ringback to connected and a remote hang-up', () => {
    const { line, tones } = rig('[2-9]xx');
    line.offHook();
    for (const d of '200') line.digit(d);
    line.callRinging();
    expect(line.state).toBe('ringback');
    expect(tones.at(-1)).toBe('ringback');
    line.callAnswered('PCMU');
    expect(line.state).toBe('connected');
    expect(line.call?.codec).toBe('PCMU');
    line.remoteHangUp();
    expect(line.state).toBe('disconnected');
    expect(tones.at(-1)).toBe('congestion');
  });

  it('plays busy when the far end is busy', () => {
    const { line, tones } = rig('[2-9]xx');
    line.offHook();
    for (const d of '200') line.digit(d);
    line.callFailed('busy');
    expect(line.state).toBe('busy');
    expect(tones.at(-1)).toBe('busy');
  });

  it('gives stutter dial tone while voicemail waits, and dial tone again once the messages were heard', () => {
    const { line, tones } = rig();
    line.setMessageWaiting(true, { new: 2, old: 8 });
    line.offHook();
    expect(tones).toEqual(['stutter']);
    line.onHook();
    line.setMessageWaiting(false, { new: 0, old: 10 });
    line.offHook();
    expect(tones.at(-1)).toBe('dial');
    expect(line.voiceMessages).toEqual({ new: 0, old: 10 });
  });

  describe('hotline and warm line', () => {
    const door = 'sip:door@192.0.2.8';

    it('a hotline calls its URI as the handset is lifted, with no dial tone', () => {
      const { line, log, tones } = rig(undefined, {}, true, true, { hotline: { uri: door, delayMs: 0 } });
      line.offHook();
      expect(line.state).toBe('calling');
      expect(log).toEqual([`started ${door}`, `call ${door}`]);
      expect(tones).not.toContain('dial');
    });

    it('a hotline call that fails is tried again by a hook flash', () => {
      const { line, log } = rig(undefined, {}, true, false, { hotline: { uri: door, delayMs: 0 } });
      line.offHook();
      line.callFailed('busy');
      expect(line.state).toBe('busy');
      line.flash();
      expect(line.state).toBe('calling');
      expect(log).toEqual([`call ${door}`, `call ${door}`]);
    });

    it('a warm line gives dial tone and calls its URI when no digit comes within the delay (fake clock)', () => {
      const { line, log, tones, clock } = rig(undefined, {}, true, false, { hotline: { uri: door, delayMs: 4000 } });
      line.offHook();
      expect(line.state).toBe('dialtone');
      expect(tones).toEqual(['dial']);
      clock.advance(3999);
      expect(log).toEqual([]);
      clock.advance(1);
      expect(line.state).toBe('calling');
      expect(log).toEqual([`call ${door}`]);
      expect(tones).toEqual(['dial', null]);
    });

    it('a digit within the warm-line delay dials as usual, and the hotline is not called later', () => {
      const { line, log, clock } = rig('[2-9]xx', {}, true, false, { hotline: { uri: door, delayMs: 4000 } });
      line.offHook();
      clock.advance(2000);
      for (const d of '200') line.digit(d);
      expect(log).toEqual(['call 200']);
      clock.advance(60_000);
      expect(log).toEqual(['call 200']);
    });
  });

  describe('consultation and transfer by hook flash', () => {
    /** A line in an answered incoming call from A, then a flash and 200 dialled: the consultation call is placed. */
    function consulting() {
      const r = rig('[2-9]xx', {}, true, true);
      r.line.incomingCall({ remote: 'sip:a@x', number: '100' });
      r.line.offHook();
      r.log.length = 0;
      r.line.flash();
      return r;
    }

    it('a flash in a lone call holds it and gives dial tone; the number dialled is the consultation call', () => {
      const { line, log, tones } = consulting();
      expect(line.state).toBe('dialtone');
      expect(tones.at(-1)).toBe('dial');
      expect(line.other).toMatchObject({ kind: 'held', transfer: true, call: { remote: 'sip:a@x' } });
      for (const d of '200') line.digit(d);
      expect(line.state).toBe('calling');
      expect(log).toEqual(['consult', 'started 200', 'call 200']);
    });

    it('hanging up while the consultation call rings transfers the held call; accepted, both end as transferred', () => {
      const { line, log } = consulting();
      for (const d of '200') line.digit(d);
      line.callRinging();
      log.length = 0;
      line.onHook();
      expect(line.state).toBe('idle');
      expect(line.other).toBeNull();
      expect(log).toEqual(['transfer']);
      expect(line.transferDone('accepted')).toBe(false);
      expect(log).toEqual(['transfer', 'ended 200 transferred', 'ended sip:a@x transferred']);
    });

    it('a refused transfer rings the phone for the held call (the agent keeps it), and picking up takes it back', () => {
      const { line, log } = consulting();
      for (const d of '200') line.digit(d);
      line.callAnswered('PCMU');
      line.onHook();
      log.length = 0;
      expect(line.transferDone('refused')).toBe(true);
      expect(line.state).toBe('ringing');
      expect(log).toEqual(['ended 200 normal', 'ring -']);
      line.offHook();
      expect(line.state).toBe('connected');
      expect(log.at(-1)).toBe('answer');
      expect(line.call?.remote).toBe('sip:a@x');
    });

    it('a flash before the consultation call is answered drops it and returns to the held call', () => {
      const { line, log } = consulting();
      for (const d of '200') line.digit(d);
      line.callRinging();
      log.length = 0;
      line.flash();
      expect(line.state).toBe('connected');
      expect(line.call?.remote).toBe('sip:a@x');
      expect(line.other).toBeNull();
      expect(log).toEqual(['ended 200 cancelled', 'end-consultation']);
    });

    /** The consultation call to 200 answered, then a flash: the three-way conference. */
    function inConference() {
      const r = consulting();
      for (const d of '200') r.line.digit(d);
      r.line.callAnswered('PCMU');
      r.line.flash();
      return r;
    }

    it('a flash once the consultation call is answered makes a three-way conference', () => {
      const { line, log } = inConference();
      expect(line.state).toBe('connected');
      expect(line.call?.remote).toBe('200');
      expect(line.other).toMatchObject({ kind: 'conference', call: { remote: 'sip:a@x' } });
      expect(log.at(-1)).toBe('conference');
    });

    it('a flash in the conference hangs up the party added last; the first call goes on', () => {
      const { line, log } = inConference();
      log.length = 0;
      line.flash();
      expect(line.state).toBe('connected');
      expect(line.call?.remote).toBe('sip:a@x');
      expect(line.other).toBeNull();
      expect(log).toEqual(['ended 200 normal', 'end-conference']);
    });

    it('a party that hangs up leaves the phone talking to the other, whichever of the two it was', () => {
      const added = inConference();
      added.line.remoteHangUp();
      expect(added.line.state).toBe('connected');
      expect(added.line.call?.remote).toBe('sip:a@x');
      expect(added.line.other).toBeNull();
      const first = inConference();
      first.line.otherCallEnded();
      expect(first.line.state).toBe('connected');
      expect(first.line.call?.remote).toBe('200');
      expect(first.line.other).toBeNull();
      expect(first.log.at(-1)).toBe('ended sip:a@x remote-hangup');
    });

    it('hanging up in the conference hands the two parties to each other (the transfer)', () => {
      const { line, log } = inConference();
      log.length = 0;
      line.onHook();
      expect(line.state).toBe('idle');
      expect(log).toEqual(['transfer']);
    });

    it('hanging up at the consultation dial tone does not transfer: the phone rings for the held call', () => {
      const { line, log } = consulting();
      log.length = 0;
      line.onHook();
      expect(line.state).toBe('ringing');
      expect(log).toEqual(['ring -']);
    });

    it('with transfer = false a flash in a lone call does nothing', () => {
      const { line, log } = rig(undefined, {}, true, false, { transfer: false });
      line.incomingCall({ remote: 'sip:a@x' });
      line.offHook();
      log.length = 0;
      line.flash();
      expect(line.state).toBe('connected');
      expect(log).toEqual([]);
    });
  });

  describe('call waiting and hook flash', () => {
    /** A line in an answered incoming call from A. */
    function inCall(callWaiting = true) {
      const r = rig(undefined, {}, callWaiting, true);
      r.line.incomingCall({ remote: 'sip:a@x', number: '100' });
      r.line.offHook();
      r.log.length = 0;
      return r;
    }

    it('a second call waits with the beep over the call; flash answers it and holds the first, flash again swaps back', () => {
      const { line, log } = inCall();
      expect(line.callWaiting({ remote: 'sip:b@x', number: '200' })).toBe(true);
      expect(line.state).toBe('connected');
      expect(line.other).toMatchObject({ kind: 'waiting', call: { remote: 'sip:b@x', answeredAt: null } });
      expect(log).toEqual(['started sip:b@x', 'cw-beep on']);
      line.flash();
      expect(log.slice(2)).toEqual(['cw-beep off', 'swap', 'answered sip:b@x']);
      expect(line.call?.remote).toBe('sip:b@x');
      expect(line.other).toMatchObject({ kind: 'held', call: { remote: 'sip:a@x' } });
      line.flash();
      expect(log.slice(5)).toEqual(['swap']);
      expect(line.call?.remote).toBe('sip:a@x');
      expect(line.other).toMatchObject({ kind: 'held', call: { remote: 'sip:b@x' } });
      expect(line.state).toBe('connected');
    });

    it('a third call, or any second call with call_waiting off, is refused (the agent answers 486)', () => {
      const off = inCall(false);
      expect(off.line.callWaiting({ remote: 'sip:b@x' })).toBe(false);
      expect(off.line.other).toBeNull();
      const { line } = inCall();
      expect(line.callWaiting({ remote: 'sip:b@x' })).toBe(true);
      expect(line.callWaiting({ remote: 'sip:c@x' })).toBe(false);
      expect(line.other?.call.remote).toBe('sip:b@x');
    });

    it('the waiting caller gives up: the beep stops and the call is logged unanswered', () => {
      const { line, log } = inCall();
      line.callWaiting({ remote: 'sip:b@x' });
      line.otherCallEnded();
      expect(line.other).toBeNull();
      expect(log.slice(2)).toEqual(['cw-beep off', 'ended sip:b@x no-answer']);
      line.flash(); // nothing to swap to now
      expect(log).not.toContain('swap');
    });

    it('hanging up with a call waiting ends the first and rings the phone for the second, with its caller ID', () => {
      const { line, log } = inCall();
      line.callWaiting({ remote: 'sip:b@x', number: '200' });
      line.onHook();
      expect(log.slice(2)).toEqual(['hangup on-hook', 'ended sip:a@x normal', 'cw-beep off', 'ring 200']);
      expect(line.state).toBe('ringing');
      expect(line.other).toBeNull();
      line.offHook();
      expect(log.slice(6)).toEqual(['stop-ring', 'answer', 'answered sip:b@x']);
      expect(line.state).toBe('connected');
      expect(line.call?.remote).toBe('sip:b@x');
    });

    it('hanging up with a call on hold rings the phone for it; picking up takes it back (no second answered event)', () => {
      const { line, log } = inCall();
      line.callWaiting({ remote: 'sip:b@x' });
      line.flash(); // B answered, A held
      log.length = 0;
      line.onHook();
      expect(log).toEqual(['hangup on-hook', 'ended sip:b@x normal', 'ring -']);
      line.offHook();
      expect(log.slice(3)).toEqual(['stop-ring', 'answer']);
      expect(line.call?.remote).toBe('sip:a@x');
      // The far end of the held call hangs up while it rings: the ringing stops, logged as a remote hang-up.
      const r = inCall();
      r.line.callWaiting({ remote: 'sip:b@x' });
      r.line.flash();
      r.line.onHook();
      r.log.length = 0;
      r.line.incomingCallEnded();
      expect(r.log).toEqual(['stop-ring', 'ended sip:a@x remote-hangup']);
      expect(r.line.state).toBe('idle');
    });

    it('the far end of the call in the earpiece hangs up: flash takes the held call from the disconnect tone', () => {
      const { line, log, tones } = inCall();
      line.callWaiting({ remote: 'sip:b@x' });
      line.flash();
      line.remoteHangUp(); // B hangs up
      expect(line.state).toBe('disconnected');
      expect(line.other).toMatchObject({ kind: 'held', call: { remote: 'sip:a@x' } });
      line.flash();
      expect(line.state).toBe('connected');
      expect(line.call?.remote).toBe('sip:a@x');
      expect(line.other).toBeNull();
      expect(tones.at(-1)).toBeNull();
      expect(log.filter((l) => l === 'swap')).toHaveLength(2);
    });
  });
});
