/**
 * scripts/build-native.mjs on a machine with no working C compiler, for real: node-gyp configures and make fails
 * (CC=/bin/false). Run on a copy of the script and of hal/native in a temporary folder, so that the module the
 * other test files load is never touched. Then the loader (hal/media-io.ts, compiled) is asked, from that folder,
 * what it found: the fallback a user without build-essential gets.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'pi-ata-native-build-'));
  mkdirSync(join(copy, 'scripts'));
  mkdirSync(join(copy, 'hal', 'native'), { recursive: true });
  copyFileSync(join(repo, 'scripts', 'build-native.mjs'), join(copy, 'scripts', 'build-native.mjs'));
  for (const f of readdirSync(join(repo, 'hal', 'native'))) {
    if (/\.(c|h|gyp)$/.test(f)) copyFileSync(join(repo, 'hal', 'native', f), join(copy, 'hal', 'native', f));
  }
  // The compiled loader, which looks for the module beside itself: the build step of the suite made dist/.
  copyFileSync(join(repo, 'dist', 'hal', 'media-io.js'), join(copy, 'hal', 'media-io.js'));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

function build(nativeSetting: string) {
  return spawnSync(process.execPath, [join(copy, 'scripts', 'build-native.mjs')], {
    env: { ...process.env, CC: '/bin/false', PI_ATA_NATIVE: nativeSetting },
    encoding: 'utf8',
    timeout: 120_000,
  });
}

describe('building hal/native without a C compiler', () => {
  it('warns, names the Debian packages to install, exits 0 and leaves no module; the loader then says it is not built', () => {
    const r = build('');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("hal/native did not build");
    expect(r.stderr).toContain('sudo apt install build-essential python3');
    expect(existsSync(join(copy, 'hal', 'native', 'build', 'Release', 'media_io.node'))).toBe(false);
    const loader = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(copy, 'hal', 'media-io.js'))}); console.log(JSON.stringify({ loaded: m.mediaIo !== undefined, missing: m.mediaIoMissing }));`], {
      env: { ...process.env, PI_ATA_NATIVE: '' },
      encoding: 'utf8',
    });
    const found = JSON.parse(loader.stdout) as { loaded: boolean; missing: string };
    expect(found.loaded).toBe(false);
    expect(found.missing).toMatch(/^not built \(.*media_io\.node is missing: npm run build needs a C compiler\)$/);
  });

  it('with PI_ATA_NATIVE=required (as CI sets it) the same failure exits 1', () => {
    const r = build('required');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('PI_ATA_NATIVE=required');
  });
});
