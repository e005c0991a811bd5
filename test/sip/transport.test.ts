import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { FakeClock } from '../../hal/clock.js';
import { UdpTransport } from '../../src/sip/udp-transport.js';
import { TcpTransport } from '../../src/sip/tcp-transport.js';
import { SipTransportLayer, type TraceRecord } from '../../src/sip/transport-layer.js';
import { parseListenAddress, TransportError, type Transport } from '../../src/sip/transport.js';
import { parseMessage } from '../../src/sip/parser.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { readFileSync } from 'node:fs';
import { buildResponse } from '../../src/sip/serializer.js';

const TORTURE = new URL('../fixtures/rfc4475/', import.meta.url).pathname;
const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

function options(host: string, port: number, branch = 'z9hG4bKabc', extra = ''): string {
  const hp = host.includes(':') ? `[${host}]` : host;
  return (
    `OPTIONS sip:ata@${hp} SIP/2.0\r\nVia: SIP/2.0/UDP ${hp}:${port};branch=${branch};rport\r\nMax-Forwards: 70\r\n` +
    `From: <sip:probe@${hp}>;tag=f1\r\nTo: <sip:ata@${hp}>\r\nCall-ID: c1@x\r\nCSeq: 7 OPTIONS\r\n${extra}Content-Length: 0\r\n\r\n`
  );
}

/** A plain UDP socket acting as the far end; resolves datagrams as they arrive. */
async function peerSocket(type: 'udp4' | 'udp6', host: string) {
  const s = createSocket(type);
  const queue: Buffer[] = [];
  const waiters: Array<(b: Buffer) => void> = [];
  s.on('message', (m) => (waiters.length ? waiters.shift()!(m) : queue.push(m)));
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  return {
    port: s.address().port,
    send: (text: string, port: number) => new Promise<void>((r) => s.send(Buffer.from(text, 'latin1'), port, host, () => r())),
    next: () => new Promise<Buffer>((r) => (queue.length ? r(queue.shift()!) : waiters.push(r))),
  };
}

function layerWith(t: Transport, traces: TraceRecord[] = []) {
  const layer = new SipTransportLayer({ transports: [t], clock: new FakeClock(), onTrace: (r) => traces.push(r) });
  const requests: Array<{ req: SipRequest; source: { host: string; port: number } }> = [];
  const waiters: Array<{ n: number; done: () => void }> = [];
  layer.onRequest((req, source) => {
    requests.push({ req, source });
    for (const w of waiters.splice(0)) if (requests.length >= w.n) w.done(); else waiters.push(w);
  });
  const untilCount = (n: number) => new Promise<void>((done) => (requests.length >= n ? done() : waiters.push({ n, done })));
  return { layer, requests, nextRequest: () => untilCount(requests.length + 1), untilCount };
}

describe('listen address', () => {
  it('parses IPv4 and bracketed IPv6, rejects junk with a typed error', () => {
    expect(parseListenAddress('0.0.0.0:5060')).toEqual({ host: '0.0.0.0', port: 5060 });
    expect(parseListenAddress('[::]:5060')).toEqual({ host: '::', port: 5060 });
    expect(() => parseListenAddress('sip.example.org:5060')).toThrow(TransportError);
    expect(() => parseListenAddress('127.0.0.1:70000')).toThrow(TransportError);
    expect(() => parseListenAddress('::1:5060')).toThrow(TransportError);
  });
});

describe.each([
  ['IPv4', 'udp4' as const, '127.0.0.1'],
  ['IPv6', 'udp6' as const, '::1'],
])('UDP transport on %s loopback (real sockets)', (_name, type, host) => {
  it('delivers a request with received/rport stamped, and the response goes back to the source port', async () => {
    const t = await UdpTransport.listen({ host, port: 0 });
    open.push(t);
    const traces: TraceRecord[] = [];
    const { layer, requests, nextRequest } = layerWith(t, traces);
    const peer = await peerSocket(type, host);
    const got = nextRequest();
    // The Via claims port 5999: with rport, the answer must still go to the real source port.
    await peer.send(options(host, 5999), t.local.port);
    await got;
    const { req } = requests[0];
    expect(req.parsed.via[0].params.get('rport')).toBe(String(peer.port));
    expect(req.parsed.via[0].params.get('received')).toBe(host);
    expect(req.headers.find((h) => h.name === 'Via')?.value).toContain(`rport=${peer.port}`);
    await layer.sendResponse(buildResponse(req, 200));
    const res = parseMessage(await peer.next());
    expect(res.type).toBe('response');
    expect(res.type === 'response' && res.status).toBe(200);
    expect(traces.map((r) => r.direction)).toEqual(['in', 'out']);
    expect(traces[0].peer).toEqual({ transport: 'udp', host, port: peer.port });
    expect(traces[0].text.startsWith('OPTIONS ')).toBe(true);
  });

  it('answers a malformed but readable request with 400, drops junk and CRLF keep-alives', async () => {
    const t = await UdpTransport.listen({ host, port: 0 });
    open.push(t);
    const traces: TraceRecord[] = [];
    const { requests } = layerWith(t, traces);
    const peer = await peerSocket(type, host);
    await peer.send('\r\n\r\n', t.local.port);
    await peer.send('\x00\x01garbage', t.local.port);
    await peer.send(options(host, peer.port, 'z9hG4bKbad', 'Max-Forwards: many\r\n'), t.local.port);
    const res = parseMessage(await peer.next());
    expect(res.type === 'response' && res.status).toBe(400);
    expect(res.parsed.via[0].params.get('branch')).toBe('z9hG4bKbad');
    expect(res.parsed.cseq).toEqual({ seq: 7, method: 'OPTIONS' });
    expect(requests).toHaveLength(0);
    // The keep-alive is not even traced; junk and the bad request are, and so is our 400.
    expect(traces.map((r) => r.direction)).toEqual(['in', 'in', 'out']);
  });

  it('passes a response with one Via up and discards one with two, logging it at debug (RFC 3261 18.1.2)', async () => {
    const t = await UdpTransport.listen({ host, port: 0 });
    open.push(t);
    const logged: Array<{ level: string; event: string; fields: Record<string, unknown> }> = [];
    let discarded!: () => void;
    const discardSeen = new Promise<void>((r) => (discarded = r));
    const layer = new SipTransportLayer({
      transports: [t],
      clock: new FakeClock(),
      log: (level, event, fields) => {
        logged.push({ level, event, fields });
        if (event.includes('more than one Via')) discarded();
      },
    });
    const responses: SipResponse[] = [];
    let delivered!: () => void;
    const deliveredSeen = new Promise<void>((r) => (delivered = r));
    layer.onResponse((res) => {
      responses.push(res);
      delivered();
    });
    const peer = await peerSocket(type, host);
    // RFC 4475 3.3.10: a 200 whose second Via names the broadcast address; then 3.1.1.12, a 200 with one Via
    await peer.send(readFileSync(TORTURE + 'bcast.dat', 'latin1'), t.local.port);
    await peer.send(readFileSync(TORTURE + 'unreason.dat', 'latin1'), t.local.port);
    await Promise.all([discardSeen, deliveredSeen]);
    expect(responses.map((r) => r.parsed.via.length)).toEqual([1]);
    expect(responses[0].parsed.callId).toBe(parseMessage(readFileSync(TORTURE + 'unreason.dat')).parsed.callId);
    expect(logged.filter((l) => l.event.includes('more than one Via')).map((l) => [l.level, l.fields.vias])).toEqual([['debug', 2]]);
  });
});

