/**
 * The seed's one-line account form, `uri = "sip:100:secret@sip.example.org:5060"`, expanded into the keys of an
 * [[account]] table. Kept because people paste such lines from provider sheets; the long form is the canonical
 * one and the two may not be mixed in one account.
 */

export interface ExpandedAccountUri {
  user: string;
  password: string;
  domain: string;
  registrar: string;
}

/** Keys that the uri form sets, so writing them beside `uri` is ambiguous. */
export const URI_FORM_KEYS = ['user', 'password', 'password_file', 'domain', 'registrar'] as const;

export type UriExpansion = { ok: true; value: ExpandedAccountUri } | { ok: false; message: string };

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export function expandAccountUri(uri: string): UriExpansion {
  const m = /^(sips?):(.*)$/i.exec(uri);
  if (!m) return { ok: false, message: `expected "sip:user:password@host[:port]", got a URI without sip: scheme` };
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  // A password may hold an unescaped "@"; the host never does, so the last "@" separates them.
  const at = rest.lastIndexOf('@');
  if (at < 0) return { ok: false, message: 'the URI has no "user:password@" part' };
  const userinfo = rest.slice(0, at);
  const hostport = rest.slice(at + 1);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { ok: false, message: 'the URI has no password ("sip:user:password@host")' };
  const user = decode(userinfo.slice(0, colon));
  const password = decode(userinfo.slice(colon + 1));
  if (user === undefined || password === undefined) return { ok: false, message: 'bad %-escape in user or password' };
  if (user === '') return { ok: false, message: 'the URI has an empty user' };
  if (password === '') return { ok: false, message: 'the URI has an empty password' };
  const hp = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(;.*)?$/.exec(hostport);
  if (!hp) return { ok: false, message: `"${hostport}" is not host[:port]` };
  const host = hp[1].toLowerCase();
  if (hp[2] !== undefined && Number(hp[2]) > 65535) return { ok: false, message: `port ${hp[2]} is above 65535` };
  const registrar = `${scheme}:${host}${hp[2] !== undefined ? `:${hp[2]}` : ''}${hp[3] ?? ''}`;
  return { ok: true, value: { user, password, domain: host, registrar } };
}
