import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { UdpTransport } from '../../src/sip/udp-transport.js';
import { TcpTransport } from '../../src/sip/tcp-transport.js';
import { SipTransportLayer, type TraceRecord } from '../../src/sip/transport-layer.js';
import { TransactionLayer, serverKey } from '../../src/sip/transaction-layer.js';
import { TransactionError } from '../../src/sip/transaction-error.js';
import { buildRequest, buildResponse } from '../../src/sip/serializer.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message.js';
import type { InviteClientTransaction } from '../../src/sip/client-transaction.js';
import type { InviteServerTransaction, ServerTransaction } from '../../src/sip/server-transaction.js';
import type { Transport } from '../../src/sip/transport.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function node(kind: 'udp' | 'tcp' = 'udp', seed = 1) {
  const clock = new FakeClock();
  const t: Transport =
    kind === 'udp' ? await UdpTransport.listen({ host: '127.0.0.1', port: 0 }) : await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock });
  open.push(t);
  const traces: TraceRecord[] = [];
  const transport = new SipTransportLayer({ transports: [t], clock, onTrace: (r) => traces.push(r), resolve: async (h) => (h === 'localhost.test' ? '127.0.0.1' : Promise.reject(new Error('NXDOMAIN'))) });
  const layer = new TransactionLayer({ transport, clock, random: seededRandom(seed) });
  return { clock, t, traces, layer, port: t.local.port };
}

function request(method: string, port: number, transport = 'udp', cseq = 1, callId = `call-${method}-${port}@test`): SipRequest {
  return buildRequest({
    method,
    uri: `sip:200@127.0.0.1:${port}${transport === 'tcp' ? ';transport=tcp' : ''}`,
    headers: [
      ['Via', 'SIP/2.0/UDP placeholder.invalid'],
      ['From', '<sip:100@127.0.0.1>;tag=a1'],
      ['To', '<sip:200@127.0.0.1>'],
      ['Call-ID', callId],
      ['CSeq', `${cseq} ${method}`],
    ],
  });
}

/** A promise plus its resolver, to wait on events instead of time. */
function signal<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('transaction layer over real UDP on 127.0.0.1', () => {
  it('OPTIONS round trip: our Via has a fresh z9hG4bK branch and rport; the server stamps and answers', async () => {
    const a = await node('udp', 1);
    const b = await node('udp', 2);
    b.layer.onRequest((req, st) => st.respond(buildResponse(req, 200)));
    const final = signal<SipResponse>();
    const pub = signal<{ host: string; port: number }>();
    a.layer.onPublicAddress((addr) => pub.resolve(addr));
    const tx = a.layer.sendRequest(request('OPTIONS', b.port), { onFinal: final.resolve, onError: (e) => { throw e; } });
    const res = await final.promise;
    expect(res.status).toBe(200);
    const via = tx.request.parsed.via[0];
    expect(via.params.get('branch')).toMatch(/^z9hG4bK[0-9A-Za-z]{16}$/);
    expect(tx.request.parsed.via).toHaveLength(1);
    expect(a.traces[0].text).toContain(`Via: SIP/2.0/UDP 127.0.0.1:${a.port};branch=${via.params.get('branch')};rport\r\n`);
    expect(res.parsed.via[0].params.get('rport')).toBe(String(a.port));
    expect(await pub.promise).toEqual({ host: '127.0.0.1', port: a.port, transport: 'udp' });
    expect(tx.state).toBe('completed');
    expect(b.layer.size.servers).toBe(1);
  });

  it('INVITE rejected: the server retransmits nothing after our ACK, the ACK is absorbed, not seen by the TU', async () => {
    const a = await node('udp', 3);
    const b = await node('udp', 4);
    const stray: SipMessage[] = [];
    b.layer.onStray((m) => stray.push(m));
    let serverTx: ServerTransaction | undefined;
    b.layer.onRequest((req, st) => {
      serverTx = st;
      st.respond(buildResponse(req, 486, undefined, [], { toTag: 'b1' }));
    });
    const final = signal<SipResponse>();
    const tx = a.layer.sendRequest(request('INVITE', b.port), undefined, { onFinal: final.resolve, onError: () => undefined });
    expect((await final.promise).status).toBe(486);
    const confirmed = signal<void>();
    const poll = () => (serverTx?.state === 'confirmed' ? confirmed.resolve() : setImmediate(poll));
    poll();
    await confirmed.promise;
    expect(tx.state).toBe('completed');
    expect(stray).toEqual([]);
    const ack = a.traces.find((r) => r.direction === 'out' && r.text.startsWith('ACK '));
    expect(ack?.text).toContain(`branch=${tx.request.parsed.via[0].params.get('branch')}`);
  });

  it('CANCEL after 180: 200 to the CANCEL, the TU answers 487, the client gets it and ACKs', async () => {
    const a = await node('udp', 5);
    const b = await node('udp', 6);
    b.layer.onRequest((req, st) => {
      const inv = st as InviteServerTransaction;
      inv.onCancel = () => inv.respond(buildResponse(req, 487, undefined, [], { toTag: 'b2' }));
      st.respond(buildResponse(req, 180, undefined, [], { toTag: 'b2' }));
    });
    const ringing = signal<void>();
    const final = signal<SipResponse>();
    const tx = a.layer.sendRequest(request('INVITE', b.port), { onProvisional: () => ringing.resolve(), onFinal: final.resolve, onError: () => undefined });
    const cancelFinal = signal<SipResponse>();
    // Sent while still Calling: held back until the 180 (RFC 3261 9.1).
    const ctx = a.layer.sendCancel(tx as InviteClientTransaction, { onFinal: cancelFinal.resolve, onError: () => undefined });
    expect(ctx.state).toBe('trying');
    await ringing.promise;
    expect((await cancelFinal.promise).status).toBe(200);
    expect((await final.promise).status).toBe(487);
    expect(a.traces.filter((r) => r.direction === 'out').map((r) => r.text.split(' ')[0])).toEqual(['INVITE', 'CANCEL', 'ACK']);
  });

  it('a CANCEL matching nothing gets 481; a stray response goes to the hook', async () => {
    const a = await node('udp', 7);
    const b = await node('udp', 8);
    const strays: string[] = [];
    b.layer.onStray((m, _src, kind) => strays.push(kind));
    const final = signal<SipResponse>();
    a.layer.sendRequest(request('CANCEL', b.port), { onFinal: final.resolve, onError: () => undefined });
    expect((await final.promise).status).toBe(481);
    expect(strays).toEqual(['cancel']);
  });

  it('resolution failure and an unknown host end the transaction with a typed error', async () => {
    const a = await node('udp', 9);
    const err = signal<TransactionError>();
    const req = request('OPTIONS', 5060);
    a.layer.sendRequest(req, { transport: 'udp', host: 'nowhere.test', port: 5060 }, { onFinal: () => undefined, onError: err.resolve });
    const e = await err.promise;
    expect(e).toBeInstanceOf(TransactionError);
    expect(e.failure).toBe('resolve');
    const err2 = signal<TransactionError>();
    a.layer.sendRequest(request('OPTIONS', 5060, 'tcp'), { onFinal: () => undefined, onError: err2.resolve });
    expect((await err2.promise).failure).toBe('resolve'); // tcp is not enabled on this node
    expect(a.layer.size.clients).toBe(0);
  });

  it('retransmissions on FakeClock go out on the wire: Timer E resends the same bytes', async () => {
    const a = await node('udp', 10);
    const b = await node('udp', 11);
    const seen = signal<void>();
    let count = 0;
    b.layer.onRequest(() => {
      count++;
      seen.resolve();
    });
    const tx = a.layer.sendRequest(request('OPTIONS', b.port), { onFinal: () => undefined, onError: () => undefined });
    await seen.promise;
    const retrans = signal<void>();
    const before = b.traces.length;
    const poll = () => (b.traces.length > before ? retrans.resolve() : setImmediate(poll));
    a.clock.advance(500);
    poll();
    await retrans.promise;
    expect(count).toBe(1); // the retransmission was absorbed by the server transaction
    expect(a.traces[1].text).toBe(a.traces[0].text);
    expect(tx.state).toBe('trying');
  });
});

