/**
 * Runs the agent the way a user does: `node dist/src/cli.js run --config FILE` as a child process (npm test builds
 * dist/ first). Its pino log lines (JSON) are collected so tests can wait for events instead of sleeping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO, 'dist/src/cli.js');

export interface LogLine {
  msg?: string;
  level?: number;
  [k: string]: unknown;
}

export class AgentProcess {
  readonly dir: string;
  readonly configPath: string;
  readonly lines: LogLine[] = [];
  stderr = '';
  private proc: ChildProcess | undefined;
  private exit: Promise<number | null> | undefined;
  private waiters: Array<() => void> = [];

  /** `env` is added to this process's environment for the agent (PI_ATA_NATIVE=off, say). */
  constructor(configToml: string, private readonly env: Record<string, string> = {}) {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm test builds it (tsc) before running the tests`);
    this.dir = mkdtempSync(join(tmpdir(), 'ata-agent-'));
    this.configPath = join(this.dir, 'ata.toml');
    writeFileSync(this.configPath, configToml);
  }

  start(): void {
    const proc = spawn(process.execPath, [CLI, 'run', '--config', this.configPath], { cwd: this.dir, env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ msg: line });
        }
        for (const w of this.waiters.splice(0)) w();
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exit = new Promise((res) => proc.on('exit', (code) => {
      for (const w of this.waiters.splice(0)) w();
      res(code);
    }));
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Resolves with the first log line matching `pred`; rejects after `ms` (a bound on failure, not a wait). */
  waitForLog(pred: (l: LogLine) => boolean, ms = 10_000): Promise<LogLine> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no such log line within ${ms} ms; last lines:\n${this.tail()}`)), ms);
      const check = (): void => {
        const hit = this.lines.find(pred);
        if (hit) {
          clearTimeout(timer);
          res(hit);
        } else if (!this.running && this.proc) {
          clearTimeout(timer);
          rej(new Error(`agent exited (${this.proc.exitCode}); stderr:\n${this.stderr}\n${this.tail()}`));
        } else this.waiters.push(check);
      };
      check();
    });
  }

  tail(n = 15): string {
    return this.lines.slice(-n).map((l) => JSON.stringify(l)).join('\n');
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async terminate(): Promise<number | null> {
    if (!this.proc || !this.exit) return null;
    if (this.running) this.proc.kill('SIGTERM');
    return this.exit;
  }

  kill(): void {
    if (this.running) this.proc?.kill('SIGKILL');
  }
}
