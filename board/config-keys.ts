import { isAbsolute, resolve } from 'node:path';
import { BoardConfigError } from '../hal/errors.js';
import type { BoardConfig } from './types.js';

/** Readers for `[board]` keys: every value is untrusted TOML, so each type is checked and named on failure. */
export function optString(cfg: BoardConfig, key: string): string | undefined {
  const v = cfg[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new BoardConfigError(`board.${key}`, v, 'must be a non-empty string');
  return v;
}

export function optInt(cfg: BoardConfig, key: string, min: number, max: number): number | undefined {
  const v = cfg[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new BoardConfigError(`board.${key}`, typeof v === 'bigint' ? Number(v) : v, `must be an integer from ${min} to ${max}`);
  }
  return n;
}

export function optChoice<T extends string>(cfg: BoardConfig, key: string, choices: readonly T[]): T | undefined {
  const v = cfg[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new BoardConfigError(`board.${key}`, v, `must be one of ${choices.join(', ')}`);
  }
  return v as T;
}

export function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

/** `phone-ear.wav` for line 0, `phone-ear-1.wav` for line 1: one file per simulated phone. */
export function perLinePath(path: string, lineId: number): string {
  if (lineId === 0) return path;
  const dot = path.lastIndexOf('.');
  const slash = path.lastIndexOf('/');
  return dot > slash ? `${path.slice(0, dot)}-${lineId}${path.slice(dot)}` : `${path}-${lineId}`;
}
