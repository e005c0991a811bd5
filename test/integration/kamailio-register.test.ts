/**
 * Registration against a REAL Kamailio (Debian package) on loopback, on real time because Kamailio's clock is real.
 * Until the transaction layer and UDP transport land, REGISTERs go through test/support/udp-request-sender.ts
 * (real parser/serializer, real socket, RFC 3261 retransmissions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../hal/clock.js';
import { SipCredentials } from '../../src/sip/digest.js';
import { parseChallenges } from '../../src/sip/challenge.js';
import { Registration, type RegistrationOptions } from '../../src/sip/registration.js';
import { Kamailio } from '../support/kamailio.js';
import { UdpRequestSender } from '../support/udp-request-sender.js';

/** Polls a condition against the real peer; the bound is a failure, not a wait. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function agent(kam: Kamailio, user: string, password: string, policy: RegistrationOptions['policy'] = {}) {
  const sender = new UdpRequestSender(() => ({ host: '127.0.0.1', port: kam.port }));
  await sender.open();
  const reg = new Registration({
    account: { user, domain: '127.0.0.1', registrar: kam.uri, credentials: new SipCredentials(user, password), userAgent: 'ata-test' },
    sender,
    clock: systemClock,
    random: Math.random,
    contactAddress: () => ({ host: '127.0.0.1', port: sender.port }),
    policy,
  });
  return { sender, reg };
}

function authOf(sender: UdpRequestSender, i: number): Map<string, string> | undefined {
  const v = sender.sent[i]?.headers.find(([n]) => n === 'Authorization')?.[1];
  return v === undefined ? undefined : parseChallenges(v)[0].params;
}

describe('registration against a real Kamailio', () => {
  const kam = new Kamailio({ users: { '100': 'secret', '101': 'right' } });
  let a: Awaited<ReturnType<typeof agent>>;

  beforeAll(async () => {
    await kam.start();
    // Short expiry and early refresh so a refresh happens within seconds of real time.
    a = await agent(kam, '100', 'secret', { expires: 10, refreshMin: 0.3, refreshMax: 0.4 });
  });
  afterAll(async () => {
    a?.reg.stop();
    a?.sender.close();
    await kam.dispose();
  });

  it('registers with qop=auth digest and the binding shows in ul.lookup', async () => {
    a.reg.start();
    await until('registered', () => a.reg.state === 'registered');
    expect(a.sender.sent.length).toBe(2);
    expect(authOf(a.sender, 0)).toBeUndefined();
    expect(authOf(a.sender, 1)?.get('qop')).toBe('auth');
    expect(a.reg.status()).toMatchObject({ registered: true, lastStatus: 200, lastError: null });
    expect(a.reg.status().expiresIn).toBeLessThanOrEqual(10);
    expect(await kam.contacts('100')).toEqual([`sip:100@127.0.0.1:${a.sender.port}`]);
  });

  it('refreshes before the binding expires', async () => {
    const before = a.sender.responses.filter((r) => r.status === 200).length;
    await until('a refresh answered 200', () => a.sender.responses.filter((r) => r.status === 200).length > before, 8000);
    expect(a.reg.state).toBe('registered');
    expect(await kam.contacts('100')).toHaveLength(1);
  });

  it('a wrong password ends in failed with the next attempt far away, not a loop', async () => {
    const seen0 = await kam.registersSeen();
    const bad = await agent(kam, '101', 'wrong');
    try {
      bad.reg.start();
      await until('failed', () => bad.reg.state === 'failed');
      expect(bad.reg.status().lastError).toMatch(/credentials-rejected/);
      expect(bad.reg.status().nextAttemptIn).toBeGreaterThanOrEqual(1190);
      // Give a looping client time to show itself: a tight loop would send dozens in this second.
      await new Promise((r) => setTimeout(r, 1000));
      expect(bad.sender.sent).toHaveLength(2);
      expect((await kam.registersSeen()) - seen0).toBeLessThanOrEqual(2 + 2); // + refreshes of user 100 meanwhile
      expect(await kam.contacts('101')).toEqual([]);
    } finally {
      bad.reg.stop();
      bad.sender.close();
    }
  });

  it('re-registers after the registrar restarts on the same port and forgets every binding', async () => {
    const port = kam.port;
    await kam.stop();
    await kam.start(port);
    expect(await kam.contacts('100')).toEqual([]);
    await until('binding back after restart', async () => (await kam.contacts('100')).length === 1, 15_000);
    expect(a.reg.state).toBe('registered');
  });

  it('unregister sends Expires: 0 and the binding is gone', async () => {
    await a.reg.unregister();
    expect(a.reg.state).toBe('unregistered');
    expect(a.reg.status().lastError).toBeNull();
    expect(a.sender.sent.at(-1)!.headers.find(([n]) => n === 'Expires')?.[1]).toBe('0');
    expect(await kam.contacts('100')).toEqual([]);
  });
});

describe('registration against a real Kamailio with SHA-256 challenges', () => {
  const kam = new Kamailio({ users: { '200': 's3cret' }, algorithm: 'SHA-256' });
  beforeAll(() => kam.start());
  afterAll(() => kam.dispose());

  it('answers algorithm=SHA-256 and registers', async () => {
    const b = await agent(kam, '200', 's3cret');
    try {
      b.reg.start();
      await until('registered', () => b.reg.state === 'registered');
      expect(authOf(b.sender, 1)?.get('algorithm')).toBe('SHA-256');
      expect(await kam.contacts('200')).toHaveLength(1);
      await b.reg.unregister();
      expect(await kam.contacts('200')).toEqual([]);
    } finally {
      b.reg.stop();
      b.sender.close();
    }
  });
});
