/**
 * HTTP Digest for SIP (RFC 7616, RFC 8760 algorithms, RFC 2617 / RFC 2069 compatibility, RFC 3261 sec. 22).
 *
 * `computeDigestResponse` is the pure calculation (tested against the RFC example vectors). `DigestAuthenticator`
 * is one account's client side: it picks the strongest challenge, counts nonce-count per nonce, draws cnonces from
 * the injected Random, and refuses to answer the same challenge twice so a wrong password cannot loop.
 */
import { createHash } from 'node:crypto';
import type { Random } from '../../hal/clock.js';
import type { SipResponse } from './message.js';
import { getHeaders } from './message.js';
import { type DigestAlgorithm, type DigestChallenge, ChallengeParseError, digestChallengesFrom } from './challenge.js';

export type { DigestAlgorithm, DigestChallenge } from './challenge.js';

const REDACTED = '<redacted>';

/** The secret half of an account. The password never leaves this object through JSON or util.inspect. */
export class SipCredentials {
  readonly #password: string;
  constructor(
    /** Authentication user (may differ from the AOR user, e.g. a provider's account number). */
    readonly username: string,
    password: string,
    /** Optional expected realm; a challenge from another realm is still answered unless `strictRealm`. */
    readonly realm?: string,
    readonly strictRealm = false,
  ) {
    this.#password = password;
  }
  /** Only the digest calculation reads this. */
  password(): string {
    return this.#password;
  }
  toJSON(): Record<string, unknown> {
    return { username: this.username, realm: this.realm, password: REDACTED };
  }
  toString(): string {
    return `SipCredentials(${this.username})`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SipCredentials { username: ${JSON.stringify(this.username)}, password: '${REDACTED}' }`;
  }
}

const HASHES: Record<DigestAlgorithm, string> = {
  'MD5': 'md5',
  'MD5-sess': 'md5',
  'SHA-256': 'sha256',
  'SHA-256-sess': 'sha256',
  'SHA-512-256': 'sha512-256',
  'SHA-512-256-sess': 'sha512-256',
};

/** Digest strings are binary (latin1) in the message model, but credentials typed by people are UTF-8 (RFC 7616 sec. 4). */
function h(alg: DigestAlgorithm, data: string): string {
  return createHash(HASHES[alg]).update(data, 'utf8').digest('hex');
}

export interface DigestInput {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  realm: string;
  nonce: string;
  method: string;
  /** digest-uri exactly as sent in the uri= parameter. */
  uri: string;
  /** 'auth' | 'auth-int' or undefined for RFC 2069 style (no qop). */
  qop?: 'auth' | 'auth-int';
  cnonce?: string;
  /** 8 hex digits, e.g. "00000001". */
  nc?: string;
  /** Entity body (binary string) for auth-int. */
  body?: string;
}

/** response= value per RFC 7616 sec. 3.4.1 (and RFC 2617 sec. 3.2.2.1 when qop is absent). */
export function computeDigestResponse(d: DigestInput): string {
  let ha1 = h(d.algorithm, `${d.username}:${d.realm}:${d.password}`);
  if (d.algorithm.endsWith('-sess')) ha1 = h(d.algorithm, `${ha1}:${d.nonce}:${d.cnonce ?? ''}`);
  let a2 = `${d.method}:${d.uri}`;
  if (d.qop === 'auth-int') a2 += ':' + createHash(HASHES[d.algorithm]).update(d.body ?? '', 'latin1').digest('hex');
  const ha2 = h(d.algorithm, a2);
  if (d.qop) return h(d.algorithm, `${ha1}:${d.nonce}:${d.nc ?? ''}:${d.cnonce ?? ''}:${d.qop}:${ha2}`);
  return h(d.algorithm, `${ha1}:${d.nonce}:${ha2}`);
}

/** quoted-string with the two characters that need escaping escaped (RFC 3261 sec. 25.1). */
function quote(s: string): string {
  if (s.indexOf('"') < 0 && s.indexOf('\\') < 0) return '"' + s + '"';
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** Two lower-case hex digits for each byte value. */
const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

export type AuthRefusal =
  /** No challenge in the response that we can answer (unknown scheme/algorithm, missing nonce). */
  | 'no-usable-challenge'
  /** The server rejected our credentials for the same nonce: the password (or user) is wrong. */
  | 'credentials-rejected'
  /** Challenge after challenge with fresh nonces: stop rather than loop. */
  | 'challenge-loop'
  /** The challenge names a realm other than the configured one while strictRealm is set. */
  | 'realm-mismatch';

export class DigestAuthError extends Error {
  override readonly name = 'DigestAuthError';
  constructor(readonly refusal: AuthRefusal, detail: string) {
    super(`${refusal}: ${detail}`);
  }
}

export interface AuthorizationHeader {
  name: 'Authorization' | 'Proxy-Authorization';
  value: string;
}

/** How many stale=true answers in a row we follow before calling it a loop. */
const MAX_STALE_IN_ROW = 3;

/**
 * One account's digest client. Call `onChallenge` with every 401/407, `onNonChallengeFinal` with every other final
 * response (that ends a challenge run), and `authorize` to put credentials on a new request pre-emptively with the
 * last nonce (so a refresh costs one round trip instead of two).
 */
export class DigestAuthenticator {
  private challenge: DigestChallenge | undefined;
  private readonly nonceCounts = new Map<string, number>();
  /** Nonce we last sent credentials for, in the current challenge run. */
  private answeredNonce: string | undefined;
  private freshInRow = 0;
  private staleInRow = 0;
  /** True between onChallenge and the authorize that answers it. */
  private challengePending = false;
  /** The last credentials were sent pre-emptively (a refresh reusing the nonce), not in answer to a challenge. */
  private lastPreemptive = false;

  constructor(
    private readonly credentials: SipCredentials,
    private readonly random: Random,
    private readonly log?: (msg: string) => void,
  ) {}

  /** The challenge currently in use, for status and tests. */
  get current(): DigestChallenge | undefined {
    return this.challenge;
  }

  /**
   * Decides how to answer a 401/407. `hadCredentials` says whether the request it answers carried our
   * Authorization: a challenge to an unauthenticated request is always answered.
   */
  onChallenge(res: SipResponse, hadCredentials: boolean): DigestChallenge {
    const kind = res.status === 407 ? 'proxy' : 'www';
    const values = getHeaders(res, kind === 'proxy' ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const onFault = (e: ChallengeParseError): void => this.log?.(`malformed challenge ignored: ${e.message}`);
    let candidates = digestChallengesFrom(values, kind, onFault);
    if (this.credentials.realm !== undefined) {
      const mine = candidates.filter((c) => c.realm === this.credentials.realm);
      if (mine.length > 0) candidates = mine;
      else if (this.credentials.strictRealm && candidates.length > 0)
        throw new DigestAuthError('realm-mismatch', `challenge realm ${JSON.stringify(candidates[0].realm)}`);
    }
    const chosen = candidates[0];
    if (!chosen) throw new DigestAuthError('no-usable-challenge', `${res.status} carried no Digest challenge we support`);
    // A 401 to pre-emptive credentials says only that the old nonce is no longer good, whatever stale says.
    if (hadCredentials && this.lastPreemptive) this.onNonChallengeFinal();
    else if (hadCredentials && this.answeredNonce !== undefined) {
      if (chosen.stale) {
        if (++this.staleInRow > MAX_STALE_IN_ROW) throw new DigestAuthError('challenge-loop', 'stale nonce again and again');
      } else if (chosen.nonce === this.answeredNonce) {
        throw new DigestAuthError('credentials-rejected', `${res.status} for the nonce we answered`);
      } else if (++this.freshInRow > 1) {
        // Registrars that forget to set stale=true get one more try with their fresh nonce, not more.
        throw new DigestAuthError('credentials-rejected', `${res.status} again after answering a fresh nonce`);
      }
    }
    this.challenge = chosen;
    this.challengePending = true;
    return chosen;
  }

  /** A final response other than 401/407 ends the run: the next challenge starts afresh. */
  onNonChallengeFinal(): void {
    this.answeredNonce = undefined;
    this.freshInRow = 0;
    this.staleInRow = 0;
  }

  /** Forgets the nonce (e.g. after a failure), so the next request goes out without credentials. */
  reset(): void {
    this.challenge = undefined;
    this.onNonChallengeFinal();
  }

  /** Credentials for a request, using the current challenge; undefined when we have not been challenged yet. */
  authorize(method: string, uri: string, body = ''): AuthorizationHeader | undefined {
    const c = this.challenge;
    if (!c) return undefined;
    const qop: 'auth' | 'auth-int' | undefined = c.qop.length === 0 ? undefined : c.qop.includes('auth') ? 'auth' : 'auth-int';
    const count = (this.nonceCounts.get(c.nonce) ?? 0) + 1;
    // Keep only the live nonce's counter; old nonces are never reused.
    this.nonceCounts.clear();
    this.nonceCounts.set(c.nonce, count);
    const nc = count.toString(16).padStart(8, '0');
    const cnonce = qop ? this.makeCnonce() : undefined;
    const username = c.userhash ? h(c.algorithm, `${this.credentials.username}:${c.realm}`) : this.credentials.username;
    const response = computeDigestResponse({
      algorithm: c.algorithm,
      username: this.credentials.username,
      password: this.credentials.password(),
      realm: c.realm,
      nonce: c.nonce,
      method,
      uri,
      ...(qop ? { qop, nc } : {}),
      ...(cnonce !== undefined ? { cnonce } : {}),
      body,
    });
    const parts = [
      `username=${quote(username)}`,
      `realm=${quote(c.realm)}`,
      `nonce=${quote(c.nonce)}`,
      `uri=${quote(uri)}`,
      `response=${quote(response)}`,
      `algorithm=${c.algorithm}`,
    ];
    if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(cnonce!)}`);
    if (c.userhash) parts.push('userhash=true');
    this.answeredNonce = c.nonce;
    this.lastPreemptive = !this.challengePending;
    this.challengePending = false;
    return { name: c.kind === 'proxy' ? 'Proxy-Authorization' : 'Authorization', value: 'Digest ' + parts.join(', ') };
  }

  /** 128 random bits as 32 hex digits (a byte table: Number.toString(16) of a double is slow). */
  private makeCnonce(): string {
    let s = '';
    for (let i = 0; i < 4; i++) {
      const n = Math.floor(this.random() * 0x100000000);
      s += HEX_BYTE[n >>> 24] + HEX_BYTE[(n >>> 16) & 0xff] + HEX_BYTE[(n >>> 8) & 0xff] + HEX_BYTE[n & 0xff];
    }
    return s;
  }
}
