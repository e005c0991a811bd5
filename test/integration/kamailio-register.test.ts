/**
 * Registration against a REAL Kamailio (Debian package) on loopback, through the real stack (UDP transport,
 * transport layer, transaction layer), on real time because Kamailio's clock is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../hal/clock.js';
import { SipCredentials } from '../../src/sip/digest.js';
import { parseChallenges } from '../../src/sip/challenge.js';
import { Registration, type RegistrationOptions } from '../../src/sip/registration.js';
import { Kamailio } from '../support/kamailio.js';
import { UdpTransport } from '../../src/sip/udp-transport.js';
import { SipTransportLayer } from '../../src/sip/transport-layer.js';
import { TransactionLayer } from '../../src/sip/transaction-layer.js';
import { TransactionRequestSender } from '../../src/sip/registration-sender.js';
import type { SipResponse } from '../../src/sip/message.js';
import type { OutgoingRequest, RequestSender, ResponseHandlers } from '../../src/sip/registration.js';

/** The real stack for one account, recording what the registration sent and the final answers it got. */
class RecordingStack implements RequestSender {
  sent: OutgoingRequest[] = [];
  responses: SipResponse[] = [];
  private constructor(
    readonly udp: UdpTransport,
    readonly layer: TransactionLayer,
    private readonly inner: RequestSender,
  ) {}
  static async open(): Promise<RecordingStack> {
    const udp = await UdpTransport.listen({ host: '127.0.0.1', port: 0 });
    const transport = new SipTransportLayer({ transports: [udp], clock: systemClock });
    const layer = new TransactionLayer({ transport, clock: systemClock, random: Math.random });
    return new RecordingStack(udp, layer, new TransactionRequestSender(layer));
  }
  get port(): number {
    return this.udp.local.port;
  }
  send(req: OutgoingRequest, h: ResponseHandlers): void {
    this.sent.push(req);
    this.inner.send(req, { ...h, onFinal: (res) => (this.responses.push(res), h.onFinal(res)) });
  }
  async close(): Promise<void> {
    this.layer.shutdown();
    await this.udp.close();
  }
}

/** Polls a condition against the real peer; the bound is a failure, not a wait. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function agent(kam: Kamailio, user: string, password: string, policy: RegistrationOptions['policy'] = {}, via?: { domain: string; outboundProxy: string }) {
  const sender = await RecordingStack.open();
  const reg = new Registration({
    account: { user, domain: via?.domain ?? '127.0.0.1', registrar: via ? undefined : kam.uri, outboundProxy: via?.outboundProxy, credentials: new SipCredentials(user, password), userAgent: 'ata-test' },
    sender,
    clock: systemClock,
    random: Math.random,
    contactAddress: () => ({ host: '127.0.0.1', port: sender.port }),
    policy,
  });
  return { sender, reg };
}

function authOf(sender: RecordingStack, i: number): Map<string, string> | undefined {
  const v = sender.sent[i]?.headers.find(([n]) => n === 'Authorization')?.[1];
  return v === undefined ? undefined : parseChallenges(v)[0].params;
}

describe('registration against a real Kamailio', () => {
  const kam = new Kamailio({ users: { '100': 'secret', '101': 'right', '102': 'proxied' } });
  let a: Awaited<ReturnType<typeof agent>>;

  beforeAll(async () => {
    await kam.start();
    // Short expiry and early refresh so a refresh happens within seconds of real time.
    a = await agent(kam, '100', 'secret', { expires: 10, refreshMin: 0.3, refreshMax: 0.4 });
  });
  afterAll(async () => {
    a?.reg.stop();
    await a?.sender.close();
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
      await bad.sender.close();
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

  it('reaches a registrar name that does not resolve through the outbound proxy (pre-loaded Route)', async () => {
    const p = await agent(kam, '102', 'proxied', {}, { domain: 'registrar.invalid', outboundProxy: kam.uri });
    try {
      p.reg.start();
      await until('registered via the proxy', () => p.reg.state === 'registered');
      expect(p.sender.sent[0].uri).toBe('sip:registrar.invalid');
      expect(p.sender.sent[0].headers.find(([n]) => n === 'Route')?.[1]).toBe(`<${kam.uri};lr>`);
      expect(await kam.contacts('102')).toHaveLength(1);
      await p.reg.unregister();
    } finally {
      p.reg.stop();
      await p.sender.close();
    }
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
      await b.sender.close();
    }
  });
});
