/**
 * Where calls go and whom we take them from: the parts of a commercial adapter's "SIP server" and dial plan
 * settings that turn a line's account and dialled digits into SIP addresses. Pure functions, apart from the DNS
 * lookup that names the proxy's addresses.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { AccountConfig } from '../config/schema.js';
import type { SipRequest, SipUri } from '../sip/message.js';
import { parseUri } from '../sip/uri.js';

/** Direct IP dialling from a keypad, stars for dots: 192*168*1*20, optionally *5062 for the port. */
const IP_DIALING = /^(\d{1,3})\*(\d{1,3})\*(\d{1,3})\*(\d{1,3})(?:\*(\d{1,5}))?$/;

/**
 * The Request-URI for what was dialled: a speed-dial's URI as it is, an IP address dialled with stars, else the
 * digits at the account's domain (# escaped); null when there is no account to send digits to.
 * A # that ends a number is the "dial now" key of the default plan's `xx.#`, as on commercial adapters, and is not
 * sent; in a feature code (starting with *, as `*72#`) it is part of the code and is.
 */
export function targetUri(target: { digits: string; uri?: string }, account: AccountConfig | undefined): string | null {
  if (target.uri) return target.uri;
  const digits = /^[0-9][0-9*]*#$/.test(target.digits) ? target.digits.slice(0, -1) : target.digits;
  const ip = IP_DIALING.exec(digits);
  if (ip && ip.slice(1, 5).every((o) => Number(o) <= 255)) return `sip:${ip.slice(1, 5).map(Number).join('.')}${ip[5] ? `:${Number(ip[5])}` : ''}`;
  if (!account) return null;
  return `sip:${digits.replace(/#/g, '%23')}@${account.domain}`;
}

/**
 * Calls go where registrations go, as a commercial adapter's single "SIP server" setting does: through the
 * outbound proxy, else through the registrar when it names another host or port than the domain (the one-line form
 * `uri = "sip:100:pw@host:5080"` registers at host:5080, and its calls must not go to host:5060).
 */
export function nextHopOf(account: AccountConfig | undefined): string | undefined {
  return account?.outbound_proxy ?? (account && account.registrar !== `sip:${account.domain}` ? account.registrar : undefined);
}

/** An IPv6 literal in brackets, as a URI host needs it. */
export function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A Route entry must be loose-routing (RFC 3261 16.12): add `;lr` when the configured URI lacks it. */
export function withLr(uri: string): string {
  return /;lr\b/i.test(uri) ? uri : `${uri};lr`;
}

/** The addresses a SIP URI's host stands for (itself when it is an address; none when it does not resolve). */
export async function addressesOf(uriText: string): Promise<string[]> {
  const u = parseUri(uriText);
  if (u.kind !== 'sip') return [];
  const host = (u as SipUri).host.replace(/^\[|\]$/g, '');
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/**
 * The line an incoming INVITE rings: the line of the account whose user is the Request-URI's user, else the first
 * line without an account (direct IP calls), else the first line.
 */
export function lineForRequest(req: SipRequest, accounts: ReadonlyArray<AccountConfig>, lineIds: readonly number[]): number | undefined {
  const user = req.uri.kind === 'sip' ? req.uri.user : undefined;
  const mine = accounts.find((a) => a.user === user);
  if (mine) return mine.line;
  const sorted = [...lineIds].sort((a, b) => a - b);
  return sorted.find((id) => !accounts.some((a) => a.line === id)) ?? sorted[0];
}

/**
 * For `accept_from = "proxy"`: whether a request came from the account's registrar or outbound proxy. Their names
 * are resolved once per account and remembered (a scanner's INVITE must not cost a DNS lookup each).
 */
export class ProxyAddresses {
  private readonly known = new Map<string, Promise<string[]>>();

  isFrom(account: AccountConfig, peer: string): Promise<boolean> {
    const key = `${account.registrar}|${account.outbound_proxy ?? ''}`;
    let addrs = this.known.get(key);
    if (!addrs) {
      addrs = Promise.all([account.registrar, account.outbound_proxy].filter((u): u is string => !!u).map(addressesOf)).then((l) => l.flat());
      this.known.set(key, addrs);
    }
    return addrs.then((list) => list.includes(peer));
  }
}
