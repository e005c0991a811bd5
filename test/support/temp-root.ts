/**
 * vitest globalSetup: every test file's temporary files go under one directory made for the run, and the run
 * removes it at the end. Tests and the processes they start (the agent, baresip, Kamailio, arecord) make their
 * directories with os.tmpdir(), which reads TMPDIR; the workers are forked after this runs and inherit it. Without
 * this each `npm test` left about 80 directories behind in /tmp, which on a Pi is often a RAM-backed tmpfs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const previous = process.env.TMPDIR;
  const root = mkdtempSync(join(tmpdir(), 'pi-ata-test-'));
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