describe('transaction layer over real TCP', () => {
  it('INVITE 200 over TCP, a refused connection is a transport error', async () => {
    const a = await node('tcp', 12);
    const b = await node('tcp', 13);
    b.layer.onRequest((req, st) => st.respond(buildResponse(req, 200, undefined, [], { toTag: 'b3' })));
    const final = signal<SipResponse>();
    const tx = a.layer.sendRequest(request('INVITE', b.port, 'tcp'), { onFinal: final.resolve, onError: () => undefined });
    expect((await final.promise).status).toBe(200);
    expect(tx.state).toBe('accepted');
    expect(tx.request.parsed.via[0].transport).toBe('TCP');
    const closedPort = b.port;
    await b.t.close();
    const err = signal<TransactionError>();
    a.layer.sendRequest(request('OPTIONS', closedPort, 'tcp', 2), { onFinal: () => undefined, onError: err.resolve });
    // The old connection may still be half-open; either way the error is a transport failure, not a crash.
    const e = await err.promise;
    expect(e.failure).toBe('transport');
  });
});

describe('server matching keys', () => {
  it('RFC 3261: ACK maps to INVITE; RFC 2543 fallback without the magic cookie', () => {
    const inv = request('INVITE', 5060);
    inv.parsed.via[0].params.set('branch', 'z9hG4bKxyz');
    const ack = request('ACK', 5060, 'udp', 1, 'call-INVITE-5060@test');
    ack.parsed.via[0].params.set('branch', 'z9hG4bKxyz');
    expect(serverKey(ack)).toBe(serverKey(inv));
    const old = request('INVITE', 5060);
    old.parsed.via[0].params.set('branch', '1234');
    const oldAck = request('ACK', 5060, 'udp', 1, 'call-INVITE-5060@test');
    oldAck.parsed.via[0].params.set('branch', '1234');
    oldAck.parsed.to.params.set('tag', 'x');
    expect(serverKey(oldAck)).toBe(serverKey(old));
    const bye = request('BYE', 5060, 'udp', 1, 'call-INVITE-5060@test');
    expect(serverKey(bye)).not.toBe(serverKey(old));
  });

  it('a reused branch on a request with another Call-ID is a new transaction, not a retransmission (RFC 4475 novelsc)', () => {
    const first = request('OPTIONS', 5060, 'udp', 1, 'unkscm@test');
    first.parsed.via[0].params.set('branch', 'z9hG4bKsame');
    const again = request('OPTIONS', 5060, 'udp', 1, 'unkscm@test');
    again.parsed.via[0].params.set('branch', 'z9hG4bKsame');
    const other = request('OPTIONS', 5060, 'udp', 1, 'novelsc@test');
    other.parsed.via[0].params.set('branch', 'z9hG4bKsame');
    expect(serverKey(again)).toBe(serverKey(first));
    expect(serverKey(other)).not.toBe(serverKey(first));
  });
});
