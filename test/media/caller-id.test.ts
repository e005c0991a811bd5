// Caller ID: the message bytes checked field by field, and the modulated signal decoded by decoders nobody here
// wrote: minimodem (Bell 202, `--rx callerid`) and multimon-ng (V.23, CLIPFSK; DTMF caller ID).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import {
  callerIdDate,
  callerIdMessage,
  callerIdSignal,
  displayName,
  dtmfCallerIdDigits,
  etsiAlertSignal,
  MDMF_TYPE,
  SDMF_TYPE,
} from '../../src/media/caller-id.js';
import { FskBits, modulateFsk, V23 } from '../../src/media/fsk-modulator.js';
import { concat, run, sineAmplitude, tempDir, toBuffer, writeWav } from './tone-test-helpers.js';

const S16 = ['-e', 'signed', '-b', '16', '-c', '1'];
const WHEN = new Date(2026, 10, 24, 13, 5); // local time, as the display shows it
const SILENCE = new Int16Array(2000);

function minimodem(pcm: Int16Array): string {
  const f = join(tempDir(), 'cid.wav');
  writeWav(f, concat(SILENCE, pcm, SILENCE));
  const r = run('minimodem', ['--rx', '-q', '-f', f, 'callerid']);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

function multimon(pcm: Int16Array, demod: string): string {
  const up = join(tempDir(), 'up.raw');
  const r1 = run('sox', ['-t', 'raw', '-r', '8000', ...S16, '-', '-t', 'raw', '-r', '22050', ...S16, up], toBuffer(concat(SILENCE, pcm, SILENCE)));
  expect(r1.status, r1.stderr).toBe(0);
  const r2 = run('multimon-ng', ['-q', '-c', '-a', demod, '-t', 'raw', up]);
  expect(r2.status, r2.stderr).toBe(0);
  return r2.stdout;
}

function byteSum(m: Uint8Array): number {
  return m.reduce((a, b) => (a + b) & 0xff, 0);
}

describe('caller ID messages', () => {
  it('MDMF carries date, number and name as typed parameters and sums to zero with its checksum', () => {
    const m = callerIdMessage({ number: '5551234', name: 'Ada', date: WHEN }, 'mdmf');
    expect(m[0]).toBe(MDMF_TYPE);
    expect(m[1]).toBe(m.length - 3);
    const body = Buffer.from(m.subarray(2, m.length - 1));
    expect([...body.subarray(0, 10)]).toEqual([0x01, 8, ...Buffer.from('11241305')]);
    expect([...body.subarray(10, 19)]).toEqual([0x02, 7, ...Buffer.from('5551234')]);
    expect([...body.subarray(19)]).toEqual([0x07, 3, ...Buffer.from('Ada')]);
    expect(byteSum(m)).toBe(0);
  });

  it('MDMF gives the absence reasons P (private) and O (unavailable) for a missing number and name', () => {
    const p = Buffer.from(callerIdMessage({ reason: 'private', date: WHEN }, 'mdmf'));
    expect([...p.subarray(12, 18)]).toEqual([0x04, 1, 0x50, 0x08, 1, 0x50]);
    const o = Buffer.from(callerIdMessage({ date: WHEN }, 'mdmf'));
    expect([...o.subarray(12, 18)]).toEqual([0x04, 1, 0x4f, 0x08, 1, 0x4f]);
  });

  it('SDMF is date then number (no name), with the absence code in place of a missing number', () => {
    const m = callerIdMessage({ number: '+1 (555) 123-4567', name: 'ignored', date: WHEN }, 'sdmf');
    expect(m[0]).toBe(SDMF_TYPE);
    expect(Buffer.from(m.subarray(2, m.length - 1)).toString('latin1')).toBe('11241305+155512345');
    expect(byteSum(m)).toBe(0);
    const p = callerIdMessage({ reason: 'private', date: WHEN }, 'sdmf');
    expect(Buffer.from(p.subarray(2, p.length - 1)).toString('latin1')).toBe('11241305P');
  });

  it('hostile display names are cut to printable ASCII of at most 15 characters', () => {
    expect(displayName('Zoë\r\nINJECT\u0000 and a very long tail')).toBe('Zoe??INJECT? an');
    expect(displayName('\u4e2d\u6587')).toBe('??');
    const m = callerIdMessage({ number: '1'.repeat(300), name: 'x'.repeat(300), date: WHEN }, 'mdmf');
    expect(m.length).toBeLessThan(64);
    for (const b of m.subarray(2, m.length - 1)) expect(b).toBeLessThan(0x80);
  });

  it('the date is MMDDHHMM of the adapter local time', () => {
    expect(callerIdDate(new Date(2027, 0, 2, 3, 4))).toBe('01020304');
  });

  it('DTMF caller ID frames the number A...C and a withheld one B..C', () => {
    expect(dtmfCallerIdDigits({ number: '+46 8 123', date: WHEN })).toBe('A468123C');
    expect(dtmfCallerIdDigits({ reason: 'private', date: WHEN })).toBe('B10C');
    expect(dtmfCallerIdDigits({ date: WHEN })).toBe('B00C');
  });
});

describe('caller ID signals decoded by independent decoders', () => {
  it('minimodem decodes Bell 202 MDMF: time, number and name', () => {
    const out = minimodem(callerIdSignal({ number: '5551234', name: 'Ada Lovelace', date: WHEN, format: 'mdmf', modem: 'bell202' }));
    expect(out).toMatch(/Time:\s+11\/24 13:05/);
    expect(out).toMatch(/Phone:\s+5551234/);
    expect(out).toMatch(/Name:\s+Ada Lovelace/);
  });

  it('minimodem decodes Bell 202 SDMF: time and number', () => {
    const out = minimodem(callerIdSignal({ number: '2125550100', date: WHEN, format: 'sdmf', modem: 'bell202' }));
    expect(out).toMatch(/Time:\s+11\/24 13:05/);
    expect(out).toMatch(/Phone:\s+212-555-0100/); // minimodem formats 10-digit NANP numbers
  });

  it('minimodem shows a private caller (reason P) as blocked in Bell 202 MDMF', () => {
    const out = minimodem(callerIdSignal({ reason: 'private', date: WHEN, format: 'mdmf', modem: 'bell202' }));
    expect(out).toMatch(/Phone:\s+\[blocked\]/);
    expect(out).toMatch(/Name:\s+\[blocked\]/);
  });

  it('multimon-ng CLIPFSK decodes V.23 MDMF: date, number and name', () => {
    const out = multimon(callerIdSignal({ number: '0201234567', name: 'Jan Jansen', date: WHEN, format: 'mdmf', modem: 'v23' }), 'CLIPFSK');
    expect(out).toContain('DATE=11241305');
    expect(out).toContain('CID=0201234567');
    expect(out).toContain('CNT=Jan Jansen');
  });

  it('multimon-ng decodes DTMF caller ID as A<number>C', () => {
    const out = multimon(callerIdSignal({ number: '4681234', date: WHEN, format: 'mdmf', modem: 'dtmf' }), 'DTMF');
    expect([...out.matchAll(/^DTMF: (.)$/gm)].map((m) => m[1]).join('')).toBe('A4681234C');
  });

  it('multimon-ng drops a message whose checksum we corrupt (so its acceptance above really checks our checksum)', () => {
    const m = callerIdMessage({ number: '5551234', name: 'Ada', date: WHEN }, 'mdmf');
    const good = modulateFsk(new FskBits().alternating(300).mark(180).bytes(m).mark(10).toArray(), V23);
    expect(multimon(good, 'CLIPFSK')).toContain('CID=5551234');
    m[m.length - 1] ^= 0x01;
    const bad = modulateFsk(new FskBits().alternating(300).mark(180).bytes(m).mark(10).toArray(), V23);
    expect(multimon(bad, 'CLIPFSK')).not.toContain('CID=');
  });
});

describe('ETSI dual-tone alert', () => {
  it('is 100 ms of 2130 Hz and 2750 Hz at equal level and nothing else', () => {
    const a = etsiAlertSignal();
    expect(a.length).toBe(800);
    const lo = sineAmplitude(a, 2130);
    const hi = sineAmplitude(a, 2750);
    expect(lo).toBeGreaterThan(1000);
    expect(Math.abs(lo - hi) / lo).toBeLessThan(0.05);
    expect(sineAmplitude(a, 1700)).toBeLessThan(lo / 20);
  });
});
