import { describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import type { SipResponse } from '../../src/sip/message.js';
import { SipCredentials, computeDigestResponse } from '../../src/sip/digest.js';
import { parseChallenges } from '../../src/sip/challenge.js';
import { Registration, type OutgoingRequest, type RequestSender, type ResponseHandlers, type RegistrationOptions } from '../../src/sip/registration.js';

/** A fake of our own RequestSender seam: records each REGISTER and lets the test answer it like a registrar. */
class ScriptedRegistrar implements RequestSender {
  sent: Array<{ req: OutgoingRequest; h: ResponseHandlers }> = [];
  send(req: OutgoingRequest, h: ResponseHandlers): void {
    this.sent.push({ req, h });
  }
  get last(): OutgoingRequest {
    return this.sent[this.sent.length - 1].req;
  }
  header(name: string, i = this.sent.length - 1): string | undefined {
    return this.sent[i].req.headers.find(([n]) => n === name)?.[1];
  }
  headers(name: string, i = this.sent.length - 1): string[] {
    return this.sent[i].req.headers.filter(([n]) => n === name).map(([, v]) => v);
  }
  answer(status: number, headers: Array<[string, string]> = [], reason = 'Reason'): void {
    const res: SipResponse = { type: 'response', status, reason, headers: headers.map(([name, value]) => ({ name, value })), parsed: undefined as never, body: '' };
    this.sent[this.sent.length - 1].h.onFinal(res);
  }
  fail(msg = 'ICMP port unreachable'): void {
    this.sent[this.sent.length - 1].h.onError(new Error(msg));
  }
  /** A 200 echoing our Contact with the given expires, as Kamailio does. */
  ok(expires: number): void {
    const c = this.header('Contact')!;
    this.answer(200, [['Contact', `${c};expires=${expires}`]], 'OK');
  }
  challenge(nonce: string, extra = ''): void {
    this.answer(401, [['WWW-Authenticate', `Digest realm="example.org", nonce="${nonce}", qop="auth"${extra}`]], 'Unauthorized');
  }
}

function setup(over: Partial<RegistrationOptions> = {}, password = 'secret') {
  const clock = new FakeClock();
  const registrar = new ScriptedRegistrar();
  let addr = { host: '192.0.2.10', port: 5060 };
  const reg = new Registration({
    account: { user: '100', domain: 'example.org', credentials: new SipCredentials('auth100', password) },
    sender: registrar,
    clock,
    random: seededRandom(42),
    contactAddress: () => addr,
    ...over,
  });
  return { clock, registrar, reg, setAddr: (a: typeof addr) => (addr = a) };
}

function authOf(value: string | undefined): Map<string, string> {
  expect(value).toBeDefined();
  return parseChallenges(value!)[0].params;
}

describe('Registration', () => {
  it('registers through a qop=auth challenge with constant Call-ID and increasing CSeq', () => {
    const { registrar, reg } = setup();
    reg.start();
    expect(reg.state).toBe('registering');
    expect(registrar.last.uri).toBe('sip:example.org');
    expect(registrar.header('Expires')).toBe('3600');
    expect(registrar.header('Authorization')).toBeUndefined();
    registrar.challenge('n1');
    expect(registrar.sent).toHaveLength(2);
    const a = authOf(registrar.header('Authorization'));
    expect(a.get('username')).toBe('auth100');
    expect(a.get('uri')).toBe('sip:example.org');
    expect(a.get('response')).toBe(
      computeDigestResponse({ algorithm: 'MD5', username: 'auth100', password: 'secret', realm: 'example.org', nonce: 'n1', method: 'REGISTER', uri: 'sip:example.org', qop: 'auth', nc: a.get('nc')!, cnonce: a.get('cnonce')! }),
    );
    expect(registrar.header('Call-ID', 0)).toBe(registrar.header('Call-ID', 1));
    const seq = (i: number) => Number(registrar.header('CSeq', i)!.split(' ')[0]);
    expect(seq(1)).toBe(seq(0) + 1);
    expect(registrar.header('To')).toBe('<sip:100@example.org>');
    expect(registrar.header('From')).toMatch(/^<sip:100@example.org>;tag=\w+$/);
    expect(registrar.header('Contact')).toBe('<sip:100@192.0.2.10:5060>');
    registrar.ok(3600);
    expect(reg.status()).toMatchObject({ state: 'registered', registered: true, expiresIn: 3600, lastError: null, lastStatus: 200 });
  });

  it('refreshes inside 50-90 % of the expiry granted to our own Contact, not the Expires header', () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    const c = registrar.header('Contact')!;
    registrar.answer(200, [['Contact', `<sip:999@198.51.100.1:5060>;expires=3000, ${c};expires=600`], ['Expires', '3600']]);
    expect(reg.status().expiresIn).toBe(600);
    clock.advance(299_000);
    expect(registrar.sent).toHaveLength(1);
    clock.advance(541_000 - 299_000);
    expect(registrar.sent).toHaveLength(2);
    expect(reg.state).toBe('refreshing');
    expect(reg.status().registered).toBe(true);
  });

  it('falls back to the Expires header, then to what we asked', () => {
    const { registrar, reg } = setup();
    reg.start();
    registrar.answer(200, [['Expires', '120']]);
    expect(reg.status().expiresIn).toBe(120);
  });

  it('423 raises Expires to Min-Expires and tries again at once', () => {
    const { registrar, reg } = setup({ policy: { expires: 60 } });
    reg.start();
    registrar.answer(423, [['Min-Expires', '300']], 'Interval Too Brief');
    expect(registrar.sent).toHaveLength(2);
    expect(registrar.header('Expires')).toBe('300');
    registrar.answer(423, [['Min-Expires', '300']], 'Interval Too Brief');
    expect(reg.state).toBe('retry-wait');
  });

  it('a wrong password fails after one answer to the same nonce and waits 1200 s, not a tight loop', () => {
    const { clock, registrar, reg } = setup({}, 'wrong');
    reg.start();
    registrar.challenge('n1');
    registrar.challenge('n1');
    expect(reg.state).toBe('failed');
    expect(reg.status().lastError).toMatch(/credentials-rejected/);
    expect(reg.status().nextAttemptIn).toBe(1200);
    clock.advance(1_199_000);
    expect(registrar.sent).toHaveLength(2);
    clock.advance(1000);
    expect(registrar.sent).toHaveLength(3);
    expect(registrar.header('Authorization')).toBeUndefined();
  });

  it('a fresh nonce without stale is answered once; stale=true always', () => {
    const { registrar, reg } = setup();
    reg.start();
    registrar.challenge('n1');
    registrar.challenge('n2', ', stale=true');
    registrar.challenge('n3');
    expect(registrar.sent).toHaveLength(4);
    expect(authOf(registrar.header('Authorization')).get('nonce')).toBe('n3');
    registrar.challenge('n4');
    expect(reg.state).toBe('failed');
    expect(registrar.sent).toHaveLength(4);
  });

  it('403 waits long', () => {
    const { registrar, reg } = setup();
    reg.start();
    registrar.answer(403, [], 'Forbidden');
    expect(reg.status()).toMatchObject({ state: 'failed', lastStatus: 403, nextAttemptIn: 1200 });
  });

  it('backs off 30 s doubling to the cap with 50-100 % jitter', () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      registrar.answer(500, [], 'Server Error');
      waits.push(reg.status().nextAttemptIn!);
      clock.step();
    }
    const nominal = [30, 60, 120, 240, 480, 960, 1800, 1800, 1800];
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual(nominal[i] / 2);
      expect(w).toBeLessThanOrEqual(nominal[i]);
    });
    expect(registrar.sent).toHaveLength(10);
    registrar.ok(3600);
    clock.step();
    expect(reg.state).toBe('refreshing');
    registrar.answer(503, [], 'Busy');
    expect(reg.status().nextAttemptIn).toBeLessThanOrEqual(30);
  });

  it('honours Retry-After', () => {
    const { registrar, reg } = setup();
    reg.start();
    registrar.answer(503, [['Retry-After', '300 (maintenance)']], 'Service Unavailable');
    expect(reg.status().nextAttemptIn).toBe(300);
  });

  it('a refresh survives a 401, pre-authorising with the old nonce and counting nc', () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    registrar.challenge('n1');
    registrar.ok(100);
    clock.step();
    expect(reg.state).toBe('refreshing');
    const a = authOf(registrar.header('Authorization'));
    expect(a.get('nonce')).toBe('n1');
    expect(a.get('nc')).toBe('00000002');
    registrar.challenge('n2', ', stale=true');
    expect(authOf(registrar.header('Authorization')).get('nc')).toBe('00000001');
    registrar.ok(100);
    expect(reg.state).toBe('registered');
  });

  it('a 401 to pre-emptive refresh credentials is a new challenge even for the same nonce; a second one fails', () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    registrar.challenge('n1');
    registrar.ok(100);
    clock.step();
    registrar.challenge('n1');
    expect(registrar.sent).toHaveLength(4);
    expect(reg.state).toBe('refreshing');
    registrar.challenge('n1');
    expect(reg.state).toBe('failed');
    expect(reg.status().registered).toBe(false);
  });

  it('a transport error during refresh keeps the binding and retries', () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    registrar.ok(100);
    clock.step();
    registrar.fail();
    expect(reg.status()).toMatchObject({ state: 'retry-wait', registered: true, lastError: 'transport: ICMP port unreachable' });
    clock.step();
    registrar.ok(100);
    expect(reg.state).toBe('registered');
  });

  it('never has two REGISTERs in flight; late answers to old attempts are ignored', () => {
    const { registrar, reg } = setup();
    reg.start();
    reg.refreshNow();
    reg.start();
    expect(registrar.sent).toHaveLength(1);
    registrar.ok(100);
    expect(registrar.sent).toHaveLength(2);
    registrar.ok(100);
    registrar.sent[0].h.onFinal({ type: 'response', status: 500, reason: 'late', headers: [], parsed: undefined as never, body: '' });
    expect(reg.state).toBe('registered');
  });

  it('outbound proxy is a pre-loaded loose route and the next hop', () => {
    const { registrar, reg } = setup({
      account: { user: '100', domain: 'example.org', credentials: new SipCredentials('100', 'x'), outboundProxy: 'sip:proxy.example.org:5070', instanceId: 'urn:uuid:00000000-0000-4000-8000-000000000001' },
    });
    reg.start();
    expect(registrar.header('Route')).toBe('<sip:proxy.example.org:5070;lr>');
    expect(registrar.last.nextHop).toBe('sip:proxy.example.org:5070');
    expect(registrar.last.uri).toBe('sip:example.org');
    expect(registrar.header('Contact')).toBe('<sip:100@192.0.2.10:5060>;+sip.instance="<urn:uuid:00000000-0000-4000-8000-000000000001>"');
  });

  it('a changed public address rewrites Contact and removes the old binding', () => {
    const { registrar, reg, setAddr } = setup();
    reg.start();
    registrar.ok(100);
    setAddr({ host: '203.0.113.7', port: 40000 });
    reg.refreshNow();
    expect(registrar.headers('Contact')).toEqual(['<sip:100@203.0.113.7:40000>', '<sip:100@192.0.2.10:5060>;expires=0']);
  });

  it('unregister sends Expires: 0 for our Contact and resolves on the answer', async () => {
    const { registrar, reg } = setup();
    reg.start();
    registrar.ok(100);
    const p = reg.unregister();
    expect(reg.state).toBe('unregistering');
    expect(registrar.header('Expires')).toBe('0');
    registrar.challenge('n9');
    expect(registrar.header('Expires')).toBe('0');
    registrar.answer(200, []);
    await p;
    expect(reg.status()).toMatchObject({ state: 'unregistered', registered: false, expiresIn: 0 });
  });

  it('unregister resolves after a short timeout when nobody answers, and waits for a REGISTER in flight', async () => {
    const { clock, registrar, reg } = setup();
    reg.start();
    const p = reg.unregister();
    expect(registrar.sent).toHaveLength(1);
    registrar.ok(100);
    expect(registrar.sent).toHaveLength(2);
    expect(registrar.header('Expires')).toBe('0');
    let done = false;
    void p.then(() => (done = true));
    clock.advance(4000);
    await p;
    expect(done).toBe(true);
    expect(reg.state).toBe('unregistered');
    expect(clock.pending).toBe(0);
  });
});
