/**
 * Helpers the end-to-end tests share for a phone's audio and the agent they drive: tones made by sox, the sim
 * earpiece recording as it grows, the level of one frequency in it, the sim line through the control API, and
 * polling for what a real process makes true (a bound is a failure, not a wait).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProcess, type LogLine } from './agent-process.js';
import { freeUdpPort } from './kamailio.js';
import type { CallQualityJson, CallRecord } from '../../src/agent-contract.js';

const WAV_HEADER = 44;

/** Writes a sine of `hz` at `vol` (of full scale) as an 8 kHz mono s16 WAV, made by sox. */
export function soxTone(path: string, hz: number, seconds: number, vol = 0.4): void {
  execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', path, 'synth', String(seconds), 'sine', String(hz), 'vol', String(vol)]);
}

/** Any audio file sox reads, as 8 kHz mono s16 samples. */
export function soxSamples(path: string): Int16Array {
  const raw = execFileSync('sox', [path, '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-'], { maxBuffer: 64 << 20 });
  return new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + (raw.length & ~1)));
}

/** Power of one frequency in a block of 8 kHz samples (Goertzel), in dB relative to a full-scale sine. */
export function toneLevelDb(x: Int16Array, f: number): number {
  const k = 2 * Math.cos((2 * Math.PI * f) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s = v / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return 10 * Math.log10((4 * (s1 * s1 + s2 * s2 - k * s1 * s2)) / (x.length * x.length) + 1e-20);
}

/**
 * Level of a far end's tone as the earpiece plays it, in dB like toneLevelDb. The jitter buffer adapts its delay by
 * resampling (up to 2 samples in 160 inside audio: a 1.25 % pitch change while it adapts), so a one-second Goertzel
 * at the exact frequency, 1 Hz wide, misses a tone that is plainly there. This one takes 50 ms blocks (20 Hz wide),
 * the strongest frequency within +-2 % in each, and averages their power.
 */
export function toneHeardDb(x: Int16Array, f: number): number {
  const BLOCK = 400;
  let sum = 0;
  let blocks = 0;
  for (let at = 0; at + BLOCK <= x.length; at += BLOCK) {
    const b = x.subarray(at, at + BLOCK);
    let best = -Infinity;
    for (let d = -0.02; d <= 0.0201; d += 0.005) best = Math.max(best, toneLevelDb(b, f * (1 + d)));
    sum += 10 ** (best / 10);
    blocks++;
  }
  return blocks ? 10 * Math.log10(sum / blocks + 1e-20) : -200;
}

/** The loudest `f` is in any `window` samples of `x` (windows every `step`): for tones that sound only part of the time. */
export function loudestToneDb(x: Int16Array, f: number, window: number, step = window / 2): number {
  let loudest = -200;
  for (let at = 0; at + window <= x.length; at += step) loudest = Math.max(loudest, toneHeardDb(x.subarray(at, at + window), f));
  return loudest;
}

/** Polls `cond` every 50 ms until it holds; throws after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The sim board's `audio_out` WAV, read while the agent keeps writing it (8000 samples a second). */
export class EarpieceFile {
  constructor(readonly path: string) {}

  count(): number {
    return Math.max(0, (statSync(this.path).size - WAV_HEADER) >> 1);
  }

  samples(from = 0, to?: number): Int16Array {
    const b = readFileSync(this.path).subarray(WAV_HEADER + from * 2, to === undefined ? undefined : WAV_HEADER + to * 2);
    return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + (b.length & ~1)));
  }

  /** Resolves once the recording holds `n` samples. */
  reaches(n: number, ms = 15_000): Promise<void> {
    return until(() => this.count() >= n, `earpiece recording to reach ${n} samples (at ${this.count()})`, ms);
  }

  /**
   * The next second recorded from now: how loud each named tone is in it (toneHeardDb), e.g. { a: 1000, b: 1500 }.
   * `settle` seconds are let by first, for a jitter buffer to fill with audio that has just changed.
   */
  async nextSecondTones<K extends string>(tones: Record<K, number>, settle = 0): Promise<Record<K, number>> {
    const from = this.count() + settle * 8000;
    await this.reaches(from + 8000);
    const x = this.samples(from, from + 8000);
    const heard = {} as Record<K, number>;
    for (const k of Object.keys(tones) as K[]) heard[k] = toneHeardDb(x, tones[k]);
    return heard;
  }
}

