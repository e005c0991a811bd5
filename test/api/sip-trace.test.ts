import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { componentLogger, createLogger, redactSipAuth } from '../../src/log.js';
import { SipTrace, traceHeader, type SipTraceEntry } from '../../src/sip-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'ata-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REGISTER =
  'REGISTER sip:sip.example.org SIP/2.0\r\n' +
  'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport\r\n' +
  'From: "M\xc3\xbcller" <sip:100@sip.example.org>;tag=1\r\n' +
  'Authorization: Digest username="100", realm="x", nonce="abc", uri="sip:sip.example.org",\r\n' +
  ' response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c"\r\n' +
  'Proxy-Authorization: Digest username="100",response=feedbeef,nonce="n"\r\n' +
  'Content-Length: 0\r\n\r\n';

function entry(n: number, text = `OPTIONS sip:x SIP/2.0\r\nCSeq: ${n} OPTIONS\r\n\r\n`): SipTraceEntry {
  return { direction: n % 2 ? 'in' : 'out', peer: '127.0.0.1:5060', transport: 'udp', time: Date.UTC(2026, 10, 24, 14, 3, 1, n), text };
}

describe('SipTrace', () => {
  test('header line form', () => {
    expect(traceHeader({ ...entry(123), direction: 'out', transport: 'UDP' })).toBe('--- 2026-11-24T14:03:01.123Z out udp 127.0.0.1:5060 ---');
  });

  test('keeps the last N messages, oldest first, and honours a limit', () => {
    const t = new SipTrace({ keep: 3 });
    for (let i = 1; i <= 5; i++) t.record(entry(i));
    expect(t.size).toBe(3);
    const all = t.render();
    expect(all.match(/CSeq: \d/g)).toEqual(['CSeq: 3', 'CSeq: 4', 'CSeq: 5']);
    expect(t.render(1).match(/CSeq: \d/g)).toEqual(['CSeq: 5']);
    expect(t.render(0)).toBe('');
  });

  test('digest responses are redacted by default, shown with trace_auth', () => {
    const red = new SipTrace({ keep: 2 });
    red.record(entry(0, REGISTER));
    const text = red.render();
    expect(text).not.toContain('0123456789abcdef');
    expect(text).not.toContain('feedbeef');
    expect(text).toContain('response="<redacted>", qop=auth');
    expect(text).toContain('nonce="abc"');
    const open = new SipTrace({ keep: 2, traceAuth: true });
    open.record(entry(0, REGISTER));
    expect(open.render()).toContain('response="0123456789abcdef0123456789abcdef"');
  });

  test('render decodes latin1 bytes for people; the file keeps the original bytes', async () => {
    const file = join(dir, 'sip.log');
    const t = new SipTrace({ keep: 5, file });
    t.record(entry(1, REGISTER));
    t.record(entry(2));
    expect(t.render()).toContain('"Müller"');
    await t.close();
    const bytes = readFileSync(file);
    expect(bytes.includes(Buffer.from('"M\xc3\xbcller"', 'latin1'))).toBe(true);
    const lines = bytes.toString('latin1').split('\n');
    expect(lines[0]).toBe('--- 2026-11-24T14:03:01.001Z in udp 127.0.0.1:5060 ---');
    expect(lines[1]).toBe('REGISTER sip:sip.example.org SIP/2.0\r');
    expect(bytes.toString('latin1')).toContain('\n--- 2026-11-24T14:03:01.002Z out udp 127.0.0.1:5060 ---\nOPTIONS sip:x SIP/2.0');
  });

  test('appends to an existing trace file', async () => {
    const file = join(dir, 'append.log');
    for (let i = 0; i < 2; i++) {
      const t = new SipTrace({ keep: 1, file });
      t.record(entry(i));
      await t.close();
    }
    expect(readFileSync(file, 'latin1').match(/^--- /gm)).toHaveLength(2);
  });

  test('an unwritable trace file is logged once and the ring goes on', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, d) => (lines.push(c.toString()), d()) }) });
    const t = new SipTrace({ keep: 2, file: join(dir, 'no/such/dir/sip.log'), log });
    t.record(entry(1));
    // The open fails asynchronously in the fs thread pool: wait for that I/O, not for time.
    await vi.waitFor(() => expect(lines.filter((l) => l.includes('SIP trace file failed'))).toHaveLength(1));
    t.record(entry(2));
    expect(t.size).toBe(2);
    await t.close();
    expect(lines.filter((l) => l.includes('SIP trace file failed'))).toHaveLength(1);
  });

  test('keep must be a positive integer', () => {
    expect(() => new SipTrace({ keep: 0 })).toThrow(RangeError);
  });
});

describe('logging', () => {
  function capture(level: 'info' | 'debug' = 'info') {
    const lines: string[] = [];
    const destination = new Writable({ write: (c: Buffer, _e, d) => (lines.push(c.toString()), d()) });
    return { lines, log: createLogger({ level, destination }) };
  }

  test('one JSON line per event, level label and component from the child logger', () => {
    const { lines, log } = capture();
    componentLogger(log, 'sip').info({ peer: '1.2.3.4:5060' }, 'registered');
    componentLogger(log, 'media').debug('not shown at info');
    expect(lines).toHaveLength(1);
    const obj = JSON.parse(lines[0]);
    expect(obj).toMatchObject({ level: 'info', component: 'sip', peer: '1.2.3.4:5060', msg: 'registered' });
    expect(lines[0].trim().split('\n')).toHaveLength(1);
  });

  test('passwords and authorization values never reach a log line', () => {
    const { lines, log } = capture();
    log.info({ password: 'hunter2', account: { user: '100', password: 'hunter2' }, authorization: 'Digest response="x"' }, 'account');
    expect(lines.join('')).not.toContain('hunter2');
    expect(lines.join('')).not.toContain('response="x"');
    expect(JSON.parse(lines[0]).account.user).toBe('100');
  });

  test('redactSipAuth leaves messages without credentials unchanged', () => {
    const msg = 'SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\nX-Response: response=abc\r\n\r\n';
    expect(redactSipAuth(msg)).toBe(msg);
  });
});
