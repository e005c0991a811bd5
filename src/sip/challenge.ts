/**
 * Parsing of WWW-Authenticate / Proxy-Authenticate values (RFC 7235 sec. 4.1, RFC 7616 sec. 3.3, RFC 3261
 * sec. 20.27/20.44). One header line may hold several challenges ("Digest ..., Digest ..."), and a response may
 * carry several lines; both are flattened into one list. Everything here is untrusted input: a malformed value
 * yields a typed error, never a throw of anything else.
 */
import { isTokenChar } from './uri.js';

export class ChallengeParseError extends Error {
  override readonly name = 'ChallengeParseError';
  constructor(
    readonly fault: string,
    /** Offset in the header value where parsing stopped. */
    readonly offset: number,
  ) {
    super(`${fault} at ${offset}`);
  }
}

/** A challenge of any scheme: scheme lower-cased, parameter names lower-cased, quoted values unescaped. */
export interface AuthChallenge {
  scheme: string;
  params: Map<string, string>;
  /** token68 form (e.g. "Negotiate abc=="), kept so unknown schemes parse without error. */
  token68?: string;
}

// token68 (RFC 7235 sec. 2.1): ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding
const TOKEN68_CHARS = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=') TOKEN68_CHARS[ch.charCodeAt(0)] = 1;

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

class Cursor {
  i = 0;
  constructor(readonly s: string) {}
  skipWs(): void {
    const s = this.s;
    let i = this.i;
    while (i < s.length && isWs(s.charCodeAt(i))) i++;
    this.i = i;
  }
  /** Skips whitespace and empty list elements (",  ,") which RFC 7230's #rule allows. */
  skipWsAndCommas(): void {
    const s = this.s;
    let i = this.i;
    while (i < s.length && (isWs(s.charCodeAt(i)) || s.charCodeAt(i) === 44)) i++;
    this.i = i;
  }
  eof(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  token(): string {
    const s = this.s;
    const start = this.i;
    let i = start;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    this.i = i;
    return s.slice(start, i);
  }
  token68End(): number {
    const s = this.s;
    let i = this.i;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 128 || TOKEN68_CHARS[c] === 0) break;
    }
    return i;
  }
  quoted(): string {
    // Caller has checked the opening quote. Without a backslash the value is a plain slice.
    this.i++;
    const s = this.s;
    for (let j = this.i; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 34) {
        const v = s.slice(this.i, j);
        this.i = j + 1;
        return v;
      }
      if (c === 92) break;
    }
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c === '\\') {
        if (this.i >= this.s.length) break;
        out += this.s[this.i++];
      } else out += c;
    }
    throw new ChallengeParseError('unterminated quoted-string', this.i);
  }
}

/** Parses one header value into its challenges. */
export function parseChallenges(value: string): AuthChallenge[] {
  const cur = new Cursor(value);
  const out: AuthChallenge[] = [];
  let current: AuthChallenge | undefined;
  for (;;) {
    cur.skipWsAndCommas();
    if (cur.eof()) break;
    const start = cur.i;
    const name = cur.token();
    if (!name) throw new ChallengeParseError('expected a token', cur.i);
    cur.skipWs();
    if (cur.peek() === '=' && current && !(current.token68 !== undefined)) {
      // auth-param: name = token / quoted-string
      cur.i++;
      cur.skipWs();
      let v: string;
      if (cur.peek() === '"') v = cur.quoted();
      else {
        v = cur.token();
        if (!v) throw new ChallengeParseError(`empty value for ${name}`, cur.i);
      }
      const key = name.toLowerCase();
      // A repeated parameter is a fault in a challenge we would answer; keep the first and ignore the rest.
      if (!current.params.has(key)) current.params.set(key, v);
      cur.skipWs();
      if (!cur.eof() && cur.peek() !== ',') throw new ChallengeParseError(`junk after ${name}`, cur.i);
      continue;
    }
    if (cur.peek() === '=' && !current) throw new ChallengeParseError('parameter before any scheme', start);
    // A new challenge: the scheme, optionally followed by token68 or by its first auth-param.
    current = { scheme: name.toLowerCase(), params: new Map() };
    out.push(current);
    cur.skipWs();
    if (cur.eof() || cur.peek() === ',') continue;
    // Look ahead: "name=" begins an auth-param, otherwise this is token68.
    const save = cur.i;
    const pname = cur.token();
    cur.skipWs();
    const isParam = pname.length > 0 && cur.peek() === '=' && cur.s[cur.i + 1] !== '=' && cur.i + 1 < cur.s.length;
    cur.i = save;
    if (isParam) continue;
    const t0 = cur.i;
    cur.i = cur.token68End();
    if (cur.i === t0) throw new ChallengeParseError('expected auth-param or token68', cur.i);
    current.token68 = value.slice(t0, cur.i);
    cur.skipWs();
    if (!cur.eof() && cur.peek() !== ',') throw new ChallengeParseError('junk after token68', cur.i);
  }
  return out;
}

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

