/**
 * One call's signalling, both ends ours, over real UDP on 127.0.0.1 with the real transaction layers, on fake
 * time: set-up and BYE, CANCEL -> 487, 486, a digest challenge answered once, the 200 retransmitted until its
 * ACK (given up with a BYE after 64*T1), and DTMF as SIP INFO both ways. Tests wait for messages, never for time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, seededRandom } from '../../hal/clock.js';
import { InviteSession, type CallEnd, type InviteSessionEvents, type SessionBase } from '../../src/sip/invite-session.js';
import { answerReferNotify, sendRefer } from '../../src/sip/call-transfer.js';
import { computeDigestResponse, SipCredentials } from '../../src/sip/digest.js';
import { getHeader, getHeaders, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import { buildRequest, buildResponse } from '../../src/sip/serializer.js';
import type { InviteServerTransaction } from '../../src/sip/server-transaction.js';
import { TransactionLayer } from '../../src/sip/transaction-layer.js';
import { SipTransportLayer } from '../../src/sip/transport-layer.js';
import { UdpTransport } from '../../src/sip/udp-transport.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

async function node(seed: number) {
  const clock = new FakeClock();
  const t = await UdpTransport.listen({ host: '127.0.0.1', port: 0 });
  open.push(t);
  const sent: string[] = [];
  const transport = new SipTransportLayer({ transports: [t], clock, onTrace: (r) => r.direction === 'out' && sent.push(r.text.split('\r\n')[0]) });
  const layer = new TransactionLayer({ transport, clock, random: seededRandom(seed) });
  return { clock, layer, port: t.local.port, sent };
}

/** Waits for I/O (datagrams), never for time. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

function signal<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Records a session's events; each can be awaited. */
function recorder() {
  const ringing = signal<SipResponse>();
  const answered = signal<string>();
  const ended = signal<CallEnd>();
  const digits: string[] = [];
  let digitWaiter = (): void => undefined;
  const events: InviteSessionEvents = { ringing: ringing.resolve, answered: answered.resolve, ended: ended.resolve, dtmf: (d) => (digits.push(d), digitWaiter()) };
  const digitCount = (n: number) =>
    new Promise<string[]>((r) => {
      digitWaiter = () => void (digits.length >= n && r(digits));
      digitWaiter();
    });
  return { events, ringing: ringing.promise, answered: answered.promise, ended: ended.promise, digits, digitCount };
}

function base(n: Awaited<ReturnType<typeof node>>, user: string, events: InviteSessionEvents, seed: number): SessionBase {
  return { transactions: n.layer, clock: n.clock, random: seededRandom(seed), userAgent: 'test', contact: `sip:${user}@127.0.0.1:${n.port}`, events, log: () => undefined };
}

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const ANSWER = OFFER.replace('40000', '40002');

/**
 * A callee: every new INVITE becomes an answerable session handed to `onCall`; BYE and ACK go to it, and so does a
 * re-INVITE, answered with what `reinvite` returns (481 without it). ACKs are kept in `acks`.
 */
function callee(b: Awaited<ReturnType<typeof node>>, onCall: (s: InviteSession) => void, reinvite?: (req: SipRequest) => SipResponse) {
  const rec = recorder();
  const acks: SipRequest[] = [];
  let session: InviteSession | undefined;
  b.layer.onRequest((req, st) => {
    if (req.method === 'INVITE' && req.parsed.to.params.get('tag')) {
      if (session && reinvite) session.answerReinvite(req, st, reinvite(req));
      else st.respond(buildResponse(req, 481));
    } else if (req.method === 'INVITE') {
      session = InviteSession.answerable(base(b, '200', rec.events, 9), req, st as InviteServerTransaction);
      onCall(session);
    } else if (req.method === 'BYE' && session) session.remoteBye(req, st);
    else if (req.method === 'INFO' && session) session.remoteInfo(req, st);
    else st.respond(buildResponse(req, 481));
  });
  b.layer.onStray((msg, _src, kind) => {
    if (kind === 'ack' && msg.type === 'request') (acks.push(msg), session?.ackReceived(msg));
  });
  return {
    ...rec,
    acks,
    /** The callee's side of the call, once the INVITE came. */
    get session(): InviteSession | undefined {
      return session;
    },
  };
}

function place(a: Awaited<ReturnType<typeof node>>, bPort: number, events: InviteSessionEvents, credentials?: SipCredentials): InviteSession {
  return InviteSession.call({
    ...base(a, '100', events, 3),
    requestUri: `sip:200@127.0.0.1:${bPort}`,
    from: '<sip:100@127.0.0.1>',
    to: '<sip:200@127.0.0.1>',
    sdpOffer: OFFER,
    ...(credentials ? { credentials } : {}),
  });
}

