import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { DigitMap } from '../../src/phone/digit-map.js';
import { LineController, type LineSeams, type LineTone } from '../../src/phone/line-controller.js';

function rig(map = '(*xx|[2-9]xx|xx.T)', speedDial: Record<string, string> = {}) {
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
});
