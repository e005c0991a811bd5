#!/usr/bin/env node
// Runs every scripts/bench/*.bench.mjs in its own process, one after another (so one benchmark's garbage and JIT
// state do not colour the next), and passes their lines through. `npm run bench -- g711` runs only matching files.
// Each runs with TMPDIR set to a directory of its own, removed when it ends, so the FIFOs, captures and baresip
// homes the benches make (with os.tmpdir()) do not pile up in /tmp.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs') && (!filter || f.includes(filter)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`# ${f}`);
  const tmp = mkdtempSync(join(tmpdir(), 'pi-ata-bench-'));
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], { stdio: 'inherit', env: { ...process.env, TMPDIR: tmp } });
  rmSync(tmp, { recursive: true, force: true });
  if (r.status !== 0) {
    failed++;
    console.log(`# ${f} exited with ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
