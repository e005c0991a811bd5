/**
 * Cuts SIP messages out of a byte stream (TCP/TLS) by Content-Length (RFC 3261 sec. 18.3), which is mandatory on
 * streams. CRLFs between messages are keep-alives (RFC 5626 sec. 3.5.1) and skipped.
 *
 * A header block that cannot be framed (no or bad Content-Length, or too large) leaves no way to find where the
 * next message starts, so the framer fails for good and the caller closes the connection.
 */
import { DEFAULT_MAX_MESSAGE_BYTES } from './parser.js';

export class SipFramingError extends Error {
  override readonly name = 'SipFramingError';
  constructor(readonly fault: string) {
    super(fault);
  }
}

export interface StreamFramerOptions {
  /** Largest message (headers + body) accepted; larger ones fail the stream. */
  maxMessageBytes?: number;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

export class SipStreamFramer {
  state: 'awaiting-headers' | 'awaiting-body' | 'failed' = 'awaiting-headers';
  /** Keep-alive CRLFs skipped so far (a "\r\n\r\n" ping counts 2); a UA answers pings with one CRLF. */
  keepAliveLines = 0;
  private readonly max: number;
  /** Unframed bytes: the caller's chunk itself, or a view into `store`. */
  private pending: Buffer = EMPTY;
  /** Memory that grows by doubling, so a peer sending a byte at a time costs linear, not quadratic, copying. */
  private store: Buffer = EMPTY;
  /** Where the search for the empty line resumes, so each byte is scanned once. */
  private scanFrom = 0;
  /** Total length of the message being collected, in awaiting-body. */
  private frameLength = 0;
  private failure: SipFramingError | undefined;

  constructor(options: StreamFramerOptions = {}) {
    this.max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Feed received bytes; returns the messages completed by them (each exactly one message). */
  push(chunk: Buffer): Buffer[] {
    if (this.state === 'failed') throw this.failure!;
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      if (this.state === 'awaiting-headers') {
        if (!this.findHeaderEnd()) break;
      }
      if (this.pending.length < this.frameLength) break;
      out.push(this.pending.subarray(0, this.frameLength));
      this.pending = this.pending.subarray(this.frameLength);
      this.frameLength = 0;
      this.scanFrom = 0;
      this.state = 'awaiting-headers';
    }
    return out;
  }

  private append(chunk: Buffer): void {
    const p = this.pending;
    if (p.length === 0) {
      this.pending = chunk;
      return;
    }
    const offset = p.byteOffset - this.store.byteOffset;
    const inStore = p.buffer === this.store.buffer && offset >= 0 && offset + p.length <= this.store.length;
    if (inStore && offset + p.length + chunk.length <= this.store.length) {
      chunk.copy(this.store, offset + p.length);
      this.pending = this.store.subarray(offset, offset + p.length + chunk.length);
      return;
    }
    const needed = p.length + chunk.length;
    // Buffer.alloc is never pooled, so no other buffer shares this memory.
    const grown = Buffer.alloc(Math.max(needed * 2, 4096));
    p.copy(grown, 0);
    chunk.copy(grown, p.length);
    this.store = grown;
    this.pending = grown.subarray(0, needed);
  }

  private fail(fault: string): never {
    this.state = 'failed';
    this.failure = new SipFramingError(fault);
    this.pending = EMPTY;
    this.store = EMPTY;
    throw this.failure;
  }

  /** In awaiting-headers: skip keep-alives, find the empty line, read Content-Length; true when framed. */
  private findHeaderEnd(): boolean {
    const b = this.pending;
    let start = 0;
    while (start < b.length && (b[start] === CR || b[start] === LF)) {
      if (b[start] === LF) this.keepAliveLines++;
      start++;
    }
    if (start > 0) {
      this.pending = b.subarray(start);
      this.scanFrom = Math.max(0, this.scanFrom - start);
      return this.findHeaderEnd();
    }
    let i = this.scanFrom;
    let end = -1;
    for (;;) {
      const nl = b.indexOf(LF, i);
      if (nl < 0 || nl + 1 >= b.length) break;
      if (b[nl + 1] === LF) {
        end = nl + 2;
        break;
      }
      if (b[nl + 1] === CR) {
        if (nl + 2 >= b.length) break;
        if (b[nl + 2] === LF) {
          end = nl + 3;
          break;
        }
      }
      i = nl + 1;
    }
    if (end < 0) {
      if (b.length > this.max) this.fail('header block too large');
      this.scanFrom = Math.max(0, b.length - 2);
      return false;
    }
    const contentLength = this.readContentLength(b.toString('latin1', 0, end));
    this.frameLength = end + contentLength;
    if (this.frameLength > this.max) this.fail('message too large');
    this.state = 'awaiting-body';
    return true;
  }

  private readContentLength(head: string): number {
    let found = -1;
    let pos = head.indexOf('\n') + 1; // the start line carries no header
    let colon = -1; // next ':' at or after pos, searched once per colon so lines without one stay linear
    while (pos < head.length) {
      let nl = head.indexOf('\n', pos);
      if (nl < 0) nl = head.length;
      if (colon < pos) {
        colon = head.indexOf(':', pos);
        if (colon < 0) colon = head.length;
      }
      if (colon > pos && colon < nl) {
        const c0 = head.charCodeAt(pos);
        if (c0 !== 32 && c0 !== 9) {
          const name = head.slice(pos, colon).trim().toLowerCase();
          if (name === 'content-length' || name === 'l') {
            const value = head.slice(colon + 1, nl).trim();
            if (!/^[0-9]{1,10}$/.test(value)) this.fail('bad Content-Length');
            const n = Number(value);
            if (found >= 0 && n !== found) this.fail('conflicting Content-Length');
            found = n;
          }
        }
      }
      pos = nl + 1;
    }
    if (found < 0) this.fail('no Content-Length on a stream');
    return found;
  }
}
