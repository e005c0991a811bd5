/**
 * Our Contact in a REGISTER and finding it again in the registrar's 200 (RFC 3261 sec. 10.2.4: the 200 lists all
 * bindings of the AOR, each with its own expires; ours is the one that counts). Lenient on purpose: the registrar's
 * Contact list is untrusted text, and a value we cannot read is simply not ours.
 */

export interface ContactAddress {
  /** IP or host name; IPv6 with or without brackets. */
  host: string;
  port: number;
  /** Transport parameter to put in the Contact URI ("udp" is left out, it is the default). */
  transport?: string;
}

function hostForUri(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The Contact URI for a user at an address, e.g. "sip:100@203.0.113.5:5060". */
export function contactUri(user: string, addr: ContactAddress): string {
  const t = addr.transport && addr.transport.toLowerCase() !== 'udp' ? `;transport=${addr.transport.toLowerCase()}` : '';
  return `sip:${encodeUser(user)}@${hostForUri(addr.host)}:${addr.port}${t}`;
}

/** Escapes what may not appear unescaped in a SIP user part (RFC 3261 sec. 25.1 "user"). */
function encodeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}

/** Contact header value: `<uri>` plus +sip.instance when an instance id is configured (RFC 5626 sec. 4.1). */
export function contactValue(uri: string, instanceId?: string, expires?: number): string {
  let v = `<${uri}>`;
  if (instanceId) v += `;+sip.instance="<${instanceId}>"`;
  if (expires !== undefined) v += `;expires=${expires}`;
  return v;
}

export interface ContactBinding {
  uri: string;
  params: Map<string, string | null>;
}

/** Splits Contact header values into bindings, honouring quotes and angle brackets. */
export function parseContactList(values: string[]): ContactBinding[] {
  const out: ContactBinding[] = [];
  for (const value of values) {
    let depthAngle = false;
    let inQuote = false;
    let start = 0;
    const pieces: string[] = [];
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      if (inQuote) {
        if (c === '\\') i++;
        else if (c === '"') inQuote = false;
      } else if (c === '"') inQuote = true;
      else if (c === '<') depthAngle = true;
      else if (c === '>') depthAngle = false;
      else if (c === ',' && !depthAngle) {
        pieces.push(value.slice(start, i));
        start = i + 1;
      }
    }
    pieces.push(value.slice(start));
    for (const raw of pieces) {
      const p = raw.trim();
      if (!p || p === '*') continue;
      let uri: string;
      let rest: string;
      const lt = p.indexOf('<');
      if (lt >= 0) {
        const gt = p.indexOf('>', lt);
        if (gt < 0) continue;
        uri = p.slice(lt + 1, gt).trim();
        rest = p.slice(gt + 1);
      } else {
        const semi = p.indexOf(';');
        uri = semi < 0 ? p : p.slice(0, semi);
        rest = semi < 0 ? '' : p.slice(semi);
      }
      const params = new Map<string, string | null>();
      for (const part of rest.split(';')) {
        const t = part.trim();
        if (!t) continue;
        const eq = t.indexOf('=');
        if (eq < 0) params.set(t.toLowerCase(), null);
        else params.set(t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim().replace(/^"|"$/g, ''));
      }
      out.push({ uri: uri.trim(), params });
    }
  }
  return out;
}

/** "user@host:port" of a sip/sips URI, lower-cased host, default port filled in; undefined when unreadable. */
function bindingKey(uri: string): string | undefined {
  const m = /^sips?:(?:([^@;?]*)@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(uri);
  if (!m) return undefined;
  const user = m[1] ? decodeURIComponentSafe(m[1]) : '';
  return `${user}@${m[2].toLowerCase()}:${m[3] ?? '5060'}`;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Seconds granted to our binding: the expires param of our own Contact (matched by instance id, else by
 * user@host:port), else the Expires header, else undefined.
 */
export function grantedExpires(contactValues: string[], expiresHeader: string | undefined, ourUri: string, instanceId?: string): number | undefined {
  const ourKey = bindingKey(ourUri);
  for (const b of parseContactList(contactValues)) {
    const inst = b.params.get('+sip.instance');
    const mine = instanceId && inst ? inst === `<${instanceId}>` : bindingKey(b.uri) === ourKey;
    if (!mine) continue;
    const e = b.params.get('expires');
    if (e && /^\d{1,10}$/.test(e)) return Number(e);
  }
  if (expiresHeader !== undefined && /^\s*\d{1,10}\s*$/.test(expiresHeader)) return Number(expiresHeader.trim());
  return undefined;
}