describe('TCP transport (real sockets)', () => {
  it('frames messages split across and packed into segments, answers on the same connection', async () => {
    const clock = new FakeClock();
    const t = await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock });
    open.push(t);
    const { layer, requests, untilCount } = layerWith(t);
    const sock = connect({ host: '127.0.0.1', port: t.local.port });
    open.push({ close: () => sock.destroy() });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const msg = options('127.0.0.1', 5999).replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
    const two = untilCount(2);
    sock.write(msg.slice(0, 30));
    await new Promise<void>((r) => setImmediate(r));
    sock.write(msg.slice(30) + msg.replace('c1@x', 'c2@x'));
    await two;
    expect(requests.map((r) => r.req.parsed.callId)).toEqual(['c1@x', 'c2@x']);
    const reply = new Promise<string>((r) => sock.once('data', (d) => r(d.toString('latin1'))));
    await layer.sendResponse(buildResponse(requests[0].req, 200), { transport: 'tcp', ...requests[0].source });
    expect((await reply).startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
    expect(t.connectionCount).toBe(1);
  });

  it('reuses one connection per peer and closes it when idle (idle timer on the injected clock)', async () => {
    const clock = new FakeClock();
    const server = await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock: new FakeClock() });
    const client = await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock, idleMs: 1000 });
    open.push(server, client);
    const got: string[] = [];
    let arrived: () => void = () => undefined;
    server.onMessage((d) => {
      got.push(d.toString('latin1'));
      arrived();
    });
    const msg = options('127.0.0.1', 5060).replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
    const dest = server.local;
    const both = new Promise<void>((r) => (arrived = () => got.length === 2 && r()));
    await client.send(Buffer.from(msg), dest);
    await client.send(Buffer.from(msg), dest);
    await both;
    expect(client.connectionCount).toBe(1);
    expect(server.connectionCount).toBe(1);
    const serverSawClose = new Promise<void>((r) => {
      const poll = () => (server.connectionCount === 0 ? r() : setImmediate(poll));
      poll();
    });
    clock.advance(1000);
    await serverSawClose;
    expect(client.connectionCount).toBe(0);
  });

  it('a refused connection rejects the send with a typed TransportError', async () => {
    const t = await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock: new FakeClock() });
    open.push(t);
    const closed = await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock: new FakeClock() });
    const port = closed.local.port;
    await closed.close();
    const err = await t.send(Buffer.from('x'), { host: '127.0.0.1', port }).catch((e) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('listens on ::1 too', async () => {
    const t = await TcpTransport.listen({ host: '::1', port: 0 }, { clock: new FakeClock() });
    open.push(t);
    const got = new Promise<{ host: string }>((r) => t.onMessage((_d, src) => r(src)));
    const c = await TcpTransport.listen({ host: '::1', port: 0 }, { clock: new FakeClock() });
    open.push(c);
    await c.send(Buffer.from(options('::1', 5060)), t.local);
    expect((await got).host).toBe('::1');
  });
});

describe('TCP keep-alive (real socket)', () => {
  it('answers a CRLFCRLF ping with a CRLF pong and drops a stream that cannot be framed', async () => {
    const t = await TcpTransport.listen({ host: '127.0.0.1', port: 0 }, { clock: new FakeClock() });
    open.push(t);
    const sock = connect({ host: '127.0.0.1', port: t.local.port });
    open.push({ close: () => sock.destroy() });
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const pong = new Promise<string>((r) => sock.once('data', (d) => r(d.toString('latin1'))));
    sock.write('\r\n\r\n');
    expect(await pong).toBe('\r\n');
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write('OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/TCP x\r\n\r\n'); // no Content-Length on a stream
    await closed;
  });
});
