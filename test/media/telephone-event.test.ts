import { describe, expect, it } from 'vitest';
import { dtmfDigit, dtmfEventCode, LOST_END_TIMEOUT_MS, TelephoneEventError, TelephoneEventReceiver, TelephoneEventSender, writeTelephoneEvent } from '../../src/media/telephone-event.js';

function runSender(digit: string, durationMs: number) {
  const s = new TelephoneEventSender();
  const out: { at: number; marker: boolean; end: boolean; duration: number; timestamp: number; event: number }[] = [];
  let now = 1000;
  s.begin(digit, durationMs, 0xfffffff0, now);
  out.push({ at: now, ...s.packet });
  while (s.state !== 'idle') {
    now += s.nextDelayMs(now);
    if (s.advance(now)) out.push({ at: now, ...s.packet });
  }
  return out;
}

describe('RFC 4733 sender', () => {
  it('digit 5 for 200 ms: marker on the first packet only, one timestamp, duration growing every 50 ms, three end packets 50 ms apart', () => {
    const p = runSender('5', 200);
    expect(p.map((x) => x.marker)).toEqual([true, false, false, false, false, false, false]);
    expect(new Set(p.map((x) => x.timestamp))).toEqual(new Set([0xfffffff0]));
    expect(p.every((x) => x.event === 5)).toBe(true);
    expect(p.map((x) => x.at - 1000)).toEqual([0, 50, 100, 150, 200, 250, 300]);
    expect(p.map((x) => x.duration)).toEqual([0, 400, 800, 1200, 1600, 1600, 1600]);
    expect(p.map((x) => x.end)).toEqual([false, false, false, false, true, true, true]);
  });

  it('a duration that is not a multiple of 50 ms ends exactly at it (70 ms: updates at 0, 50, end at 70, repeated at 120, 170)', () => {
    const p = runSender('#', 70);
    expect(p.map((x) => x.at - 1000)).toEqual([0, 50, 70, 120, 170]);
    expect(p[2].duration).toBe(560);
    expect(p[0].event).toBe(11);
  });

  it('maps digits to event codes both ways and refuses a non-digit with TelephoneEventError', () => {
    expect('0123456789*#ABCD'.split('').map(dtmfEventCode)).toEqual([...Array(16).keys()]);
    expect(dtmfEventCode('a')).toBe(12);
    expect(dtmfDigit(16)).toBeUndefined();
    expect(() => new TelephoneEventSender().begin('x', 100, 0, 0)).toThrow(TelephoneEventError);
  });
});

describe('RFC 4733 receiver', () => {
  function packet(event: number, end: boolean, duration: number): Uint8Array {
    const b = new Uint8Array(4);
    writeTelephoneEvent(b, 0, event, end, 10, duration);
    return b;
  }

  it('reports an event once despite updates and three end packets (de-duplicated by timestamp and event)', () => {
    const heard: string[] = [];
    const r = new TelephoneEventReceiver((d) => heard.push(d));
    const stream = [packet(1, false, 0), packet(1, false, 400), packet(1, false, 400), packet(1, true, 800), packet(1, true, 800), packet(1, true, 800)];
    stream.forEach((b, i) => r.receive(b, 0, 4, 5000, i * 20));
    expect(heard).toEqual(['1']);
    expect(r.state).toBe('ended');
  });

  it('the same digit pressed twice (a new timestamp) is two events; a stray end packet of the old one is not a third', () => {
    const heard: string[] = [];
    const r = new TelephoneEventReceiver((d) => heard.push(d));
    r.receive(packet(7, false, 0), 0, 4, 100, 0);
    r.receive(packet(7, true, 800), 0, 4, 100, 100);
    r.receive(packet(7, false, 0), 0, 4, 2000, 300);
    r.receive(packet(7, true, 800), 0, 4, 100, 310);
    expect(heard).toEqual(['7', '7']);
  });

  it('an event whose end packets are all lost ends after the lost-end timeout, and the first packet lost still reports it', () => {
    const heard: string[] = [];
    const r = new TelephoneEventReceiver((d) => heard.push(d));
    r.receive(packet(9, false, 400), 0, 4, 777, 0); // the marker packet was lost: an update starts the event
    r.poll(LOST_END_TIMEOUT_MS - 1);
    expect(r.state).toBe('in-event');
    r.poll(LOST_END_TIMEOUT_MS);
    expect(r.state).toBe('ended');
    expect(r.endsByTimeout).toBe(1);
    expect(heard).toEqual(['9']);
  });

  it('a truncated payload is dropped and counted', () => {
    const r = new TelephoneEventReceiver(() => {});
    r.receive(new Uint8Array(3), 0, 3, 1, 0);
    expect(r.dropped).toBe(1);
    expect(r.eventsReceived).toBe(0);
  });
});
