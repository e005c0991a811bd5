import { describe, expect, it } from 'vitest';
import { NatLearner, addressScope, type PublicAddress } from '../../src/sip/nat.js';
import type { Via } from '../../src/sip/message.js';

function via(params: Record<string, string | null>): Via {
  return { protocol: 'SIP/2.0', transport: 'UDP', host: '192.168.1.20', port: 5060, params: new Map(Object.entries(params)) };
}

describe('address scope', () => {
  it('classifies loopback, link-local, private, CGNAT, ULA and public addresses', () => {
    expect(addressScope('127.0.0.1')).toBe('loopback');
    expect(addressScope('::1')).toBe('loopback');
    expect(addressScope('169.254.3.4')).toBe('link-local');
    expect(addressScope('fe80::1')).toBe('link-local');
    expect(addressScope('10.1.2.3')).toBe('private');
    expect(addressScope('172.20.0.1')).toBe('private');
    expect(addressScope('172.32.0.1')).toBe('public');
    expect(addressScope('100.64.0.1')).toBe('private');
    expect(addressScope('fd00::5')).toBe('private');
    expect(addressScope('::ffff:192.168.0.1')).toBe('private');
    expect(addressScope('203.0.113.9')).toBe('public');
    expect(addressScope('[2001:db8::1]')).toBe('public');
    expect(addressScope('example.org')).toBeUndefined();
  });
});

describe('NAT learner', () => {
  function learner() {
    const changes: Array<[PublicAddress, PublicAddress | undefined]> = [];
    return { changes, nat: new NatLearner((now, prev) => changes.push([now, prev])) };
  }
  const local = { host: '192.168.1.20', port: 5060 };

  it('learns received/rport, reports each change once', () => {
    const { nat, changes } = learner();
    expect(nat.observe(via({ branch: 'z9hG4bKa', received: '203.0.113.9', rport: '40000' }), local)).toBe('changed');
    expect(nat.observe(via({ branch: 'z9hG4bKb', received: '203.0.113.9', rport: '40000' }), local)).toBe('unchanged');
    expect(nat.observe(via({ branch: 'z9hG4bKc', received: '203.0.113.9', rport: '40001' }), local)).toBe('changed');
    expect(changes).toEqual([
      [{ host: '203.0.113.9', port: 40000 }, undefined],
      [{ host: '203.0.113.9', port: 40001 }, { host: '203.0.113.9', port: 40000 }],
    ]);
    expect(nat.state).toBe('learned');
  });

  it('without received/rport the server saw our own address', () => {
    const { nat, changes } = learner();
    nat.observe(via({ branch: 'z9hG4bKa', rport: null }), local);
    expect(changes[0][0]).toEqual(local);
  });

  it('ignores a private or loopback received when the local address is public', () => {
    const { nat, changes } = learner();
    const pub = { host: '198.51.100.7', port: 5060 };
    expect(nat.observe(via({ received: '10.0.0.8', rport: '5060' }), pub)).toBe('ignored');
    expect(nat.observe(via({ received: '127.0.0.1', rport: '5060' }), pub)).toBe('ignored');
    expect(nat.observe(via({ received: 'not-an-ip', rport: '5060' }), pub)).toBe('ignored');
    expect(nat.observe(via({ received: '198.51.100.7', rport: '99999' }), pub)).toBe('ignored');
    expect(changes).toEqual([]);
  });

  it('accepts loopback values when we send from loopback (tests, a server on the same host)', () => {
    const { nat, changes } = learner();
    expect(nat.observe(via({ received: '127.0.0.1', rport: '5070' }), { host: '127.0.0.1', port: 5062 })).toBe('changed');
    expect(changes[0][0]).toEqual({ host: '127.0.0.1', port: 5070 });
  });

  it('accepts a private received behind carrier-grade NAT (private local)', () => {
    const { nat } = learner();
    expect(nat.observe(via({ received: '100.64.3.3', rport: '1024' }), local)).toBe('changed');
  });
});
