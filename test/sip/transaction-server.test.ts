import { describe, expect, it } from 'vitest';
import { InviteServerTransaction, NonInviteServerTransaction } from '../../src/sip/server-transaction.js';
import type { SipResponse } from '../../src/sip/message.js';
import type { TransactionError } from '../../src/sip/transaction-error.js';
import { harness, makeRequest, makeResponse } from './transaction-fixtures.js';

const statuses = (h: ReturnType<typeof harness>) => h.sent.map((s) => `${s.at}:${(s.msg as SipResponse).status}`);

describe('INVITE server transaction', () => {
  it('sends 100 Trying by itself at 200 ms when the TU is silent', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    h.clock.advance(199);
    expect(h.sent).toHaveLength(0);
    h.clock.advance(1);
    expect(statuses(h)).toEqual(['200:100']);
    const trying = h.sent[0].msg as SipResponse;
    expect(trying.headers.find((x) => x.name === 'Via')?.value).toBe(invite.headers[0].value);
    expect(trying.headers.find((x) => x.name === 'CSeq')?.value).toBe('1 INVITE');
    expect(st.state).toBe('proceeding');
  });

  it('no automatic 100 when the TU answered first; INVITE retransmission resends the last provisional', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    h.clock.advance(50);
    st.respond(makeResponse(invite, 180));
    h.clock.advance(1000);
    st.receiveRequest(invite);
    expect(statuses(h)).toEqual(['50:180', '1050:180']);
  });

  it('INVITE retransmission before any provisional is answered with 100 at once', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    h.clock.advance(100);
    st.receiveRequest(invite);
    h.clock.advance(500);
    expect(statuses(h)).toEqual(['100:100']);
  });

  it('non-2xx: Timer G doubles to T2, ACK stops it, Timer I = T4 absorbs ACKs', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    st.respond(makeResponse(invite, 486));
    expect(st.state).toBe('completed');
    h.clock.advance(11_600);
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    st.receiveRequest(invite); // INVITE retransmission: final resent
    expect(h.sent).toHaveLength(7);
    expect(st.receiveAck(makeRequest('ACK'))).toBe('absorbed');
    expect(st.state).toBe('confirmed');
    st.receiveRequest(invite);
    expect(st.receiveAck(makeRequest('ACK'))).toBe('absorbed');
    h.clock.advance(4999);
    expect(st.state).toBe('confirmed');
    expect(h.sent).toHaveLength(7);
    h.clock.advance(1);
    expect(st.state).toBe('terminated');
    expect(h.clock.pending).toBe(0);
  });

  it('non-2xx never acknowledged: Timer H at 64*T1 reports no-ack', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    const errors: TransactionError[] = [];
    st.onError = (e) => errors.push(e);
    h.clock.advance(300);
    st.respond(makeResponse(invite, 404));
    h.clock.advance(31_999);
    expect(st.state).toBe('completed');
    h.clock.advance(1);
    expect(st.state).toBe('terminated');
    expect(errors.map((e) => e.failure)).toEqual(['no-ack']);
    const gaps = h.sent.slice(2).map((s, i) => s.at - h.sent[i + 1].at);
    expect(Math.max(...gaps)).toBe(4000);
  });

  it('2xx: Accepted absorbs INVITE retransmissions, lets TU 2xx retransmissions through, Timer L = 64*T1', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    const ok = makeResponse(invite, 200);
    expect(st.respond(ok)).toBe(true);
    expect(st.state).toBe('accepted');
    st.receiveRequest(invite);
    expect(h.sent).toHaveLength(1);
    expect(st.respond(ok)).toBe(true);
    expect(st.respond(makeResponse(invite, 500))).toBe(false);
    expect(st.receiveAck(makeRequest('ACK', { toTag: 'to9' }))).toBe('to-tu');
    h.clock.advance(31_999);
    expect(st.state).toBe('accepted');
    h.clock.advance(1);
    expect(st.state).toBe('terminated');
  });

  it('TCP: no final retransmission, Timer I is zero', () => {
    const h = harness(true);
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    st.respond(makeResponse(invite, 480));
    h.clock.advance(10_000);
    expect(h.sent).toHaveLength(1);
    st.receiveAck(makeRequest('ACK'));
    h.clock.advance(0);
    expect(st.state).toBe('terminated');
  });

  it('CANCEL reaches the TU only while proceeding', () => {
    const h = harness();
    const invite = makeRequest('INVITE');
    const st = new InviteServerTransaction(invite, h.ctx);
    let cancels = 0;
    st.onCancel = () => cancels++;
    st.receiveCancel(makeRequest('CANCEL'));
    st.respond(makeResponse(invite, 487));
    st.receiveCancel(makeRequest('CANCEL'));
    expect(cancels).toBe(1);
  });
});

describe('non-INVITE server transaction', () => {
  it('UDP: absorbs retransmissions in Trying, resends the final in Completed, Timer J = 64*T1', () => {
    const h = harness();
    const req = makeRequest('OPTIONS');
    const st = new NonInviteServerTransaction(req, h.ctx);
    st.receiveRequest(req);
    expect(h.sent).toHaveLength(0);
    st.respond(makeResponse(req, 100));
    expect(st.state).toBe('proceeding');
    st.receiveRequest(req);
    st.respond(makeResponse(req, 200));
    expect(st.state).toBe('completed');
    st.receiveRequest(req);
    expect(statuses(h)).toEqual(['0:100', '0:100', '0:200', '0:200']);
    expect(st.respond(makeResponse(req, 500))).toBe(false);
    h.clock.advance(31_999);
    expect(st.state).toBe('completed');
    h.clock.advance(1);
    expect(st.state).toBe('terminated');
  });

  it('TCP: Timer J is zero', () => {
    const h = harness(true);
    const req = makeRequest('BYE');
    const st = new NonInviteServerTransaction(req, h.ctx);
    st.respond(makeResponse(req, 200));
    h.clock.advance(0);
    expect(st.state).toBe('terminated');
  });

  it('a transport error before the final reports to the TU', () => {
    const h = harness();
    const st = new NonInviteServerTransaction(makeRequest('BYE'), h.ctx);
    const errors: TransactionError[] = [];
    st.onError = (e) => errors.push(e);
    st.transportError(new Error('EHOSTUNREACH'));
    expect(st.state).toBe('terminated');
    expect(errors.map((e) => e.failure)).toEqual(['transport']);
  });
});
