/**
 * `ata` run as a real child process: src/cli.ts is compiled with the project's tsc (its own out dir under
 * node_modules/.cache, so it does not race others' builds of dist/) and run with node, as the installed bin runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { createLogger } from '../../src/log.js';
import { FakeControl } from '../api/fake-control.js';

const root = resolve('.');
const cache = join(root, 'node_modules/.cache/ata-cli-test');
const out = join(cache, 'out');
const cli = join(out, 'src/cli.js');
const work = mkdtempSync(join(tmpdir(), 'ata-cli-'));

function ata(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ATA_API: '', ATA_CONFIG: '', ...env }, timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  mkdirSync(cache, { recursive: true });
  writeFileSync(
    join(cache, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: { outDir: './out', rootDir: '../../..', declaration: false, sourceMap: false, noEmitOnError: false },
      files: ['../../../src/cli.ts'],
      include: [],
    }),
  );
  // tsc exits non-zero while src/agent.ts is still to be written; it emits all the same.
  spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(cache, 'tsconfig.json')], { encoding: 'utf8' });
  if (!existsSync(cli)) throw new Error(`tsc did not emit ${cli}`);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ata check-config', () => {
  test('a valid file prints "ok" and exits 0', () => {
    const r = ata(['check-config', 'config/ata.example.toml']);
    expect(r).toMatchObject({ code: 0, stdout: 'ok\n' });
  });

  test('an invalid file prints every problem as "path: message (line N)" and exits 1', () => {
    const bad = join(work, 'bad.toml');
    writeFileSync(bad, '[sip]\nlisen = "x"\n[media]\nptime = 25\n[[account]]\nuser = "1"\ndomain = "d.org"\n');
    const r = ata(['check-config', bad]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      'sip.lisen: unknown key (did you mean "listen"?) (line 2)',
      'media.ptime: ptime must be a multiple of 10 ms (line 4)',
      'account[0].password: missing: give password, password_file or uri (line 5)',
      `3 problems in ${bad}`,
    ]);
  });

  test('a TOML syntax error reports its line', () => {
    const bad = join(work, 'syntax.toml');
    writeFileSync(bad, '[sip]\nlisten = \n');
    const r = ata(['check-config', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^\(file\): TOML syntax: .* \(line 2\)$/m);
  });

  test('a warning (world-readable password file) is printed and the file is still ok', () => {
    writeFileSync(join(work, 'pw'), 'secret', { mode: 0o644 });
    const cfg = join(work, 'warn.toml');
    writeFileSync(cfg, '[[account]]\nuser = "1"\ndomain = "d.org"\npassword_file = "pw"\n');
    const r = ata(['check-config', cfg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^account\[0\]\.password_file: warning: .*world-readable.* \(line 4\)\nok\n$/);
    expect(r.stdout + r.stderr).not.toContain('secret\n');
  });

  test('without FILE it is a usage error (exit 2)', () => {
    expect(ata(['check-config']).code).toBe(2);
  });
});

describe('ata --help, --version, bad usage', () => {
  test('--version prints the package version', () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(ata(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  test('--help lists every command', () => {
    const r = ata(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['run', 'check-config', 'status', 'phone offhook|onhook|flash', 'phone dial DIGITS']) expect(r.stdout).toContain(c);
  });

  test.each([[['frobnicate']], [['status', '--bogus']], [['phone', 'dial']], [['phone', 'offhook', '--line', 'x']], [[]]])(
    'usage error %j exits 2',
    (args) => {
      const r = ata(args);
      expect(r.code).toBe(2);
      expect(r.stderr.length).toBeGreaterThan(0);
    },
  );
});

describe('ata status and ata phone against a real API server (fake AgentControl of our seam)', () => {
  const control = new FakeControl();
  let api: ApiServer;
  beforeAll(async () => {
    api = await startApiServer(control, { listen: { host: '127.0.0.1', port: 0 }, log: createLogger({ level: 'silent' }) });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    control.actions.length = 0;
    control.board = 'sim';
  });

  // spawnSync would block this process's event loop, which serves the API: run the child asynchronously.
  function ataAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ATA_API: '', ATA_CONFIG: '', ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => done({ code, stdout, stderr }));
    });
  }

  test('status prints registration and lines readably', async () => {
    const r = await ataAsync(['status', '--api', api.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'pi-ata 0.1.0, up 1h02m05s',
        'accounts:',
        '  line 0  sip:100@sip.example.org  registered, expires in 3412 s',
        'lines:',
        '  line 0  off hook  connected  to sip:200@sip.example.org, PCMU, 1m15s  (loss 2/3750, jitter 1.4 ms, rtt 0.8 ms)',
        '  line 1  on hook   idle  voicemail waiting (2 new, 8 old)',
        '',
      ].join('\n'),
    );
  });

  test('ATA_API names the agent too', async () => {
    expect((await ataAsync(['status'], { ATA_API: api.url })).code).toBe(0);
  });

  test('the API address comes from --config when no URL is given', async () => {
    const cfg = join(work, 'api.toml');
    writeFileSync(cfg, `[api]\nlisten = "0.0.0.0:${api.address.port}"\n`);
    expect((await ataAsync(['status', '--config', cfg])).code).toBe(0);
  });

  test('phone offhook, dial, flash, onhook reach the line', async () => {
    for (const args of [['offhook'], ['dial', '200#'], ['dial', '4711', '--pulse', '--line', '1'], ['flash'], ['onhook']]) {
      const r = await ataAsync(['phone', ...args, '--api', api.url]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(control.actions).toEqual(['hook 0 off', 'dial 0 200# dtmf', 'dial 1 4711 pulse', 'hook 0 flash', 'hook 0 on']);
  });

  test('phone on a board that is not sim: exit 1 with the 409 reason', async () => {
    control.board = 'ag1171';
    const r = await ataAsync(['phone', 'offhook', '--api', api.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(409)');
    expect(r.stderr).toContain('not sim');
  });

  test('status with no agent listening: exit 1 saying so', async () => {
    const r = await ataAsync(['status', '--api', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the agent');
  });
});

describe('ata run (a stand-in agent module of our seam replaces src/agent.js in the private build)', () => {
  const STANDIN = `
export async function startAgent(config, { log, trace }) {
  log.info({ board: config.board.type, accounts: config.account.length }, 'stand-in agent started');
  trace.record({ direction: 'out', peer: '127.0.0.1:5070', transport: 'udp', time: Date.now(),
    text: 'REGISTER sip:x SIP/2.0\\r\\nAuthorization: Digest username="1", response="d41d8cd98f00b204"\\r\\n\\r\\n' });
  return {
    control: {
      status: () => ({ version: 'stand-in', uptime_s: 0, accounts: [], lines: [] }),
      calls: () => [],
      sipTrace: (limit) => trace.render(limit),
      hook: () => {},
      dial: () => {},
    },
    stop(reason) {
      log.info({ reason }, 'stand-in stop');
      return process.env.STANDIN_STOP === 'hang' ? new Promise(() => {}) : Promise.resolve();
    },
  };
}
`;
  beforeAll(() => writeFileSync(join(out, 'src/agent.js'), STANDIN));

  function startRun(cfg: string, env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [cli, 'run'], { env: { ...process.env, ATA_CONFIG: cfg, ...env } });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const listening = new Promise<string>((found, failed) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /"listen":"([^"]+)","msg":"api listening"/.exec(stdout);
        if (m) found(`http://${m[1]}`);
      });
      child.on('close', () => failed(new Error(`ata run ended early: ${stdout}${stderr}`)));
    });
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    return { child, listening, exited, output: () => stdout + stderr };
  }

  function writeConfig(name: string): { cfg: string; trace: string } {
    const cfg = join(work, name);
    writeFileSync(cfg, '[sip]\nlisten = "127.0.0.1:0"\n[api]\nlisten = "127.0.0.1:0"\n[log]\nlevel = "info"\nsip_trace = "run-trace.log"\n');
    return { cfg, trace: join(work, 'run-trace.log') };
  }

  test('ATA_CONFIG names the config; the API serves the agent; SIGTERM stops it and exits 0', async () => {
    const { cfg, trace } = writeConfig('run.toml');
    const run = startRun(cfg);
    const url = await run.listening;
    const text = await (await fetch(`${url}/api/sip-trace`)).text();
    expect(text).toContain('--- ');
    expect(text).toContain('response="<redacted>"');
    expect(text).not.toContain('d41d8cd98f00b204');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/"reason":"SIGTERM","msg":"stand-in stop"/);
    expect(run.output()).toContain('"msg":"stopped"');
    expect(readFileSync(trace, 'latin1')).toMatch(/^--- \S+Z out udp 127\.0\.0\.1:5070 ---\nREGISTER sip:x SIP\/2\.0\r\n/);
  });

  test('an agent whose stop never finishes is abandoned at the deadline, still exit 0', async () => {
    const { cfg } = writeConfig('hang.toml');
    const run = startRun(cfg, { STANDIN_STOP: 'hang' });
    await run.listening;
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('stop deadline passed');
  });

  test('an invalid config refuses to start: problems on stderr, exit 1', async () => {
    const cfg = join(work, 'run-bad.toml');
    writeFileSync(cfg, '[media]\nptime = 25\n');
    const r = ata(['run', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('media.ptime: ptime must be a multiple of 10 ms (line 2)');
    expect(r.stderr).toContain('cannot start');
  });
});

describe('the bin as the README runs it', () => {
  // `npm test` builds dist/ first; `npx ata` then runs package.json's bin, which must be executable (it failed with
  // "Permission denied" on a fresh clone before the build set the mode).
  test('npx ata --help runs the built bin from the checkout', () => {
    const r = spawnSync('npx', ['--no-install', 'ata', '--help'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toContain('Permission denied');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: ata');
  });
});
