/**
 * Validates a parsed TOML document against the schema and the cross-key rules, turning every zod issue into a
 * ConfigProblem with a key path. No file access here: see load.ts.
 */
import type * as z from 'zod';
import { ataConfigSchema, knownKeys } from './schema.js';
import { crossCheck, expandAccountUris, isTable } from './cross-checks.js';
import { type ConfigProblem, isError, keyPath } from './errors.js';
import { editDistance } from './value-syntax.js';

export type ParsedConfig = z.output<typeof ataConfigSchema>;

export type Validation = { ok: true; config: ParsedConfig; problems: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

function suggest(unknown: string, known: string[] | undefined): string {
  if (!known) return '';
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(unknown.toLowerCase(), k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

function issueToProblems(issue: z.core.$ZodIssue, raw: Record<string, unknown>): ConfigProblem[] {
  const path = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const table = issue.path.filter((s) => typeof s !== 'number').map(String).join('.');
    const boardType = isTable(raw.board) && typeof raw.board.type === 'string' ? raw.board.type : undefined;
    const known = knownKeys(table, boardType);
    const where = table === 'board' && boardType ? ` for board type ${boardType}` : '';
    return issue.keys.map((k) => ({
      path: keyPath([...issue.path, k]),
      message: `unknown key${where}${suggest(k, known)}`,
    }));
  }
  if (issue.code === 'invalid_union' && path === 'board') {
    return [{ path: 'board.type', message: issue.message }];
  }
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) {
    return [{ path, message: 'required key is missing' }];
  }
  return [{ path, message: issue.message.replace(/^Invalid input: /, '') }];
}

export function validateConfig(input: unknown): Validation {
  if (!isTable(input)) return { ok: false, problems: [{ path: '', message: 'the config must be a TOML table' }] };
  const { raw, problems } = expandAccountUris(input);
  const result = ataConfigSchema.safeParse(raw);
  if (!result.success) for (const issue of result.error.issues) problems.push(...issueToProblems(issue, raw));
  problems.push(...crossCheck(raw));
  // One fault can surface through two checks (e.g. a missing password); say it once.
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.path}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (!result.success || unique.some(isError)) return { ok: false, problems: unique };
  return { ok: true, config: result.data, problems: unique };
}
