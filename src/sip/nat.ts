import { isIP } from 'node:net';
import type { Via } from './message.js';

/**
 * Learning our public address from what servers say they saw (RFC 3581 `received` and `rport` in the top Via of
 * responses). The registration code rewrites its Contact when this reports a change.
 */

export type AddressScope = 'loopback' | 'link-local' | 'private' | 'public';

const SCOPE_RANK: Record<AddressScope, number> = { loopback: 0, 'link-local': 1, private: 2, public: 3 };

/** How far an IP literal reaches; undefined for something that is not an IP literal. */
export function addressScope(address: string): AddressScope | undefined {
  let ip = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v = isIP(ip);
  if (v === 0) return undefined;
  if (v === 6) {
    const lower = ip.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) ip = mapped[1];
    else {
      if (lower === '::1') return 'loopback';
      if (/^fe[89ab]/.test(lower)) return 'link-local';
      if (/^f[cd]/.test(lower)) return 'private'; // unique local fc00::/7
      if (lower === '::') return 'loopback'; // unspecified: never a believable public address
      return 'public';
    }
  }
  const [a, b] = ip.split('.').map(Number);
  if (a === 127 || a === 0) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) {
    return 'private'; // RFC 1918 and the RFC 6598 carrier-grade NAT range
  }
  return 'public';
}

export interface PublicAddress {
  host: string;
  port: number;
}

export type NatObservation = 'ignored' | 'unchanged' | 'changed';
export type NatState = 'unknown' | 'learned';

/**
 * One learner per local socket. Reports the first learned address and each later change once; repeated sightings
 * of the same address are 'unchanged'.
 *
 * Which `received` values to believe: a value is accepted only if it reaches at least as far as the address we
 * sent from (scope ranking loopback < link-local < private < public). Reasoning:
 * - local public, received private/loopback: no NAT can turn a public source into a private one; such a value
 *   comes from an ALG or a misconfigured proxy, and putting it in our Contact would make us unreachable. Ignore.
 * - local private, received public: the normal home-router NAT. Accept.
 * - local private, received private: a server on the LAN, or carrier-grade NAT (100.64/10) in front of us. For the
 *   server that sent it, that is the address it reaches us at. Accept.
 * - local loopback, received loopback: tests and a server on the same host. Accept, so loopback tests exercise the
 *   same path as the field.
 */
export class NatLearner {
  state: NatState = 'unknown';
  current: PublicAddress | undefined;

  constructor(private readonly onChange: (now: PublicAddress, previous: PublicAddress | undefined) => void) {}

  /** `via` is the top Via of a response to our request; `local` is the sent-by we wrote into that Via. */
  observe(via: Via, local: PublicAddress): NatObservation {
    const received = via.params.get('received');
    const rportText = via.params.get('rport');
    let host = local.host;
    if (received !== undefined && received !== null) {
      const scopeReceived = addressScope(received);
      if (scopeReceived === undefined) return 'ignored';
      const scopeLocal = addressScope(local.host) ?? 'public';
      if (SCOPE_RANK[scopeReceived] < SCOPE_RANK[scopeLocal]) return 'ignored';
      host = received.startsWith('[') ? received.slice(1, -1) : received;
    }
    let port = local.port;
    if (rportText !== undefined && rportText !== null) {
      if (!/^\d{1,5}$/.test(rportText)) return 'ignored';
      const p = Number(rportText);
      if (p < 1 || p > 65535) return 'ignored';
      port = p;
    }
    const prev = this.current;
    if (prev && prev.host === host && prev.port === port) return 'unchanged';
    this.current = { host, port };
    this.state = 'learned';
    this.onChange(this.current, prev);
    return 'changed';
  }
}
