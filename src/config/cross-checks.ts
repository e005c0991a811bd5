/**
 * Checks that relate one key to another. They read the raw TOML data (not zod's output) so that they still run
 * when some unrelated value in the same table is wrong: the user sees every problem in one go.
 */
import type { ConfigProblem } from './errors.js';
import { URI_FORM_KEYS, expandAccountUri } from './account-uri.js';

type Table = Record<string, unknown>;

export function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * Replaces each account's `uri` by the keys it stands for, so the schema checks one form only. Returns the new
 * raw document (the input is not modified) and the problems of the uri values themselves.
 */
export function expandAccountUris(raw: Table): { raw: Table; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const accounts = raw.account;
  if (!Array.isArray(accounts)) return { raw, problems };
  const expanded = accounts.map((acc, i) => {
    if (!isTable(acc) || !('uri' in acc)) return acc;
    const { uri, ...rest } = acc;
    const path = `account[${i}].uri`;
    if (typeof uri !== 'string') {
      problems.push({ path, message: 'expected a string "sip:user:password@host[:port]"' });
      return rest;
    }
    for (const k of URI_FORM_KEYS.filter((key) => key in rest)) {
      problems.push({ path: `account[${i}].${k}`, message: `"${k}" is also set by "uri"; write one form or the other` });
    }
    const r = expandAccountUri(uri);
    if (!r.ok) {
      problems.push({ path, message: r.message });
      // Placeholder values keep the schema from adding "user is required" on top of the uri problem.
      return { ...rest, user: 'invalid', password: 'invalid', domain: 'invalid' };
    }
    return { ...rest, ...r.value };
  });
  return { raw: { ...raw, account: expanded }, problems };
}

function lineIds(raw: Table): number[] | undefined {
  if (raw.line === undefined) return [0];
  if (!Array.isArray(raw.line)) return undefined;
  return raw.line.map((l) => (isTable(l) && typeof l.id === 'number' ? l.id : NaN));
}

export function crossCheck(raw: Table): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ids = lineIds(raw);
  if (ids) {
    const seen = new Map<number, number>();
    ids.forEach((id, i) => {
      if (Number.isNaN(id)) return;
      const first = seen.get(id);
      if (first !== undefined) problems.push({ path: `line[${i}].id`, message: `line id ${id} is already used by line[${first}]` });
      else seen.set(id, i);
    });
  }
  if (Array.isArray(raw.line)) {
    raw.line.forEach((l, i) => {
      // A delay for a hotline that is not there is a half-finished edit, not a choice: say so.
      if (isTable(l) && l.hotline_delay_s !== undefined && l.hotline === undefined) {
        problems.push({ path: `line[${i}].hotline_delay_s`, message: 'needs hotline = "sip:..." in the same [[line]]' });
      }
    });
  }
  const accounts = Array.isArray(raw.account) ? raw.account : [];
  const lineOwner = new Map<number, number>();
  accounts.forEach((acc, i) => {
    if (!isTable(acc)) return;
    const hasPw = acc.password !== undefined;
    const hasFile = acc.password_file !== undefined;
    if (hasPw && hasFile) {
      problems.push({ path: `account[${i}].password_file`, message: 'give password or password_file, not both' });
    } else if (!hasPw && !hasFile) {
      problems.push({ path: `account[${i}].password`, message: 'missing: give password, password_file or uri' });
    }
    const line = acc.line === undefined ? 0 : acc.line;
    if (typeof line !== 'number' || !Number.isInteger(line)) return;
    if (ids && !ids.includes(line)) {
      const known = [...new Set(ids.filter((x) => !Number.isNaN(x)))];
      problems.push({ path: `account[${i}].line`, message: `no [[line]] has id ${line} (lines: ${known.join(', ') || 'none'})` });
    }
    const owner = lineOwner.get(line);
    if (owner !== undefined) problems.push({ path: `account[${i}].line`, message: `line ${line} already has account[${owner}]` });
    else lineOwner.set(line, i);
  });
  return problems;
}
