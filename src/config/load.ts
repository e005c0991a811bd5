/**
 * Reads a config file: size and encoding guards, TOML parsing, schema validation, then the parts that need the
 * file system (password files, paths relative to the config file). Every problem is collected; nothing throws.
 */
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { ConfigProblem } from './errors.js';
import { isError } from './errors.js';
import { indexKeyLines, lineOf } from './source-lines.js';
import { validateConfig, type ParsedConfig } from './validate.js';
import type { AccountConfig, AtaConfig } from './schema.js';

/** A config is a few kilobytes; anything this big is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
export const MAX_PASSWORD_FILE_BYTES = 4096;
const MAX_TOML_DEPTH = 16;

export type LoadResult = { ok: true; config: AtaConfig; problems: ConfigProblem[] } | { ok: false; problems: ConfigProblem[] };

function fail(message: string, line?: number): LoadResult {
  return { ok: false, problems: [{ path: '', message, ...(line !== undefined ? { line } : {}) }] };
}

/** Reads at most `limit + 1` bytes, so a device file or a huge file cannot exhaust memory. */
function readBounded(path: string, limit: number): Buffer | string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return `cannot open ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return `${path} is a directory`;
    if (st.isFile() && st.size > limit) return `${path} is ${st.size} bytes; the limit is ${limit}`;
    const buf = Buffer.alloc(limit + 1);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > limit) return `${path} is larger than the limit of ${limit} bytes`;
    return buf.subarray(0, got);
  } catch (e) {
    return `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  } finally {
    closeSync(fd);
  }
}

export function loadConfig(path: string): LoadResult {
  const abs = resolve(path);
  const bytes = readBounded(abs, MAX_CONFIG_BYTES);
  if (typeof bytes === 'string') return fail(bytes);
  const r = loadConfigBytes(bytes, dirname(abs));
  if (r.ok) r.config.source = abs;
  return r;
}

/** Validates config text as if it were a file in `baseDir` (relative paths resolve against it). */
export function loadConfigBytes(bytes: Uint8Array, baseDir: string): LoadResult {
  if (bytes.length > MAX_CONFIG_BYTES) return fail(`config is ${bytes.length} bytes; the limit is ${MAX_CONFIG_BYTES}`);
  if (bytes.includes(0)) return fail('config holds NUL bytes: this is a binary file, not TOML');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('config is not valid UTF-8');
  }
  return loadConfigText(text, baseDir);
}

export function loadConfigText(text: string, baseDir: string): LoadResult {
  let doc: unknown;
  try {
    doc = parseToml(text, { maxDepth: MAX_TOML_DEPTH });
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      return fail(`TOML syntax: ${first} (column ${e.column})`, e.line);
    }
    return fail(`TOML syntax: ${String(e)}`);
  }
  const v = validateConfig(doc);
  const index = indexKeyLines(text);
  // In file order, so the list reads top to bottom like the file.
  const withLines = (ps: ConfigProblem[]): ConfigProblem[] =>
    ps
      .map((p) => {
        const line = p.line ?? lineOf(index, p.path);
        return line !== undefined ? { ...p, line } : p;
      })
      .sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  if (!v.ok) return { ok: false, problems: withLines(v.problems) };
  const problems = [...v.problems];
  const config = resolveFiles(v.config, baseDir, problems);
  if (problems.some(isError)) return { ok: false, problems: withLines(problems) };
  return { ok: true, config, problems: withLines(problems) };
}

function resolveFrom(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

function readPasswordFile(file: string, path: string, problems: ConfigProblem[]): string {
  try {
    const st = statSync(file);
    if ((st.mode & 0o004) !== 0) {
      problems.push({ path, severity: 'warning', message: `${file} is world-readable; chmod 600 it` });
    }
  } catch {
    // The read below reports it.
  }
  const bytes = readBounded(file, MAX_PASSWORD_FILE_BYTES);
  if (typeof bytes === 'string') {
    problems.push({ path, message: bytes });
    return '';
  }
  // Editors add a final newline; a password never ends in one.
  const pw = Buffer.from(bytes).toString('utf8').replace(/\r?\n$/, '');
  if (pw === '') problems.push({ path, message: `${file} is empty` });
  else if (/[\x00-\x1f\x7f]/.test(pw)) problems.push({ path, message: `${file} holds control characters or several lines` });
  return pw;
}

function resolveFiles(parsed: ParsedConfig, baseDir: string, problems: ConfigProblem[]): AtaConfig {
  const account: AccountConfig[] = parsed.account.map((a, i) => {
    if (a.password !== undefined) return { ...a, password: a.password };
    const file = resolveFrom(baseDir, a.password_file ?? '');
    return { ...a, password_file: file, password: readPasswordFile(file, `account[${i}].password_file`, problems) };
  });
  let board = parsed.board;
  if (board.type === 'sim') {
    const runDir = board.run_dir !== undefined ? resolve(board.run_dir) : baseDir;
    board = {
      ...board,
      ...(board.run_dir !== undefined ? { run_dir: runDir } : {}),
      ...(board.audio_in !== undefined ? { audio_in: resolveFrom(runDir, board.audio_in) } : {}),
      ...(board.audio_out !== undefined ? { audio_out: resolveFrom(runDir, board.audio_out) } : {}),
    };
    if (board.audio_in !== undefined) {
      try {
        accessSync(board.audio_in, constants.R_OK);
      } catch (e) {
        problems.push({ path: 'board.audio_in', message: `cannot read ${board.audio_in}: ${(e as NodeJS.ErrnoException).code}` });
      }
    }
  }
  const log = parsed.log.sip_trace !== undefined ? { ...parsed.log, sip_trace: resolveFrom(baseDir, parsed.log.sip_trace) } : parsed.log;
  return { ...parsed, account, board, log };
}
