/**
 * Where the installed package lives and its version: the CLI finds config/default.toml there, and the agent
 * reports the version in GET /api/status. Works from src/ (tests) and from dist/src/ (installed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'pi-ata';

/** The nearest directory above this file holding our package.json; the working directory if none is found. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // not ours; keep climbing
      }
    }
    dir = dirname(dir);
  }
  return process.cwd();
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The config `npm start` and `ata run` use when neither --config nor ATA_CONFIG names one. */
export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.toml');
}
