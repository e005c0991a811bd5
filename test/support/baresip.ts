/**
 * A real far-end phone for tests: Debian's baresip, configured by files in a temp dir, listening on loopback,
 * answering automatically, sending a WAV (aufile) and recording what it sends and receives (sndfile, one
 * dump-*-dec.wav per call for what it heard). It is driven through ctrl_tcp: netstring-framed JSON commands, and
 * its events (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED ...) arrive on the same connection.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { soxTone } from './call-audio.js';
import { freeUdpPort } from './kamailio.js';

export const BARESIP_BIN = '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';

export class BaresipMissingError extends Error {
  constructor() {
    super(`${BARESIP_BIN} or its modules (${MODULES}) are missing: apt-get install baresip-core (.ci/run does)`);
  }
}

export function requireBaresip(): void {
  if (!existsSync(BARESIP_BIN) || !existsSync(join(MODULES, 'aufile.so')) || !existsSync(join(MODULES, 'ctrl_tcp.so'))) throw new BaresipMissingError();
  if (spawnSync('sox', ['--version']).status !== 0) throw new Error('sox is missing: apt-get install sox');
}

export interface BaresipEvent {
  event?: boolean;
  type?: string;
  peeruri?: string;
  [k: string]: unknown;
}

export interface BaresipOptions {
  sipPort: number;
  ctrlPort: number;
  rtpPorts: string;
  /** The account line, e.g. `"Far End" <sip:5551234@127.0.0.1>;regint=0;answermode=auto`. */
  account: string;
  /** A WAV (8 kHz mono s16) baresip sends in calls. */
  sourceWav: string;
}

export class Baresip {
  readonly dir: string;
  readonly events: BaresipEvent[] = [];
  output = '';
  private proc: ChildProcess | undefined;
  private ctrl: Socket | undefined;
  private rx = Buffer.alloc(0);
  private waiters: Array<() => void> = [];

  constructor(private readonly o: BaresipOptions) {
    requireBaresip();
    this.dir = mkdtempSync(join(tmpdir(), 'ata-baresip-'));
    writeFileSync(
      join(this.dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${o.sipPort}`,
        `audio_source aufile,${o.sourceWav}`,
        // aubridge as player: nothing plays out loud, and unlike alsa,null it does not spin a core.
        'audio_player aubridge,sink',
        'audio_alert aubridge,sink',
        `module_path ${MODULES}`,
        'module g711.so',
        'module aufile.so',
        'module aubridge.so',
        'module sndfile.so',
        'module_app account.so',
        // menu holds the dial/hangup commands that ctrl_tcp runs.
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        `ctrl_tcp_listen 127.0.0.1:${o.ctrlPort}`,
        `snd_path ${this.dir}`,
        `rtp_ports ${o.rtpPorts}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'accounts'), o.account + '\n');
  }

