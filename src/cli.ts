#!/usr/bin/env node
/**
 * The `ata` command. No CLI framework: a handful of commands and flags, parsed by hand so every mistake gets a
 * message and exit status 2. Exit 1 means the command ran and failed (invalid config, agent unreachable).
 */
import { startApiServer, type ApiServer } from './api/server.js';
import type { RunningAgent, StartAgent } from './agent-contract.js';
import { drivePhone, fetchStatus, formatStatus, ApiClientError, type PhoneAction } from './cli-client.js';
import { formatProblem, isError } from './config/errors.js';
import { loadConfig } from './config/load.js';
import { componentLogger, createLogger } from './log.js';
import { SipTrace } from './sip-trace.js';
import { defaultConfigPath, packageVersion as version } from './package-info.js';

const STOP_DEADLINE_MS = 5000;

const USAGE = `usage: ata <command> [options]

commands:
  run [--config FILE]            run the agent in the foreground until SIGINT/SIGTERM
                                 (config: --config, else $ATA_CONFIG, else the package's config/default.toml)
  check-config FILE              validate a config; print every problem; exit 0 valid, 1 invalid
  status [--api URL]             print registration and line state of a running agent
  phone offhook|onhook|flash [--line N] [--api URL]
  phone dial DIGITS [--pulse] [--line N] [--api URL]
  phone ring [NUMBER] [--name NAME] [--line N] [--api URL]
                                 an incoming ring with caller ID (sim board test hook, no SIP)
                                 drive the simulated phone of an agent whose board is "sim"

options:
  --api URL      the agent's API (default: $ATA_API, else [api] listen of the config, else http://127.0.0.1:8080)
  --help, -h     this text
  --version, -V  the version
`;

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Parsed {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['--config', '--api', '--line', '--name']);
const BOOL_FLAGS = new Set(['--pulse', '--help', '-h', '--version', '-V']);

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name, value);
    } else if (BOOL_FLAGS.has(a)) {
      flags.set(a, true);
    } else if (a.startsWith('-') && a.length > 1) {
      throw new UsageError(`unknown option ${a}`);
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

function configPath(p: Parsed): string {
  return flag(p, '--config') ?? process.env.ATA_CONFIG ?? defaultConfigPath();
}

/** --api, else $ATA_API, else the API address in the config (a wildcard address means this machine). */
function apiUrl(p: Parsed): string {
  const given = flag(p, '--api') ?? process.env.ATA_API;
  if (given) return given;
  const r = loadConfig(configPath(p));
  if (!r.ok) return 'http://127.0.0.1:8080';
  let host = r.config.api.listen.host;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${r.config.api.listen.port}`;
}

function checkConfig(p: Parsed): number {
  if (p.positional.length !== 2) throw new UsageError('check-config needs exactly one FILE');
  const r = loadConfig(p.positional[1]);
  for (const problem of r.problems) (isError(problem) ? console.error : console.log)(formatProblem(problem));
  if (!r.ok) {
    const n = r.problems.filter(isError).length;
    console.error(`${n} problem${n === 1 ? '' : 's'} in ${p.positional[1]}`);
    return 1;
  }
  console.log('ok');
  return 0;
}

async function status(p: Parsed): Promise<number> {
  if (p.positional.length !== 1) throw new UsageError('status takes no arguments');
  console.log(formatStatus(await fetchStatus(apiUrl(p))));
  return 0;
}

async function phone(p: Parsed): Promise<number> {
  const [, what, digits, ...extra] = p.positional;
  const lineText = flag(p, '--line') ?? '0';
  if (!/^\d{1,3}$/.test(lineText)) throw new UsageError(`--line must be a line number, got "${lineText}"`);
  let action: PhoneAction;
  const hooks: Record<string, 'off' | 'on' | 'flash'> = { offhook: 'off', onhook: 'on', flash: 'flash' };
  if (what !== undefined && what in hooks) {
    if (digits !== undefined) throw new UsageError(`phone ${what} takes no arguments`);
    if (p.flags.has('--pulse')) throw new UsageError('--pulse goes with phone dial');
    action = { kind: 'hook', state: hooks[what] };
  } else if (what === 'dial') {
    if (digits === undefined || extra.length > 0) throw new UsageError('phone dial needs exactly one DIGITS argument');
    action = { kind: 'dial', digits, method: p.flags.has('--pulse') ? 'pulse' : 'dtmf' };
  } else if (what === 'ring') {
    if (extra.length > 0) throw new UsageError('phone ring takes one NUMBER argument (and --name NAME)');
    const name = flag(p, '--name');
    action = { kind: 'ring', ...(digits !== undefined ? { number: digits } : {}), ...(name !== undefined ? { name } : {}) };
  } else {
    throw new UsageError('phone needs offhook, onhook, flash, dial DIGITS or ring [NUMBER]');
  }
  await drivePhone(apiUrl(p), Number(lineText), action);
  return 0;
}

async function run(p: Parsed): Promise<number> {
  if (p.positional.length !== 1) throw new UsageError('run takes no arguments (use --config FILE)');
  const file = configPath(p);
  const r = loadConfig(file);
  for (const problem of r.problems) console.error(formatProblem(problem));
  if (!r.ok) {
    console.error(`cannot start: ${file} is invalid (ata check-config ${file})`);
    return 1;
  }
  const config = r.config;
  const root = createLogger({ level: config.log.level });
  const log = componentLogger(root, 'cli');
  const trace = new SipTrace({
    keep: config.log.sip_trace_keep,
    traceAuth: config.log.trace_auth,
    log: componentLogger(root, 'sip-trace'),
    ...(config.log.sip_trace !== undefined ? { file: config.log.sip_trace } : {}),
  });
  log.info({ config: file, version: version() }, 'starting');
  // Loaded here, not at the top, so check-config/status/phone work without the agent's hardware modules.
  const { startAgent } = await import('./agent.js');
  const start: StartAgent = startAgent;
  let agent: RunningAgent;
  try {
    agent = await start(config, { log: root, trace });
  } catch (err) {
    log.fatal({ err }, 'agent failed to start');
    await trace.close();
    return 1;
  }
  let api: ApiServer | undefined;
  if (config.api.enabled) {
    try {
      api = await startApiServer(agent.control, { listen: config.api.listen, log: componentLogger(root, 'api') });
    } catch (err) {
      log.fatal({ err, listen: config.api.listen }, 'cannot open the API port');
      await agent.stop('api failed');
      await trace.close();
      return 1;
    }
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      const deadline = setTimeout(() => {
        log.warn({ ms: STOP_DEADLINE_MS }, 'stop deadline passed; exiting anyway');
        resolve(0);
      }, STOP_DEADLINE_MS);
      Promise.allSettled([agent.stop(signal), api?.close()])
        .then(async (results) => {
          for (const res of results) if (res.status === 'rejected') log.error({ err: res.reason }, 'error while stopping');
          await trace.close();
          clearTimeout(deadline);
          log.info('stopped');
          resolve(0);
        })
        .catch(() => resolve(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export async function main(argv: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv);
    if (p.flags.has('--version') || p.flags.has('-V')) {
      console.log(version());
      return 0;
    }
    if (p.flags.has('--help') || p.flags.has('-h') || p.positional.length === 0) {
      (p.positional.length === 0 && !p.flags.has('--help') && !p.flags.has('-h') ? console.error : console.log)(USAGE);
      return p.positional.length === 0 && !p.flags.has('--help') && !p.flags.has('-h') ? 2 : 0;
    }
    switch (p.positional[0]) {
      case 'run':
        return await run(p);
      case 'check-config':
        return checkConfig(p);
      case 'status':
        return await status(p);
      case 'phone':
        return await phone(p);
      default:
        throw new UsageError(`unknown command "${p.positional[0]}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`ata: ${err.message}\n(ata --help lists the commands)`);
      return 2;
    }
    if (err instanceof ApiClientError) {
      console.error(`ata: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout/stderr and the logger flush before leaving.
    process.exitCode = code;
    if (code !== 0 || process.argv[2] === 'run') setTimeout(() => process.exit(code), 100).unref();
  },
  (err: unknown) => {
    console.error('ata: unexpected failure:', err);
    process.exit(70);
  },
);
