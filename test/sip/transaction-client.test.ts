import { describe, expect, it } from 'vitest';
import { InviteClientTransaction, NonInviteClientTransaction } from '../../src/sip/client-transaction.js';
import { TransactionError } from '../../src/sip/transaction-error.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import { harness, makeRequest, makeResponse, runOut } from './transaction-fixtures.js';

function recorder() {
  const log: { provisional: SipResponse[]; final: SipResponse[]; errors: TransactionError[] } = { provisional: [], final: [], errors: [] };
  return {
    log,
    tu: {
      onProvisional: (r: SipResponse) => log.provisional.push(r),
      onFinal: (r: SipResponse) => log.final.push(r),
      onError: (e: TransactionError) => log.errors.push(e),
    },
  };
}

describe('INVITE client transaction (UDP)', () => {
  it('retransmits on Timer A doubling from T1 without a cap and times out on Timer B at 64*T1', () => {
    const h = harness();
    const { log, tu } = recorder();
    const tx = new InviteClientTransaction(makeRequest('INVITE'), h.ctx, tu);
    tx.start();
    runOut(h.clock);
    // 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s: intervals 500, 1000, ..., 16000 (RFC 3261 17.1.1.2, figure 5).
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(h.sent.every((s) => s.msg === tx.request)).toBe(true);
    expect(tx.state).toBe('terminated');
    expect(log.errors).toHaveLength(1);
    expect(log.errors[0].failure).toBe('timeout');
    expect(h.clock.now()).toBe(32_000);
  });

  it('a provisional stops retransmission and Timer B; the TU sees each provisional', () => {
    const h = harness();
    const { log, tu } = recorder();
    const req = makeRequest('INVITE');
    const tx = new InviteClientTransaction(req, h.ctx, tu);
    tx.start();
    h.clock.advance(600);
    tx.receiveResponse(makeResponse(req, 180));
    expect(tx.state).toBe('proceeding');
    h.clock.advance(120_000);
    expect(h.sent).toHaveLength(2);
    expect(tx.state).toBe('proceeding');
    expect(log.provisional.map((r) => r.status)).toEqual([180]);
    expect(log.errors).toEqual([]);
    expect(h.clock.pending).toBe(0);
  });

  it('non-2xx final: generates the ACK (same branch, To tag, Route), re-ACKs retransmissions, Timer D >= 32 s', () => {
    const h = harness();
    const { log, tu } = recorder();
    const req = makeRequest('INVITE', { route: ['<sip:proxy.example.org;lr>'] });
    const tx = new InviteClientTransaction(req, h.ctx, tu);
    tx.start();
    const busy = makeResponse(req, 486, 'busy7');
    tx.receiveResponse(busy);
    expect(tx.state).toBe('completed');
    expect(log.final.map((r) => r.status)).toEqual([486]);
    const ack = h.sent[1].msg as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe(req.uri);
    expect(ack.parsed.via).toHaveLength(1);
    expect(ack.parsed.via[0].params.get('branch')).toBe('z9hG4bKtest1');
    expect(ack.parsed.cseq).toEqual({ seq: 1, method: 'ACK' });
    expect(ack.parsed.to.params.get('tag')).toBe('busy7');
    expect(ack.headers.find((x) => x.name === 'To')?.value).toContain('tag=busy7');
    expect(ack.headers.filter((x) => x.name === 'Route').map((x) => x.value)).toEqual(['<sip:proxy.example.org;lr>']);
    expect(ack.headers.find((x) => x.name === 'CSeq')?.value).toBe('1 ACK');
    h.clock.advance(10_000);
    tx.receiveResponse(busy);
    expect(h.sent).toHaveLength(3);
    expect(h.sent[2].msg).toBe(ack);
    expect(log.final).toHaveLength(1); // retransmissions are absorbed
    h.clock.advance(21_999);
    expect(tx.state).toBe('completed');
    h.clock.advance(1);
    expect(tx.state).toBe('terminated');
  });

  it('2xx: Accepted state passes 2xx retransmissions to the TU until Timer M (RFC 6026)', () => {
    const h = harness();
    const { log, tu } = recorder();
    const req = makeRequest('INVITE');
    const tx = new InviteClientTransaction(req, h.ctx, tu);
    tx.start();
    tx.receiveResponse(makeResponse(req, 200));
    expect(tx.state).toBe('accepted');
    tx.receiveResponse(makeResponse(req, 200));
    tx.receiveResponse(makeResponse(req, 486)); // not a 2xx: ignored in Accepted
    expect(log.final.map((r) => r.status)).toEqual([200, 200]);
    expect(h.sent).toHaveLength(1); // no ACK from the transaction for a 2xx
    h.clock.advance(31_999);
    expect(tx.state).toBe('accepted');
    h.clock.advance(1);
    expect(tx.state).toBe('terminated');
  });

  it('on TCP: no retransmission, Timer D is zero', () => {
    const h = harness(true);
    const { tu } = recorder();
    const req = makeRequest('INVITE');
    const tx = new InviteClientTransaction(req, h.ctx, tu);
    tx.start();
    h.clock.advance(20_000);
    expect(h.sent).toHaveLength(1);
    tx.receiveResponse(makeResponse(req, 603));
    expect(tx.state).toBe('completed');
    h.clock.advance(0);
    expect(tx.state).toBe('terminated');
  });

  it('the CANCEL guard ends a proceeding INVITE after 64*T1 without a final', () => {
    const h = harness();
    const { log, tu } = recorder();
    const req = makeRequest('INVITE');
    const tx = new InviteClientTransaction(req, h.ctx, tu);
    tx.start();
    tx.receiveResponse(makeResponse(req, 180));
    h.clock.advance(5000);
    tx.cancelSent();
    h.clock.advance(31_999);
    expect(tx.state).toBe('proceeding');
    h.clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(log.errors.map((e) => e.failure)).toEqual(['timeout']);
  });

  it('a transport error ends the transaction with a typed error to the TU', () => {
    const h = harness();
    const { log, tu } = recorder();
    const tx = new InviteClientTransaction(makeRequest('INVITE'), h.ctx, tu);
    let ended = 0;
    tx.onTerminated = () => ended++;
    tx.start();
    tx.transportError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(tx.state).toBe('terminated');
    expect(log.errors[0]).toBeInstanceOf(TransactionError);
    expect(log.errors[0].failure).toBe('transport');
    expect(ended).toBe(1);
    expect(h.clock.pending).toBe(0);
  });
});

