import { describe, expect, it } from 'vitest';
import { inspect } from 'node:util';
import { seededRandom } from '../../hal/clock.js';
import { parseChallenges, digestChallengesFrom, ChallengeParseError } from '../../src/sip/challenge.js';
import { computeDigestResponse, DigestAuthenticator, DigestAuthError, SipCredentials } from '../../src/sip/digest.js';
import type { SipResponse } from '../../src/sip/message.js';

// RFC 7616 sec. 3.9.1 example.
const rfc7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  method: 'GET',
  uri: '/dir/index.html',
  qop: 'auth' as const,
  nc: '00000001',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};

function challengeResponse(status: 401 | 407, ...values: string[]): SipResponse {
  const name = status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
  return {
    type: 'response',
    status,
    reason: 'Unauthorized',
    headers: values.map((value) => ({ name, value })),
    parsed: undefined as never,
    body: '',
  };
}

/** Parses an Authorization value back into a map, to check what we send. */
function authParams(value: string): Map<string, string> {
  const [c] = parseChallenges(value);
  return c.params;
}

describe('digest response (RFC vectors)', () => {
  it('RFC 7616 3.9.1 MD5', () => {
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'MD5' })).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });
  it('RFC 7616 3.9.1 SHA-256', () => {
    expect(computeDigestResponse({ ...rfc7616, algorithm: 'SHA-256' })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });
  it('RFC 2617 3.5 MD5 qop=auth', () => {
    expect(
      computeDigestResponse({
        algorithm: 'MD5',
        username: 'Mufasa',
        password: 'Circle Of Life',
        realm: 'testrealm@host.com',
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        method: 'GET',
        uri: '/dir/index.html',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });
  it('RFC 2069 style (no qop) is MD5(HA1:nonce:HA2)', () => {
    // RFC 2069 sec. 2.4 example (its printed value is known to be wrong; this is the recomputed one).
    const r = computeDigestResponse({
      algorithm: 'MD5', username: 'Mufasa', password: 'CircleOfLife', realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html',
    });
    expect(r).toBe('1949323746fe6a43ef61f9606e7febea');
  });
});

describe('challenge parsing', () => {
  it('parses the RFC 7616 3.9.1 double challenge, one header line, odd spacing', () => {
    const v =
      'Digest  realm="http-auth@example.org" ,qop="auth, auth-int",algorithm=SHA-256,\r\n nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",' +
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const cs = parseChallenges(v);
    expect(cs.map((c) => c.params.get('algorithm'))).toEqual(['SHA-256', 'MD5']);
    expect(cs[0].params.get('qop')).toBe('auth, auth-int');
  });
  it('unescapes quoted-pairs and keeps other schemes apart', () => {
    const cs = parseChallenges('Basic realm="a\\"b", Negotiate YWJj==, Digest realm="x\\\\y", nonce=abc');
    expect(cs.map((c) => c.scheme)).toEqual(['basic', 'negotiate', 'digest']);
    expect(cs[0].params.get('realm')).toBe('a"b');
    expect(cs[1].token68).toBe('YWJj==');
    expect(cs[2].params.get('realm')).toBe('x\\y');
    expect(cs[2].params.get('nonce')).toBe('abc');
  });
  it('refuses malformed values with a typed error', () => {
    expect(() => parseChallenges('Digest realm="open')).toThrow(ChallengeParseError);
    expect(() => parseChallenges('realm="x"')).toThrow(ChallengeParseError);
    expect(() => parseChallenges('Digest realm="x" junk')).toThrow(ChallengeParseError);
  });
  it('orders SHA-512-256 > SHA-256 > MD5 and drops unknown algorithms across header lines', () => {
    const cs = digestChallengesFrom(
      ['Digest realm="r", nonce="1"', 'Digest realm="r", nonce="2", algorithm=SHA-256', 'Digest realm="r", nonce="3", algorithm=SHA3', 'Digest realm="r", nonce="4", algorithm=SHA-512-256'],
      'www',
    );
    expect(cs.map((c) => c.nonce)).toEqual(['4', '2', '1']);
  });
  it('drops algorithms named like Object.prototype properties instead of crashing on them', () => {
    const cs = digestChallengesFrom(
      ['Digest realm="r", nonce="1", algorithm=constructor', 'Digest realm="r", nonce="2", algorithm=__proto__', 'Digest realm="r", nonce="3"'],
      'www',
    );
    expect(cs.map((c) => [c.nonce, c.algorithm])).toEqual([['3', 'MD5']]);
  });
  it('skips a malformed line but keeps a good one', () => {
    const faults: string[] = [];
    const cs = digestChallengesFrom(['Digest realm="oops', 'Digest realm="r", nonce="n"'], 'proxy', (e) => faults.push(e.fault));
    expect(cs).toHaveLength(1);
    expect(cs[0].kind).toBe('proxy');
    expect(faults).toEqual(['unterminated quoted-string']);
  });
});

describe('DigestAuthenticator', () => {
  const creds = () => new SipCredentials('auth-100', 'pa"ss');
  it('answers 401 with Authorization, qop=auth, nc per nonce and a fresh cnonce', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(1));
    a.onChallenge(challengeResponse(401, 'Digest realm="sip.example", nonce="n1", qop="auth", opaque="o"'), false);
    const h1 = a.authorize('REGISTER', 'sip:sip.example')!;
    const h2 = a.authorize('REGISTER', 'sip:sip.example')!;
    expect(h1.name).toBe('Authorization');
    const p1 = authParams(h1.value);
    const p2 = authParams(h2.value);
    expect(p1.get('username')).toBe('auth-100');
    expect(p1.get('nc')).toBe('00000001');
    expect(p2.get('nc')).toBe('00000002');
    expect(p1.get('cnonce')).not.toBe(p2.get('cnonce'));
    expect(p1.get('opaque')).toBe('o');
    expect(p1.get('algorithm')).toBe('MD5');
    expect(p1.get('response')).toBe(
      computeDigestResponse({ algorithm: 'MD5', username: 'auth-100', password: 'pa"ss', realm: 'sip.example', nonce: 'n1', method: 'REGISTER', uri: 'sip:sip.example', qop: 'auth', nc: '00000001', cnonce: p1.get('cnonce')! }),
    );
  });
  it('answers 407 with Proxy-Authorization and prefers SHA-256', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(2));
    a.onChallenge(challengeResponse(407, 'Digest realm="r", nonce="m", algorithm=MD5', 'Digest realm="r", nonce="s", algorithm=SHA-256'), false);
    const hdr = a.authorize('INVITE', 'sip:200@r')!;
    expect(hdr.name).toBe('Proxy-Authorization');
    expect(authParams(hdr.value).get('algorithm')).toBe('SHA-256');
    expect(authParams(hdr.value).get('nonce')).toBe('s');
    expect(authParams(hdr.value).has('qop')).toBe(false);
  });
  it('the same nonce twice without stale is a rejected password', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(3));
    const ch = challengeResponse(401, 'Digest realm="r", nonce="n", qop=auth');
    a.onChallenge(ch, false);
    a.authorize('REGISTER', 'sip:r');
    expect(() => a.onChallenge(ch, true)).toThrow(DigestAuthError);
    try {
      a.onChallenge(ch, true);
    } catch (e) {
      expect((e as DigestAuthError).refusal).toBe('credentials-rejected');
    }
  });
  it('stale=true is answered; a fresh nonce without stale is answered once, not twice', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(4));
    a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n1", qop=auth'), false);
    a.authorize('REGISTER', 'sip:r');
    a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n2", qop=auth, stale=true'), true);
    a.authorize('REGISTER', 'sip:r');
    a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n3", qop=auth'), true);
    a.authorize('REGISTER', 'sip:r');
    expect(() => a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n4", qop=auth'), true)).toThrow(/credentials-rejected/);
    // A success in between starts a new run.
    a.onNonChallengeFinal();
    a.authorize('REGISTER', 'sip:r');
    expect(a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n5", qop=auth'), true).nonce).toBe('n5');
  });
  it('a response without a usable challenge is refused, not thrown raw', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(5));
    expect(() => a.onChallenge(challengeResponse(401, 'Basic realm="x"'), false)).toThrow(/no-usable-challenge/);
  });
  it('userhash=true sends H(user:realm)', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(6));
    a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n", algorithm=SHA-256, userhash=true, qop=auth'), false);
    const p = authParams(a.authorize('REGISTER', 'sip:r')!.value);
    expect(p.get('username')).toMatch(/^[0-9a-f]{64}$/);
    expect(p.get('userhash')).toBe('true');
  });
  it('auth-int hashes the body', () => {
    const a = new DigestAuthenticator(creds(), seededRandom(7));
    a.onChallenge(challengeResponse(401, 'Digest realm="r", nonce="n", qop="auth-int"'), false);
    const p = authParams(a.authorize('MESSAGE', 'sip:r', 'hello')!.value);
    expect(p.get('qop')).toBe('auth-int');
    expect(p.get('response')).toBe(
      computeDigestResponse({ algorithm: 'MD5', username: 'auth-100', password: 'pa"ss', realm: 'r', nonce: 'n', method: 'MESSAGE', uri: 'sip:r', qop: 'auth-int', nc: '00000001', cnonce: p.get('cnonce')!, body: 'hello' }),
    );
  });
  it('credentials never print their password', () => {
    const c = new SipCredentials('u', 'hunter2');
    expect(JSON.stringify({ account: c })).not.toContain('hunter2');
    expect(inspect(c)).not.toContain('hunter2');
    expect(String(c)).not.toContain('hunter2');
    expect(JSON.stringify(c)).toContain('redacted');
  });
});