// A Map, not an object: algorithm=constructor must not find Object.prototype's.
const ALGORITHMS: ReadonlyMap<string, DigestAlgorithm> = new Map([
  ['md5', 'MD5'],
  ['md5-sess', 'MD5-sess'],
  ['sha-256', 'SHA-256'],
  ['sha-256-sess', 'SHA-256-sess'],
  ['sha-512-256', 'SHA-512-256'],
  ['sha-512-256-sess', 'SHA-512-256-sess'],
]);

/** A Digest challenge we know how to answer. */
export interface DigestChallenge {
  /** 401 -> WWW-Authenticate, 407 -> Proxy-Authenticate; decides the header we answer with. */
  kind: 'www' | 'proxy';
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm: DigestAlgorithm;
  /** qop options offered, lower-cased; empty for an RFC 2069 style challenge. */
  qop: string[];
  stale: boolean;
  userhash: boolean;
}

/** Strength order: higher is preferred (RFC 7616 sec. 3.7: the client uses the first it supports of the strongest). */
export function algorithmStrength(a: DigestAlgorithm): number {
  if (a.startsWith('SHA-512-256')) return 3;
  if (a.startsWith('SHA-256')) return 2;
  return 1;
}

/** Turns a generic challenge into a Digest one, or undefined when it is another scheme or one we cannot answer. */
export function toDigestChallenge(c: AuthChallenge, kind: 'www' | 'proxy'): DigestChallenge | undefined {
  if (c.scheme !== 'digest') return undefined;
  const realm = c.params.get('realm');
  const nonce = c.params.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const alg = ALGORITHMS.get((c.params.get('algorithm') ?? 'MD5').toLowerCase());
  if (!alg) return undefined;
  const qopRaw = c.params.get('qop');
  const qop = qopRaw === undefined ? [] : qopRaw.split(',').map((q) => q.trim().toLowerCase()).filter(Boolean);
  // A qop list that offers nothing we do means we cannot answer this challenge correctly.
  if (qopRaw !== undefined && !qop.includes('auth') && !qop.includes('auth-int')) return undefined;
  const opaque = c.params.get('opaque');
  return {
    kind,
    realm,
    nonce,
    ...(opaque !== undefined ? { opaque } : {}),
    algorithm: alg,
    qop,
    stale: (c.params.get('stale') ?? '').toLowerCase() === 'true',
    userhash: (c.params.get('userhash') ?? '').toLowerCase() === 'true',
  };
}

/**
 * All answerable Digest challenges of a 401/407 header set, strongest first. Malformed header lines are skipped
 * (reported through `onFault`) so that one bad line does not hide a good challenge on another line.
 */
export function digestChallengesFrom(
  values: string[],
  kind: 'www' | 'proxy',
  onFault?: (err: ChallengeParseError) => void,
): DigestChallenge[] {
  const out: DigestChallenge[] = [];
  for (const v of values) {
    let parsed: AuthChallenge[];
    try {
      parsed = parseChallenges(v);
    } catch (err) {
      if (err instanceof ChallengeParseError) {
        onFault?.(err);
        continue;
      }
      throw err;
    }
    for (const c of parsed) {
      const d = toDigestChallenge(c, kind);
      if (d) out.push(d);
    }
  }
  // Stable sort keeps the server's order among equals (the server lists its preference first).
  return out.map((d, i) => ({ d, i })).sort((a, b) => algorithmStrength(b.d.algorithm) - algorithmStrength(a.d.algorithm) || a.i - b.i).map((x) => x.d);
}