describe('non-INVITE client transaction', () => {
  it('UDP: Timer E doubles from T1 to the T2 cap, Timer F times out at 64*T1', () => {
    const h = harness();
    const { log, tu } = recorder();
    const tx = new NonInviteClientTransaction(makeRequest('REGISTER'), h.ctx, tu);
    tx.start();
    runOut(h.clock);
    const times = h.sent.map((s) => s.at);
    expect(times.slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(gaps).toEqual([500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000]);
    expect(tx.state).toBe('terminated');
    expect(log.errors.map((e) => e.failure)).toEqual(['timeout']);
    expect(h.clock.now()).toBe(32_000);
  });

  it('in Proceeding it retransmits every T2', () => {
    const h = harness();
    const { log, tu } = recorder();
    const req = makeRequest('BYE');
    const tx = new NonInviteClientTransaction(req, h.ctx, tu);
    tx.start();
    h.clock.advance(100);
    tx.receiveResponse(makeResponse(req, 100));
    expect(tx.state).toBe('proceeding');
    h.clock.advance(12_000);
    // sent at 0, then E fires at 500 (Proceeding: next interval T2) -> 4500, 8500
    expect(h.sent.map((s) => s.at)).toEqual([0, 500, 4500, 8500]);
    expect(log.provisional).toHaveLength(1);
  });

  it('final response: to the TU once, Timer K = T4 absorbs retransmissions (0 on TCP)', () => {
    for (const reliable of [false, true]) {
      const h = harness(reliable);
      const { log, tu } = recorder();
      const req = makeRequest('OPTIONS');
      const tx = new NonInviteClientTransaction(req, h.ctx, tu);
      tx.start();
      tx.receiveResponse(makeResponse(req, 200));
      tx.receiveResponse(makeResponse(req, 200));
      expect(log.final).toHaveLength(1);
      expect(tx.state).toBe(reliable ? 'completed' : 'completed');
      h.clock.advance(reliable ? 0 : 4999);
      expect(tx.state).toBe(reliable ? 'terminated' : 'completed');
      h.clock.advance(1);
      expect(tx.state).toBe('terminated');
      expect(h.sent).toHaveLength(1);
      expect(h.clock.pending).toBe(0);
    }
  });

  it('TCP: no retransmissions, Timer F still applies', () => {
    const h = harness(true);
    const { log, tu } = recorder();
    const tx = new NonInviteClientTransaction(makeRequest('REGISTER'), h.ctx, tu);
    tx.start();
    runOut(h.clock);
    expect(h.sent).toHaveLength(1);
    expect(log.errors.map((e) => e.failure)).toEqual(['timeout']);
  });

  it('a shorter T1 scales every timer', () => {
    const h = harness(false, { t1: 100, t2: 400, t4: 1000 });
    const { log, tu } = recorder();
    const tx = new NonInviteClientTransaction(makeRequest('REGISTER'), h.ctx, tu);
    tx.start();
    runOut(h.clock);
    expect(h.sent.map((s) => s.at).slice(0, 5)).toEqual([0, 100, 300, 700, 1100]);
    expect(h.clock.now()).toBe(6400);
    expect(log.errors).toHaveLength(1);
  });
});
