import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SipFramingError, SipStreamFramer } from '../../src/sip/stream-framer.js';
import { parseMessage } from '../../src/sip/parser.js';

const msg = (body: string, cl: string | null = String(body.length)) =>
  'MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@example.com>;tag=1\r\n' +
  'To: <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 MESSAGE\r\n' + (cl === null ? '' : `l: ${cl}\r\n`) + '\r\n' + body;

const feed = (f: SipStreamFramer, data: string, cuts: number[]) => {
  const out: string[] = [];
  let last = 0;
  for (const c of [...cuts.filter((x) => x > 0 && x < data.length).sort((a, b) => a - b), data.length]) {
    for (const m of f.push(Buffer.from(data.slice(last, c), 'latin1'))) out.push(m.toString('latin1'));
    last = c;
  }
  return out;
};

describe('SipStreamFramer', () => {
  it('cuts back-to-back messages and skips keep-alive CRLFs', () => {
    const a = msg('hello');
    const b = msg('\r\n\r\nbinary\x00\xff');
    const f = new SipStreamFramer();
    expect(feed(f, '\r\n\r\n' + a + '\r\n' + b + a, [])).toEqual([a, b, a]);
    expect(f.keepAliveLines).toBe(3);
    expect(parseMessage(b).body).toBe('\r\n\r\nbinary\x00\xff');
  });

  it('gives the same messages however the stream is cut', () => {
    const stream = msg('one') + '\r\n\r\n' + msg('') + msg('x'.repeat(300));
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 20 }), (cuts) => {
        expect(feed(new SipStreamFramer(), stream, cuts)).toEqual([msg('one'), msg(''), msg('x'.repeat(300))]);
      }),
      { numRuns: 300 },
    );
  });

  it('waits for a body still in flight', () => {
    const f = new SipStreamFramer();
    const m = msg('0123456789');
    expect(f.push(Buffer.from(m.slice(0, -3), 'latin1'))).toEqual([]);
    expect(f.state).toBe('awaiting-body');
    expect(f.push(Buffer.from(m.slice(-3), 'latin1')).map(String)).toEqual([m]);
    expect(f.state).toBe('awaiting-headers');
  });

  it.each([
    [msg('abc', null), 'no Content-Length on a stream'],
    [msg('abc', '-3'), 'bad Content-Length'],
    [msg('abc', '3').replace('\r\n\r\n', '\r\nContent-Length: 4\r\n\r\n'), 'conflicting Content-Length'],
    [msg('abc', '99999999'), 'message too large'],
  ])('fails for good on a header block it cannot frame (%#)', (data, fault) => {
    const f = new SipStreamFramer();
    expect(() => f.push(Buffer.from(data, 'latin1'))).toThrow(fault);
    expect(f.state).toBe('failed');
    expect(() => f.push(Buffer.from(msg('ok'), 'latin1'))).toThrow(SipFramingError);
  });

  it('fails when headers never end within the size limit', () => {
    const f = new SipStreamFramer({ maxMessageBytes: 1000 });
    expect(() => {
      for (let i = 0; i < 100; i++) f.push(Buffer.from('X-Filler: ' + 'y'.repeat(50) + '\r\n'));
    }).toThrow('header block too large');
  });

  it('random bytes either frame or fail with SipFramingError', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const f = new SipStreamFramer({ maxMessageBytes: 4096 });
        try {
          for (const c of chunks) f.push(Buffer.from(c));
        } catch (e) {
          expect(e).toBeInstanceOf(SipFramingError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('SipStreamFramer fed a byte at a time', () => {
  it('frames the same messages from one-byte chunks', () => {
    const stream = msg('first body') + '\r\n' + msg('') + msg('x'.repeat(2000));
    const f = new SipStreamFramer();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i++) for (const m of f.push(Buffer.from(stream.slice(i, i + 1), 'latin1'))) out.push(m.toString('latin1'));
    expect(out).toEqual([msg('first body'), msg(''), msg('x'.repeat(2000))]);
  });
});