describe('InviteSession over real UDP', () => {
  it('rings, answers, is acknowledged, and a BYE from the caller ends both sides', async () => {
    const a = await node(1);
    const b = await node(2);
    const far = callee(b, (s) => {
      s.ring();
      s.accept(ANSWER);
    });
    const me = recorder();
    const call = place(a, b.port, me.events);
    expect((await me.ringing).status).toBe(180);
    expect(await me.answered).toBe(ANSWER);
    expect(call.state).toBe('confirmed');
    await far.answered; // the ACK reached the callee
    call.hangUp();
    expect(await far.ended).toEqual({ kind: 'remote-bye' });
    expect(await me.ended).toEqual({ kind: 'local-hangup' });
  });

  it('digits keyed as SIP INFO arrive in the order keyed; the callee sends them too; other INFO bodies get 415', async () => {
    const a = await node(1);
    const b = await node(2);
    const far = callee(b, (s) => s.accept(ANSWER));
    const me = recorder();
    const call = place(a, b.port, me.events);
    a.layer.onRequest((req, st) => (req.method === 'INFO' ? call.remoteInfo(req, st) : st.respond(buildResponse(req, 481))));
    await me.answered;
    await far.answered;
    const infoSent = () => a.sent.filter((l) => l.startsWith('INFO ')).length;
    call.sendDtmfInfo('1');
    call.sendDtmfInfo('2');
    call.sendDtmfInfo('#');
    expect(await far.digitCount(3)).toEqual(['1', '2', '#']);
    expect(infoSent()).toBe(3);
    // The callee's digits reach the caller the same way.
    far.session!.sendDtmfInfo('9');
    expect(await me.digitCount(1)).toEqual(['9']);
    // A body that is not DTMF is refused with what we accept.
    const dialog = call.dialog!;
    const odd = dialog.createRequest('INFO', [['Content-Type', 'application/x-odd']], 'hello');
    const res = await new Promise<SipResponse>((resolve) => a.layer.sendRequest(odd, { onFinal: resolve, onError: () => undefined }));
    expect(res.status).toBe(415);
    expect(getHeader(res, 'Accept')).toContain('application/dtmf-relay');
    expect(far.digits).toEqual(['1', '2', '#']);
    call.hangUp();
    expect(await far.ended).toEqual({ kind: 'remote-bye' });
    // After the call, keyed digits go nowhere (the 4th INFO is the odd one above).
    expect(infoSent()).toBe(4);
    call.sendDtmfInfo('5');
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(infoSent()).toBe(4);
  });

  it('a re-INVITE of ours (hold): a 491 is retried after the RFC 3261 14.1 wait, the 200 is acknowledged with its CSeq', async () => {
    const a = await node(11);
    const b = await node(12);
    const reinvites: SipRequest[] = [];
    // The first crosses one of the callee's own (glare); the second is answered, the held side recvonly.
    const far = callee(
      b,
      (s) => s.accept(ANSWER),
      (req) => (reinvites.push(req), reinvites.length === 1 ? buildResponse(req, 491) : buildResponse(req, 200, undefined, [['Content-Type', 'application/sdp']], { body: ANSWER.replace('m=audio', 'a=recvonly\r\nm=audio') })),
    );
    const me = recorder();
    const call = place(a, b.port, me.events);
    await me.answered;
    await far.answered;
    const result = call.modify(OFFER.replace('m=audio', 'a=sendonly\r\nm=audio'));
    expect(call.modifying).toBe(true);
    await until(() => b.sent.includes('SIP/2.0 491 Request Pending'), 'the 491');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    // We placed the call (we own the Call-ID): the retry waits 2.1-4 s, and not before 2.1 s.
    a.clock.advance(2000);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(reinvites).toHaveLength(1);
    a.clock.advance(2000);
    expect(await result).toEqual({ kind: 'answered', sdp: expect.stringContaining('a=recvonly') });
    expect(reinvites).toHaveLength(2);
    expect(reinvites[1].body).toContain('a=sendonly');
    expect(reinvites[1].parsed.cseq.seq).toBe(reinvites[0].parsed.cseq.seq + 1);
    expect(getHeader(reinvites[1], 'Contact')).toContain('sip:100@127.0.0.1');
    await until(() => far.acks.some((ack) => ack.parsed.cseq.seq === reinvites[1].parsed.cseq.seq), 'the ACK of the 200');
    expect(call.modifying).toBe(false);
    expect(call.state).toBe('confirmed');
    call.hangUp();
    expect(await far.ended).toEqual({ kind: 'remote-bye' });
  });

  it('a refused re-INVITE leaves the call up; after the call, modify answers that the call is not up', async () => {
    const a = await node(13);
    const b = await node(14);
    const far = callee(b, (s) => s.accept(ANSWER), (req) => buildResponse(req, 488));
    const me = recorder();
    const call = place(a, b.port, me.events);
    await me.answered;
    await far.answered;
    expect(await call.modify(OFFER)).toEqual({ kind: 'refused', status: 488 });
    expect(call.state).toBe('confirmed');
    call.hangUp();
    expect(await far.ended).toEqual({ kind: 'remote-bye' });
    expect(await call.modify(OFFER)).toEqual({ kind: 'failed', why: 'the call is not up' });
  });

  it('a transfer: our REFER in the call names the target, 202 is accepted and 603 refused; the far end\'s NOTIFY (Event: refer) gets 200 and its sipfrag status is read, another event 489', async () => {
    const a = await node(15);
    const b = await node(16);
    const far = callee(b, (s) => s.accept(ANSWER));
    const me = recorder();
    const call = place(a, b.port, me.events);
    await me.answered;
    await far.answered;
    // The transferee's side: REFER answered with `referAnswer`, BYE to its session.
    const refers: SipRequest[] = [];
    let referAnswer = 202;
    b.layer.onRequest((req, st) => {
      if (req.method === 'REFER') (refers.push(req), st.respond(buildResponse(req, referAnswer)));
      else if (req.method === 'BYE') far.session!.remoteBye(req, st);
      else st.respond(buildResponse(req, 481));
    });
    const progress: Array<number | null> = [];
    a.layer.onRequest((req, st) => (req.method === 'NOTIFY' ? progress.push(answerReferNotify(req, st, 'test')) : st.respond(buildResponse(req, 481))));
    const refer = { transactions: a.layer, userAgent: 'test', contact: `sip:100@127.0.0.1:${a.port}` };
    expect(await sendRefer(call.dialog!, 'sip:300@127.0.0.1:5099', refer)).toEqual({ kind: 'accepted', status: 202 });
    expect(refers[0].method).toBe('REFER');
    expect(getHeader(refers[0], 'Refer-To')).toBe('<sip:300@127.0.0.1:5099>');
    expect(getHeader(refers[0], 'Contact')).toBe(`<sip:100@127.0.0.1:${a.port}>`);
    expect(refers[0].parsed.callId).toBe(call.callId);

    const notify = (headers: Array<[string, string]>, body: string) =>
      new Promise<SipResponse>((resolve) => b.layer.sendRequest(far.session!.dialog!.createRequest('NOTIFY', headers, body), { onFinal: resolve, onError: () => undefined }));
    const done = await notify([['Event', 'refer'], ['Subscription-State', 'terminated;reason=noresource'], ['Content-Type', 'message/sipfrag']], 'SIP/2.0 200 OK\r\n');
    expect(done.status).toBe(200);
    const unreadable = await notify([['Event', 'refer;id=2'], ['Content-Type', 'message/sipfrag']], 'not a status line');
    expect(unreadable.status).toBe(200);
    const presence = await notify([['Event', 'presence']], '');
    expect(presence.status).toBe(489);
    expect(getHeader(presence, 'Allow-Events')).toBe('refer');
    expect(progress).toEqual([200, null, null]);

    referAnswer = 603;
    expect(await sendRefer(call.dialog!, 'sip:300@127.0.0.1:5099', refer)).toEqual({ kind: 'refused', status: 603 });
    // A target that cannot be put in Refer-To as it is never leaves.
    expect(await sendRefer(call.dialog!, 'sip:a b@x>', refer)).toMatchObject({ kind: 'failed' });
    expect(refers).toHaveLength(2);
    call.hangUp();
    expect(await far.ended).toEqual({ kind: 'remote-bye' });
  });

  it('hanging up while it rings sends CANCEL; the callee answers 487', async () => {
    const a = await node(3);
    const b = await node(4);
    const far = callee(b, (s) => s.ring());
    const me = recorder();
    const call = place(a, b.port, me.events);
    await me.ringing;
    call.hangUp();
    expect(call.state).toBe('cancelling');
    expect(await far.ended).toEqual({ kind: 'cancelled' });
    expect(await me.ended).toEqual({ kind: 'cancelled' });
    expect(b.sent).toContain('SIP/2.0 487 Request Terminated');
  });

  it('486 from the callee ends the call as rejected 486', async () => {
    const a = await node(5);
    const b = await node(6);
    callee(b, (s) => s.reject(486));
    const me = recorder();
    place(a, b.port, me.events);
    expect(await me.ended).toEqual({ kind: 'rejected', status: 486 });
  });

  it('answers a 401 once with digest credentials: same Call-ID, next CSeq, a correct response', async () => {
    const a = await node(7);
    const b = await node(8);
    const invites: SipRequest[] = [];
    b.layer.onRequest((req, st) => {
      invites.push(req);
      if (invites.length === 1) {
        st.respond(buildResponse(req, 401, undefined, [['WWW-Authenticate', 'Digest realm="pbx", nonce="n0nce", qop="auth", algorithm=MD5']], { toTag: 'c1' }));
        return;
      }
      st.respond(buildResponse(req, 200, undefined, [['Contact', `<sip:200@127.0.0.1:${b.port}>`], ['Content-Type', 'application/sdp']], { toTag: 'c2', body: ANSWER }));
    });
    const me = recorder();
    place(a, b.port, me.events, new SipCredentials('100', 'secret'));
    expect(await me.answered).toBe(ANSWER);
    expect(invites).toHaveLength(2);
    const [first, second] = invites;
    expect(second.parsed.callId).toBe(first.parsed.callId);
    expect(second.parsed.cseq.seq).toBe(first.parsed.cseq.seq + 1);
    expect(second.parsed.from.params.get('tag')).toBe(first.parsed.from.params.get('tag'));
    const authz = getHeader(second, 'Authorization')!;
    const field = (n: string) => new RegExp(`${n}="?([^",]+)"?`).exec(authz)?.[1];
    expect(field('response')).toBe(
      computeDigestResponse({ algorithm: 'MD5', username: '100', password: 'secret', realm: 'pbx', nonce: 'n0nce', method: 'INVITE', uri: field('uri')!, qop: 'auth', nc: field('nc')!, cnonce: field('cnonce')! }),
    );
  });

  it('a wrong password is not retried forever: the second 401 for the same nonce ends the call', async () => {
    const a = await node(9);
    const b = await node(10);
    let count = 0;
    b.layer.onRequest((req, st) => {
      count++;
      st.respond(buildResponse(req, 401, undefined, [['WWW-Authenticate', 'Digest realm="pbx", nonce="same"']], { toTag: 't' + count }));
    });
    const me = recorder();
    place(a, b.port, me.events, new SipCredentials('100', 'wrong'));
    const end = await me.ended;
    expect(end.kind).toBe('auth-failed');
    expect(count).toBe(2);
  });

  it('retransmits the 200 until the ACK comes; with no ACK it gives up after 64*T1 and sends BYE', async () => {
    // The caller is a bare transaction layer that never acknowledges and counts the 200s reaching it.
    const a = await node(11);
    const c = await node(13);
    const far = callee(c, (s) => s.accept(ANSWER));
    c.layer.onStray(() => undefined); // no ACK ever reaches the callee's session
    let oks = 0;
    let next = signal<void>();
    const bye = signal<SipRequest>();
    a.layer.onRequest((req, st) => {
      st.respond(buildResponse(req, 200));
      if (req.method === 'BYE') bye.resolve(req);
    });
    const invite = buildRequest({
      method: 'INVITE',
      uri: `sip:200@127.0.0.1:${c.port}`,
      headers: [['Via', 'SIP/2.0/UDP x;branch=z9hG4bKx'], ['From', '<sip:100@127.0.0.1>;tag=r1'], ['To', '<sip:200@127.0.0.1>'], ['Call-ID', 'raw-call'], ['CSeq', '1 INVITE'], ['Contact', `<sip:100@127.0.0.1:${a.port}>`], ['Content-Type', 'application/sdp']],
      body: OFFER,
    });
    a.layer.sendRequest(invite, {
      onFinal: () => {
        oks++;
        next.resolve();
      },
      onError: () => undefined,
    });
    await next.promise;
    expect(oks).toBe(1);
    // T1, then doubling: 500, 1000, 2000, 4000 ms after each other.
    for (const wait of [500, 1000, 2000, 4000]) {
      next = signal<void>();
      c.clock.advance(wait);
      await next.promise;
    }
    expect(oks).toBe(5);
    c.clock.advance(32_000);
    expect((await bye.promise).parsed.callId).toBe('raw-call');
    expect(await far.ended).toEqual({ kind: 'no-ack' });
  });

  it('the 200 to a re-INVITE is retransmitted until its ACK, then no more; unanswered for 64*T1 it ends the call with BYE', async () => {
    const a = await node(21);
    const b = await node(22);
    let answerer: InviteSession | undefined;
    const rec = recorder();
    b.layer.onRequest((req, st) => {
      if (req.method === 'INVITE' && !req.parsed.to.params.get('tag')) {
        answerer = InviteSession.answerable(base(b, '200', rec.events, 9), req, st as InviteServerTransaction);
        answerer.accept(ANSWER);
      } else if (req.method === 'INVITE') answerer!.answerReinvite(req, st, buildResponse(req, 200, undefined, [['Content-Type', 'application/sdp']], { body: ANSWER }));
      else if (req.method === 'BYE') answerer!.remoteBye(req, st);
    });
    b.layer.onStray((msg, _src, kind) => {
      if (kind === 'ack' && msg.type === 'request') answerer?.ackReceived(msg);
    });
    const me = recorder();
    const call = place(a, b.port, me.events);
    let bye: SipRequest | undefined;
    a.layer.onRequest((req, st) => {
      if (req.method === 'BYE') bye = req;
      st.respond(buildResponse(req, 200));
    });
    await me.answered;
    await rec.answered;
    // A re-INVITE (hold) from the caller's dialog, acknowledged only when the test says so.
    let oks = 0;
    let next = signal<SipResponse>();
    const reinvite = () => call.dialog!.createRequest('INVITE', [['Content-Type', 'application/sdp']], OFFER.replace('t=0 0', 't=0 0\r\na=sendonly'));
    const first = reinvite();
    a.layer.sendRequest(first, { onFinal: (res) => (oks++, next.resolve(res)), onError: () => undefined });
    const ok = await next.promise;
    expect(ok.status).toBe(200);
    for (const wait of [500, 1000]) {
      next = signal<SipResponse>();
      b.clock.advance(wait);
      await next.promise;
    }
    expect(oks).toBe(3);
    // The ACK stops the retransmissions: 30 s later none has come.
    const ack = call.dialog!.createRequest('ACK', [], '', first.parsed.cseq.seq);
    await new Promise<void>((resolve) => {
      b.layer.onStray((msg, _src, kind) => {
        if (kind === 'ack' && msg.type === 'request') (answerer?.ackReceived(msg), resolve());
      });
      void a.layer.sendStateless(ack);
    });
    b.clock.advance(30_000);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(oks).toBe(3);
    expect(answerer!.state).toBe('confirmed');

    // A second re-INVITE is never acknowledged: after 64*T1 the callee hangs up.
    next = signal<SipResponse>();
    a.layer.sendRequest(reinvite(), { onFinal: (res) => next.resolve(res), onError: () => undefined });
    await next.promise;
    // Retransmissions at T1, doubling to T2 (4 s): the one due after 64*T1 is the give-up.
    b.clock.advance(64 * 500 + 4000);
    expect(await rec.ended).toEqual({ kind: 'no-ack' });
    await until(() => bye !== undefined, 'the BYE');
  });

  it('copies the INVITE\'s Record-Route into its 180 and 200, in order, so the caller keeps the proxies in the path', async () => {
    const a = await node(15);
    const c = await node(16);
    callee(c, (s) => {
      s.ring();
      s.accept(ANSWER);
    });
    const ringing = signal<SipResponse>();
    const ok = signal<SipResponse>();
    const rr = ['<sip:10.0.0.2;lr;ftag=r1>', '<sip:proxy-b.example;lr>, <sip:10.0.0.1:5070;lr>'];
    const invite = buildRequest({
      method: 'INVITE',
      uri: `sip:200@127.0.0.1:${c.port}`,
      headers: [['Via', 'SIP/2.0/UDP x;branch=z9hG4bKrr'], ['Record-Route', rr[0]], ['Record-Route', rr[1]], ['From', '<sip:100@127.0.0.1>;tag=r1'], ['To', '<sip:200@127.0.0.1>'], ['Call-ID', 'rr-call'], ['CSeq', '1 INVITE'], ['Contact', `<sip:100@127.0.0.1:${a.port}>`], ['Content-Type', 'application/sdp']],
      body: OFFER,
    });
    a.layer.sendRequest(invite, { onProvisional: (r) => r.status === 180 && ringing.resolve(r), onFinal: ok.resolve, onError: () => undefined });
    expect(getHeaders(await ringing.promise, 'Record-Route')).toEqual(rr);
    const final = await ok.promise;
    expect(final.status).toBe(200);
    expect(getHeaders(final, 'Record-Route')).toEqual(rr);
  });
});
