// Builds hal/native (the media path's system calls, see hal/media-io.ts) with the node-gyp that comes with npm. Run by
// `npm run build`, so by `npm install`, `npm ci` and `npm test`.
//
// A machine with no C compiler (a Pi without build-essential) still gets a working adapter: the build is skipped with
// a warning and call media uses Node's own sockets and timers, at a higher CPU cost per call. Set
// PI_ATA_NATIVE=required (CI does) to make a failed build an error instead.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'hal', 'native');
const built = join(dir, 'build', 'Release', 'media_io.node');
const sources = ['media-io.c', 'precise-timer.c', 'precise-timer.h', 'pcm-pipe.c', 'pcm-pipe.h', 'fd-watch.c', 'fd-watch.h', 'arguments.c', 'arguments.h', 'wakeup-slice.c', 'wakeup-slice.h', 'binding.gyp'].map((f) => join(dir, f));
const required = process.env.PI_ATA_NATIVE === 'required';

const mtime = (f) => statSync(f).mtimeMs;
if (existsSync(built) && sources.every((s) => mtime(s) <= mtime(built))) process.exit(0);

// npm names its own node-gyp to the scripts it runs; run by hand, this looks where npm keeps it beside node.
const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = [process.env.npm_config_node_gyp, bundled].find((p) => p && existsSync(p));
// Node's own headers when they are installed beside it (Debian's nodejs, nodesource, the official tarballs), so that
// no download is needed; npm passes its `nodedir` setting itself.
const prefix = join(dirname(process.execPath), '..');
const localHeaders = !process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'));
const args = ['rebuild', '--directory', dir, '--loglevel=error', ...(localHeaders ? [`--nodedir=${prefix}`] : [])];
const r = gyp ? spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' }) : spawnSync('node-gyp', args, { stdio: 'inherit' });
if (r.status === 0) process.exit(0);
const why = r.error ? r.error.message : `node-gyp exited with ${r.status}`;
if (required) {
  console.error(`build-native: hal/native did not build (${why}) and PI_ATA_NATIVE=required`);
  process.exit(1);
}
console.warn(`build-native: hal/native did not build (${why}); call media will use Node's own sockets and timers.`);
console.warn('build-native: install a C compiler and make (Debian: sudo apt install build-essential python3) and run npm run build.');
