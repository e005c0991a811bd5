// Builds hal/native (the media thread's system calls, see hal/media-io.ts) with node-gyp, which npm puts on the PATH
// of its scripts. Run by `npm run build`, so by `npm install`, `npm ci` and `npm test`.
//
// A machine with no C compiler (a Pi without build-essential) still gets a working adapter: the build is skipped with
// a warning and the media thread uses Node's own sockets and timers, at about three times the CPU per call. Set
// PI_ATA_NATIVE=required (CI does) to make a failed build an error instead.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'hal', 'native');
const built = join(dir, 'build', 'Release', 'media_io.node');
const sources = ['media-io.c', 'binding.gyp'].map((f) => join(dir, f));
const required = process.env.PI_ATA_NATIVE === 'required';

const mtime = (f) => statSync(f).mtimeMs;
if (existsSync(built) && sources.every((s) => mtime(s) <= mtime(built))) process.exit(0);

const r = spawnSync('node-gyp', ['rebuild', '--directory', dir, '--silent'], { stdio: 'inherit', shell: process.platform === 'win32' });
if (r.status === 0) process.exit(0);
const why = r.error ? r.error.message : `node-gyp exited with ${r.status}`;
if (required) {
  console.error(`build-native: hal/native did not build (${why}) and PI_ATA_NATIVE=required`);
  process.exit(1);
}
console.warn(`build-native: hal/native did not build (${why}); the media thread will use Node's own sockets and timers.`);
console.warn('build-native: install a C compiler and make (Debian: sudo apt install build-essential python3) and run npm run build.');
