/**
 * A real SIP peer for scenarios baresip cannot play (early media, a late offer): SIPp from Debian's sip-tester,
 * running one of test/fixtures/sipp/*.xml for one call. The scenarios stream `far.ul` (raw mu-law, made here by
 * sox) from SIPp's working directory with rtp_stream. SIPp exits 0 when its call went through the whole scenario.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './agent-process.js';
import { freeUdpPort } from './kamailio.js';

export const SIPP_BIN = '/usr/bin/sipp';

export interface SippOptions {
  /** File name under test/fixtures/sipp. */
  scenario: string;
  /** Working directory: the scenario and far.ul are put there. */
  dir: string;
  sipPort: number;
  /** The tone SIPp streams (Hz). */
  toneHz: number;
  /** For a UAC scenario: where to send the INVITE (host:port) and the user part of its Request-URI. */
  remote?: string;
  service?: string;
}

export interface Sipp {
  /** Resolves with SIPp's exit code. */
  exit: Promise<number | null>;
  output(): string;
  kill(): void;
}

export async function startSipp(o: SippOptions): Promise<Sipp> {
  if (!existsSync(SIPP_BIN)) throw new Error(`${SIPP_BIN} is missing: apt-get install sip-tester (.ci/run does)`);
  const sox = spawnSync('sox', ['-D', '-n', '-r', '8000', '-c', '1', '-e', 'mu-law', '-t', 'raw', join(o.dir, 'far.ul'), 'synth', '10', 'sine', String(o.toneHz), 'vol', '0.3']);
  if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr}`);
  copyFileSync(join(REPO, 'test/fixtures/sipp', o.scenario), join(o.dir, o.scenario));
  const mediaPort = await freeUdpPort();
  const args = ['-sf', o.scenario, '-i', '127.0.0.1', '-p', String(o.sipPort), '-mi', '127.0.0.1', '-mp', String(mediaPort), '-m', '1', '-nostdin', '-trace_err'];
  if (o.service) args.push('-s', o.service);
  if (o.remote) args.push(o.remote);
  const p = spawn(SIPP_BIN, args, { cwd: o.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => void (out = (out + d.toString()).slice(-4000));
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  const exit = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  return { exit, output: () => out, kill: () => void (p.exitCode === null && p.kill('SIGKILL')) };
}
