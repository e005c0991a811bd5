/**
 * The line protocol between the agent and a microcontroller driving SLICs (docs/serial-protocol.md): ASCII lines
 * `BODY*CS\n`, CS the two-hex-digit XOR of BODY's bytes (as in NMEA), fields separated by single spaces. Parsing
 * is total: any byte sequence gives a message or a typed reason it was skipped, never an exception.
 */
export const PROTOCOL_VERSION = 1;
export const MAX_LINE_BYTES = 96;

export type ControllerMessage =
  | { kind: 'version'; protocol: number; firmware: string; lines: number }
  | { kind: 'hook'; line: number; offHook: boolean; mcuMs: number }
  | { kind: 'pong'; seq: number; mcuMs: number }
  | { kind: 'error'; code: string; text: string };

export type HostCommand =
  | { kind: 'hello'; protocol: number }
  | { kind: 'ring'; line: number; on: boolean; hz: number }
  | { kind: 'polarity'; line: number; reversed: boolean }
  | { kind: 'open-loop'; line: number; ms: number }
  | { kind: 'ping'; seq: number };

export type FrameSkipReason = 'too-long' | 'no-checksum' | 'bad-checksum' | 'unknown-message' | 'bad-field';

export function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

export function encodeCommand(c: HostCommand): string {
  let body: string;
  switch (c.kind) {
    case 'hello':
      body = `HELLO ${c.protocol}`;
      break;
    case 'ring':
      body = c.on ? `RING ${c.line} 1 ${c.hz}` : `RING ${c.line} 0`;
      break;
    case 'polarity':
      body = `POL ${c.line} ${c.reversed ? 1 : 0}`;
      break;
    case 'open-loop':
      body = `OPEN ${c.line} ${c.ms}`;
      break;
    case 'ping':
      body = `PING ${c.seq}`;
      break;
  }
  return `${body}*${checksum(body)}\n`;
}

const UINT = /^(0|[1-9][0-9]{0,9})$/;
function uint(s: string | undefined, max: number): number | undefined {
  if (s === undefined || !UINT.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

/** Parses one line (without its newline; a trailing CR is tolerated). */
export function parseControllerLine(raw: string): ControllerMessage | FrameSkipReason {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.length > MAX_LINE_BYTES) return 'too-long';
  const star = text.lastIndexOf('*');
  if (star < 0 || star !== text.length - 3) return 'no-checksum';
  const body = text.slice(0, star);
  if (text.slice(star + 1).toUpperCase() !== checksum(body)) return 'bad-checksum';
  const f = body.split(' ');
  switch (f[0]) {
    case 'VER': {
      const protocol = uint(f[1], 255);
      const lines = uint(f[3], 64);
      if (protocol === undefined || lines === undefined || !f[2] || f.length !== 4 || !/^[\x21-\x7e]{1,32}$/.test(f[2])) return 'bad-field';
      return { kind: 'version', protocol, firmware: f[2], lines };
    }
    case 'HOOK': {
      const line = uint(f[1], 63);
      const state = f[2];
      const mcuMs = uint(f[3], 0xffffffff);
      if (line === undefined || (state !== '0' && state !== '1') || mcuMs === undefined || f.length !== 4) return 'bad-field';
      return { kind: 'hook', line, offHook: state === '1', mcuMs };
    }
    case 'PONG': {
      const seq = uint(f[1], 0xffffffff);
      const mcuMs = uint(f[2], 0xffffffff);
      if (seq === undefined || mcuMs === undefined || f.length !== 3) return 'bad-field';
      return { kind: 'pong', seq, mcuMs };
    }
    case 'ERR': {
      if (!f[1] || !/^[A-Z_]{1,16}$/.test(f[1])) return 'bad-field';
      return { kind: 'error', code: f[1], text: f.slice(2).join(' ').replace(/[^\x20-\x7e]/g, '?') };
    }
    default:
      return 'unknown-message';
  }
}

/**
 * Splits a byte stream into lines. Bytes past MAX_LINE_BYTES without a newline are dropped up to the next newline
 * (and reported once), so garbage on the wire costs at most one line.
 */
export class LineSplitter {
  private buf = '';
  private overflowing = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    // latin1 keeps one char per byte, so length checks count bytes and non-ASCII garbage can't throw.
    const s = chunk.toString('latin1');
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) !== 10) continue;
      const piece = this.buf + s.slice(start, i);
      this.buf = '';
      start = i + 1;
      if (this.overflowing) {
        this.overflowing = false;
        continue;
      }
      if (piece.length > 0) this.onLine(piece);
    }
    if (this.overflowing) return;
    this.buf += s.slice(start);
    if (this.buf.length > MAX_LINE_BYTES + 1) {
      this.buf = '';
      this.overflowing = true;
      this.onOverflow();
    }
  }

  reset(): void {
    this.buf = '';
    this.overflowing = false;
  }
}

/**
 * Maps the controller's 32-bit millisecond counter onto the host clock. The offset is the smallest (host - mcu)
 * seen since the link came up: transport delay only ever adds, so the minimum is the best estimate. The counter's
 * wrap (every 49.7 days) is unwrapped against the last value seen.
 */
export class McuClockMapper {
  private offset = Infinity;
  private last = -1;
  private wraps = 0;

  reset(): void {
    this.offset = Infinity;
    this.last = -1;
    this.wraps = 0;
  }

  /** Feeds a controller timestamp received at host time `hostMs`; returns it on the host timeline. */
  map(mcuMs: number, hostMs: number): number {
    if (this.last >= 0 && mcuMs < this.last && this.last - mcuMs > 0x80000000) this.wraps++;
    this.last = mcuMs;
    const ext = mcuMs + this.wraps * 0x100000000;
    const off = hostMs - ext;
    if (off < this.offset) this.offset = off;
    return Math.min(hostMs, ext + this.offset);
  }
}
