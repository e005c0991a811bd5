/**
 * Syntax of the config values that are small languages of their own: listen addresses, port ranges, digit maps
 * and tone descriptions. Each check returns an error message or the parsed value, never throws, so the schema can
 * report every bad value in one pass.
 */
import { DigitMapError, parseDigitMap } from '../phone/digit-map.js';

export interface ListenAddress {
  /** Host without brackets: "0.0.0.0", "::", "localhost". */
  host: string;
  port: number;
}

export interface PortRange {
  min: number;
  max: number;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// Loose on purpose: IPv6 text forms are many; the socket layer gives the final word at bind time.
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** "host:port" or "[v6]:port". Port 0 is allowed: the OS picks one, which tests rely on. */
export function parseListen(text: string): Checked<ListenAddress> {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return { ok: false, message: `expected "[v6-address]:port", got "${text}"` };
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    if (!IPV6.test(host) || !host.includes(':')) return { ok: false, message: `"${host}" is not an IPv6 address` };
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return { ok: false, message: `expected "host:port", got "${text}"` };
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return { ok: false, message: `IPv6 addresses need brackets: "[${host}]:${portText}"` };
    if (!IPV4.test(host) && !(HOSTNAME.test(host) && !/^[\d.]+$/.test(host))) {
      return { ok: false, message: `"${host}" is not an IPv4 address or host name` };
    }
  }
  const port = parsePort(portText);
  if (port === undefined) return { ok: false, message: `port "${portText}" is not a number in 0..65535` };
  return { ok: true, value: { host, port } };
}

/** "10000-10999": RTP takes even ports and RTCP the odd one above, so the range starts even. */
export function parsePortRange(text: string): Checked<PortRange> {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(text);
  if (!m) return { ok: false, message: `expected "first-last" such as "10000-10999", got "${text}"` };
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (min < 1024 || max > 65535) return { ok: false, message: `ports must lie in 1024..65535, got ${min}-${max}` };
  if (min >= max) return { ok: false, message: `first port ${min} must be below last port ${max}` };
  if (min % 2 !== 0) return { ok: false, message: `first port ${min} must be even (RTP even, RTCP odd)` };
  return { ok: true, value: { min, max } };
}

/**
 * Digit map: checked by the line controller's own parser, so the config accepts exactly what the line will run.
 */
export function checkDigitMap(text: string): string | undefined {
  try {
    parseDigitMap(text);
    return undefined;
  } catch (e) {
    if (e instanceof DigitMapError) return `${e.fault} at position ${e.position}`;
    throw e;
  }
}

/**
 * A tone in Asterisk indications.conf form: comma-separated parts "[!]f1[+f2|*f2][/ms]", frequency 0 = silence,
 * "!" = play once. Example: "480+620/500,0/500".
 */
export function checkToneSpec(text: string): string | undefined {
  if (text.trim() === '') return 'tone is empty';
  const parts = text.split(',');
  for (const raw of parts) {
    const part = raw.trim();
    const m = /^!?(\d{1,4})(?:([+*])(\d{1,4}))?(?:\/(\d{1,5}))?$/.exec(part);
    if (!m) return `"${part}" is not "freq[+freq][/ms]"`;
    for (const f of [m[1], m[3]]) {
      if (f !== undefined && Number(f) > 4000) return `frequency ${f} Hz is above 4000 Hz (8 kHz sampling)`;
    }
  }
  return undefined;
}

/** Edit distance, for "did you mean" on unknown keys. Inputs are short key names. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