  async start(): Promise<void> {
    const proc = spawn(BARESIP_BIN, ['-f', this.dir, '-n', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const onOut = (d: Buffer): void => {
      // Its status line ("[0:00:16] audio=64000/64000 (bit/s)", several a second) would fill a failure's tail.
      this.output += d.toString().replace(/\[\d+:\d\d:\d\d\] audio=\d+\/\d+ \(bit\/s\)\s*/g, '');
      this.wake();
    };
    proc.stdout!.on('data', onOut);
    proc.stderr!.on('data', onOut);
    const busy = (): boolean => this.output.includes('Address already in use');
    await this.until(() => this.output.includes('baresip is ready') || busy(), 10_000, 'baresip did not start');
    if (busy()) throw new Error(`baresip could not bind its ports:\n${this.output.slice(-1000)}`);
    this.ctrl = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.o.ctrlPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    this.ctrl.on('data', (d: Buffer) => this.receive(d));
  }

  /** Sends one ctrl_tcp command. */
  command(command: string, params?: string): void {
    const json = JSON.stringify({ command, ...(params !== undefined ? { params } : {}), token: String(this.events.length) });
    this.ctrl!.write(`${Buffer.byteLength(json)}:${json},`);
  }

  /** Resolves with the first event of this type (counting those already seen after `from`). */
  async event(type: string, ms = 10_000, from = 0): Promise<BaresipEvent> {
    let hit: BaresipEvent | undefined;
    await this.until(() => (hit = this.events.slice(from).find((e) => e.type === type)) !== undefined, ms, `no baresip ${type} event`);
    return hit!;
  }

  /** The recording of what baresip heard in its (latest) call. */
  decodedWav(): string | undefined {
    const f = readdirSync(this.dir).filter((n) => n.endsWith('-dec.wav')).sort().pop();
    return f ? join(this.dir, f) : undefined;
  }

  async stop(): Promise<void> {
    this.ctrl?.destroy();
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const killer = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  }

  /** Waits for a condition that baresip's output or events make true; `ms` bounds a failure. */
  until(cond: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms; its last events: ${this.events.slice(-6).map((e) => `${e.type} ${e.peeruri ?? ''} ${e.param ?? ''}`.trim()).join('; ')}; baresip said:\n${this.output.slice(-2000)}`)), ms);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private receive(d: Buffer): void {
    this.rx = Buffer.concat([this.rx, d]);
    for (;;) {
      const colon = this.rx.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(this.rx.subarray(0, colon).toString());
      if (!Number.isInteger(len) || this.rx.length < colon + 1 + len + 1) return;
      const body = this.rx.subarray(colon + 1, colon + 1 + len).toString();
      this.rx = this.rx.subarray(colon + 1 + len + 1);
      try {
        this.events.push(JSON.parse(body) as BaresipEvent);
      } catch {
        this.events.push({ type: 'unparsed', body });
      }
      this.wake();
    }
  }
}

/**
 * baresip as a direct-IP far end (sip:5551234@127.0.0.1, no registrar) that answers by itself and sends a tone of
 * `toneHz` for 20 s; started. Its SIP port is for the agent's speed dial.
 */
export async function startDirectFarEnd(o: { rtpPorts: string; toneHz: number; vol?: number; user?: string; name?: string }): Promise<{ far: Baresip; sipPort: number }> {
  const wav = join(mkdtempSync(join(tmpdir(), 'ata-far-')), 'far.wav');
  soxTone(wav, o.toneHz, 20, o.vol);
  // The ports were free when chosen, but other tests run beside this one and may take one before baresip binds it:
  // then baresip says "Address already in use" and the start is tried again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    const { sipPort, ctrlPort } = await freeBaresipPorts();
    const far = new Baresip({ sipPort, ctrlPort, rtpPorts: o.rtpPorts, account: `"${o.name ?? 'Far End'}" <sip:${o.user ?? '5551234'}@127.0.0.1>;regint=0;answermode=auto`, sourceWav: wav });
    try {
      await far.start();
      return { far, sipPort };
    } catch (err) {
      await far.stop();
      if (attempt >= 3 || !far.output.includes('Address already in use')) throw err;
    }
  }
}

/**
 * Ports for a baresip: its SIP port is bound for UDP and TCP, and TLS takes the next one up (TCP); ctrl_tcp takes
 * another TCP port. freeUdpPort alone knows nothing of TCP, where the API servers and HTTP clients of tests running
 * beside this one come and go.
 */
export async function freeBaresipPorts(): Promise<{ sipPort: number; ctrlPort: number }> {
  for (;;) {
    const sipPort = await freeUdpPort();
    if (sipPort < 65535 && (await tcpFree(sipPort)) && (await tcpFree(sipPort + 1))) {
      const ctrlPort = await freeUdpPort();
      if (ctrlPort !== sipPort && ctrlPort !== sipPort + 1 && (await tcpFree(ctrlPort))) return { sipPort, ctrlPort };
    }
  }
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Alice's and Bob's tones: far ends told apart by what the earpiece hears. */
export const ALICE_HZ = 1000;
export const BOB_HZ = 1500;

/**
 * Two direct-IP far ends for the tests with two calls at once (call waiting, transfer, conference): Alice,
 * sip:5550001, sending ALICE_HZ with RTP on rtpBase..+499, and Bob, sip:5550002, sending BOB_HZ on +500..+999.
 */
export async function startAliceAndBob(rtpBase: number): Promise<{ a: Baresip; b: Baresip; sipA: number; sipB: number; stop(): Promise<void> }> {
  const alice = await startDirectFarEnd({ rtpPorts: `${rtpBase}-${rtpBase + 499}`, toneHz: ALICE_HZ, user: '5550001', name: 'Alice' });
  const bob = await startDirectFarEnd({ rtpPorts: `${rtpBase + 500}-${rtpBase + 999}`, toneHz: BOB_HZ, user: '5550002', name: 'Bob' });
  return {
    a: alice.far,
    b: bob.far,
    sipA: alice.sipPort,
    sipB: bob.sipPort,
    stop: async () => {
      await alice.far.stop();
      await bob.far.stop();
    },
  };
}
