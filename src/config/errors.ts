/**
 * Problems found in a config file. A problem names the key path the user wrote ("account[0].expires") so that
 * `ata check-config` can point at it, and the line when the loader could find it in the source.
 */

export type ProblemSeverity = 'error' | 'warning';

export interface ConfigProblem {
  /** Key path as written in TOML terms: "sip.listen", "account[1].password_file", "" for the whole file. */
  path: string;
  message: string;
  /** 1-based source line, when known. */
  line?: number;
  /** Errors make the config unusable; warnings (a world-readable password file) do not. Default: error. */
  severity?: ProblemSeverity;
}

/** Thrown by code that needs a valid config and got problems instead (startup paths, not the validator itself). */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(`invalid config: ${problems.map(formatProblem).join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The form `ata check-config` prints: `path: message (line N)`. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? '(file)' : p.path;
  const line = p.line !== undefined ? ` (line ${p.line})` : '';
  const warn = p.severity === 'warning' ? 'warning: ' : '';
  return `${where}: ${warn}${p.message}${line}`;
}

export function isError(p: ConfigProblem): boolean {
  return p.severity !== 'warning';
}

/** Turns a zod-style path (["account", 0, "expires"]) into "account[0].expires". */
export function keyPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out;
}
