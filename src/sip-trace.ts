/**
 * The SIP trace: every SIP message sent or received, kept in a ring for GET /api/sip-trace and optionally
 * appended to [log] sip_trace as the messages themselves, each after a header line
 * `--- 2026-11-24T14:03:01.123Z out udp 127.0.0.1:5060 ---`. Messages are latin1 strings (one char per byte, as
 * src/sip/message.ts holds them); the file receives the original bytes.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { redactSipAuth, type Logger } from './log.js';

export interface SipTraceEntry {
  direction: 'in' | 'out';
  /** The other end, "host:port". */
  peer: string;
  /** "udp", "tcp", "tls". */
  transport: string;
  /** When it was sent or received: Date or ms since the epoch. */
  time: Date | number;
  /** The whole message as a latin1 string. */
  text: string;
}

export interface SipTraceSink {
  record(entry: SipTraceEntry): void;
}

export interface SipTraceOptions {
  /** How many messages the ring keeps. */
  keep: number;
  /** Append to this file when set. */
  file?: string;
  /** Show digest responses as they are (default false: redacted). */
  traceAuth?: boolean;
  /** Where a failing trace file is reported, once. */
  log?: Logger;
}

interface Held {
  header: string;
  text: string;
}

export function traceHeader(e: SipTraceEntry): string {
  const iso = new Date(typeof e.time === 'number' ? e.time : e.time.getTime()).toISOString();
  return `--- ${iso} ${e.direction} ${e.transport.toLowerCase()} ${e.peer} ---`;
}

export class SipTrace implements SipTraceSink {
  private readonly ring: (Held | undefined)[];
  private next = 0;
  private count = 0;
  private readonly traceAuth: boolean;
  private readonly log: Logger | undefined;
  private file: WriteStream | undefined;

  constructor(opts: SipTraceOptions) {
    if (!Number.isInteger(opts.keep) || opts.keep < 1) throw new RangeError(`SipTrace keep must be >= 1, got ${opts.keep}`);
    this.ring = new Array<Held | undefined>(opts.keep);
    this.traceAuth = opts.traceAuth ?? false;
    this.log = opts.log;
    if (opts.file !== undefined) {
      const path = opts.file;
      this.file = createWriteStream(path, { flags: 'a' });
      // A full disk or a removed directory must not take the agent down: the trace is a diagnostic.
      this.file.on('error', (err) => {
        this.log?.error({ err, file: path }, 'SIP trace file failed; trace continues in memory only');
        this.file = undefined;
      });
    }
  }

  record(entry: SipTraceEntry): void {
    const text = this.traceAuth ? entry.text : redactSipAuth(entry.text);
    const held: Held = { header: traceHeader(entry), text };
    this.ring[this.next] = held;
    this.next = (this.next + 1) % this.ring.length;
    if (this.count < this.ring.length) this.count++;
    if (this.file) this.file.write(Buffer.from(block(held), 'latin1'));
  }

  /** The last `limit` messages, oldest first, decoded for people to read (UTF-8 display names shown as such). */
  render(limit?: number): string {
    const n = Math.min(this.count, limit === undefined ? this.count : Math.max(0, Math.floor(limit)));
    let out = '';
    for (let i = n; i > 0; i--) {
      const held = this.ring[(this.next - i + this.ring.length) % this.ring.length];
      if (held) out += block(held);
    }
    return Buffer.from(out, 'latin1').toString('utf8');
  }

  get size(): number {
    return this.count;
  }

  /** Flushes and closes the trace file. */
  close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (!f) return Promise.resolve();
    return new Promise((resolve) => f.end(() => resolve()));
  }
}

function block(h: Held): string {
  // Messages end in CRLF CRLF (or a body); a blank line between messages keeps the file readable either way.
  const body = h.text.endsWith('\n') ? h.text : `${h.text}\r\n`;
  return `${h.header}\n${body}\n`;
}