export interface SimLineStatus {
  state: string;
  hook: string;
  call: { direction: string; codec: string; remote: string; quality?: CallQualityJson | null } | null;
  other_call?: { state: string; direction: string; remote: string } | null;
}

/** Line 0 of a sim-board agent through its control API, as `ata phone` drives it. */
export class SimLineApi {
  constructor(readonly url: string) {}

  async hook(state: 'on' | 'off' | 'flash'): Promise<void> {
    const r = await fetch(`${this.url}/api/lines/0/hook`, { method: 'POST', body: JSON.stringify({ state }), headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) throw new Error(`hook ${state}: HTTP ${r.status} ${await r.text()}`);
  }

  async dial(digits: string, method: 'dtmf' | 'pulse'): Promise<number> {
    const r = await fetch(`${this.url}/api/lines/0/dial`, { method: 'POST', body: JSON.stringify({ digits, method }), headers: { 'content-type': 'application/json' } });
    return r.status;
  }

  /** GET /api/calls: the recent calls, newest first. */
  async calls(): Promise<CallRecord[]> {
    return (await (await fetch(`${this.url}/api/calls`)).json()) as CallRecord[];
  }

  async status(): Promise<SimLineStatus> {
    const s = (await (await fetch(`${this.url}/api/status`)).json()) as { lines: SimLineStatus[] };
    return s.lines[0];
  }
}

/** A log-line predicate that only matches lines logged at or after index `from` of `lines`. */
export function loggedAfter(lines: LogLine[], from: number, pred: (l: LogLine) => boolean): (l: LogLine) => boolean {
  return (l) => lines.indexOf(l) >= from && pred(l);
}

export interface SimCallAgentOptions {
  /** TOML of the [[line]] table's keys after `id = 0`, e.g. `dial_plan = "xxx"\ncaller_id = "off"`. */
  line: string;
  /** TOML of the [media] table's keys, e.g. `rtp_ports = "42000-42999"`. */
  media: string;
  /** Whole extra tables ([[account]] ...), placed before [[line]]. */
  extra?: string;
  /** The sim mouthpiece plays this WAV (in the agent's dir), else silence. */
  audioIn?: string;
  /** Added to the agent's environment. */
  env?: Record<string, string>;
}

/** A call test's `ata run` on the sim board: SIP and the API on free loopback ports, the earpiece recorded. */
export interface SimCallAgent {
  agent: AgentProcess;
  phone: SimLineApi;
  ear: EarpieceFile;
  sipPort: number;
  /** Starts the agent (after the test has put its files in agent.dir) and waits for its API. */
  start(): Promise<void>;
}

export async function simCallAgent(o: SimCallAgentOptions): Promise<SimCallAgent> {
  const sipPort = await freeUdpPort();
  const apiPort = await freeUdpPort();
  const agent = new AgentProcess(
    `[sip]\nlisten = "127.0.0.1:${sipPort}"\nkeepalive = "off"\n` +
      (o.extra ?? '') +
      `[[line]]\nid = 0\n${o.line}\n` +
      `[media]\n${o.media}\n` +
      `[board]\ntype = "sim"\n${o.audioIn ? `audio_in = "${o.audioIn}"\n` : ''}audio_out = "ear.wav"\n` +
      `[api]\nlisten = "127.0.0.1:${apiPort}"\n[log]\nlevel = "info"\n`,
    o.env,
  );
  return {
    agent,
    phone: new SimLineApi(`http://127.0.0.1:${apiPort}`),
    ear: new EarpieceFile(join(agent.dir, 'ear.wav')),
    sipPort,
    async start() {
      agent.start();
      await agent.waitForLog((l) => l.msg === 'api listening');
    },
  };
}

/**
 * Awaits `p`; on failure the error also carries the tail of each peer's own log (baresip's output, Kamailio's
 * stderr ...): the far end's and the proxy's view are half of a call's story.
 */
export async function withPeerLogs<T>(p: Promise<T>, logs: () => Record<string, string>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const tails = Object.entries(logs()).map(([who, text]) => `\n--- ${who}:\n${text.slice(-3000)}`);
    throw new Error(`${err instanceof Error ? err.message : String(err)}${tails.join('')}`);
  }
}
