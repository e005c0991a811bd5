import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { DeviceUnavailableError, type HalLog } from '../errors.js';
import { RPI_SOC_GPIO_LABELS, type GpioDriver, type GpioEdge, type GpioInput, type GpioOutput } from '../gpio.js';

export interface GpiomonEvent {
  offset: number;
  rising: boolean;
  /** Kernel timestamp in ms (CLOCK_MONOTONIC on kernels since 5.7). */
  kernelMs: number;
}

// libgpiod 1.x: "event:  RISING EDGE offset: 17 timestamp: [    1234.567890123]"
const V1 = /^event:\s+(RISING|FALLING) EDGE offset:\s*(\d+) timestamp:\s*\[\s*(\d+)\.(\d{1,9})\]\s*$/;
// libgpiod 2.x: "1234.567890123\trising\tgpiochip0 17" (or a quoted line name instead of "chip offset")
const V2 = /^(\d+)\.(\d{1,9})\s+(rising|falling)\s+(?:\S+\s+(\d+)|"[^"]*")\s*$/;

// What we ask libgpiod 2.x for with --format="%o %e %S": "17 1 1234.567890123" (1 rising, 2 falling)
const OURS = /^(\d+) ([012]) (\d+)\.(\d{1,9})\s*$/;
export const GPIOMON_V2_FORMAT = '%o %e %S';

/** Parses one line of gpiomon's output (v1 default, v2 default, or our v2 format); undefined for anything else. */
export function parseGpiomonLine(line: string): GpiomonEvent | undefined {
  const m0 = OURS.exec(line);
  if (m0) return { offset: Number(m0[1]), rising: m0[2] === '1', kernelMs: toMs(m0[3], m0[4]) };
  const m1 = V1.exec(line);
  if (m1) return { offset: Number(m1[2]), rising: m1[1] === 'RISING', kernelMs: toMs(m1[3], m1[4]) };
  const m2 = V2.exec(line);
  if (m2 && m2[4] !== undefined) return { offset: Number(m2[4]), rising: m2[3] === 'rising', kernelMs: toMs(m2[1], m2[2]) };
  return undefined;
}

function toMs(sec: string, frac: string): number {
  return Number(sec) * 1000 + Number(frac.padEnd(9, '0')) / 1e6;
}

/**
 * Kernel event time onto the injected Clock. gpiomon stamps events with CLOCK_MONOTONIC (kernels since 5.7), the
 * clock process.hrtime reads too, so the offset between the two is known exactly: an edge keeps the instant the
 * kernel saw it however late the line reached us. Timestamps that can't be right (the future, or more than 2 s
 * back: an old kernel's realtime stamps) fall back to the arrival time.
 */
export class KernelTimeMapper {
  map(kernelMs: number, hostNowMs: number, monoNowMs: number = Number(process.hrtime.bigint()) / 1e6): number {
    const at = kernelMs + (hostNowMs - monoNowMs);
    return at <= hostNowMs && at >= hostNowMs - 2000 ? at : hostNowMs;
  }
}

export interface GpiodetectChip {
  name: string;
  label: string;
  lines: number;
}

// "gpiochip0 [pinctrl-bcm2711] (58 lines)": the same in libgpiod 1.x and 2.x
const DETECT = /^(gpiochip\d{1,4}) \[([^\]]{0,100})\] \((\d{1,5}) lines\)\s*$/;

/** Parses `gpiodetect` output; lines of any other shape are skipped. */
export function parseGpiodetect(text: string): GpiodetectChip[] {
  const chips: GpiodetectChip[] = [];
  for (const line of text.split('\n')) {
    const m = DETECT.exec(line);
    if (m) chips.push({ name: m[1], label: m[2], lines: Number(m[3]) });
  }
  return chips;
}

/**
 * The character device whose offsets are BCM numbers. `gpiochip0` is the SoC on a Pi 4 and on a Pi 5 with current
 * kernels, but the first Pi 5 kernels put the RP1 at `gpiochip4` and a brcmstb chip at `gpiochip0`, where BCM
 * numbers would drive the wrong pins without any error. So unless the config names another chip, go by label.
 */
export function chooseChardevChip(chips: GpiodetectChip[], wanted: string | undefined): string {
  if (wanted && wanted !== 'gpiochip0') return wanted;
  for (const label of RPI_SOC_GPIO_LABELS) {
    const c = chips.find((x) => x.label === label);
    if (c) return c.name;
  }
  return wanted ?? 'gpiochip0';
}

function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000 }, (e, out, err) => resolve({ ok: !e, out: String(out), err: String(err || (e ? e.message : '')) }));
  });
}

export interface ChardevOptions {
  clock: Clock;
  log: HalLog;
  chip?: string;
  configKey?: string;
  /** Tool names (tests substitute recorded-output scripts). */
  gpiomon?: string;
  gpioset?: string;
  gpioget?: string;
  gpiodetect?: string;
  /** Where the character devices are (tests); default /dev. */
  devRoot?: string;
}

/**
 * GPIO through the character device with Debian's libgpiod tools as child processes: `gpiomon` streams edges
 * with kernel timestamps, `gpioset` holds outputs. Works on kernels without sysfs GPIO and with both libgpiod 1.x
 * and 2.x. An output change on 1.x restarts gpioset (it has no interactive mode); 2.x takes `set` commands.
 */
export class ChardevGpioDriver implements GpioDriver {
  readonly kind = 'chardev' as const;
  private readonly procs: ChildProcess[] = [];
  private closed = false;

  private constructor(
    private readonly opts: ChardevOptions,
    readonly chip: string,
    readonly major: 1 | 2,
  ) {}

  static async open(opts: ChardevOptions): Promise<ChardevGpioDriver> {
    const key = opts.configKey ?? 'board.gpio_driver';
    const ver = await run(opts.gpiomon ?? 'gpiomon', ['--version']);
    if (!ver.ok) throw new DeviceUnavailableError('gpiomon', key, `libgpiod tools not usable (Debian package gpiod): ${ver.err.trim()}`);
    const major = /v?2\.\d/.test(ver.out.split('\n')[0]) ? 2 : 1;
    const detect = await run(opts.gpiodetect ?? 'gpiodetect', []);
    const chip = chooseChardevChip(detect.ok ? parseGpiodetect(detect.out) : [], opts.chip);
    // Tests that replace the tools and give no devRoot have no device to check.
    const devRoot = opts.devRoot ?? '/dev';
    if ((opts.devRoot !== undefined || !opts.gpiomon) && !existsSync(join(devRoot, chip))) {
      throw new DeviceUnavailableError(join(devRoot, chip), 'board.gpio_chip', 'no such GPIO character device');
    }
    opts.log.info({ chip, libgpiod: major }, 'GPIO via character device (libgpiod tools)');
    return new ChardevGpioDriver(opts, chip, major);
  }

  private track(p: ChildProcess, what: string, configKey: string): void {
    this.procs.push(p);
    let stderr = '';
    p.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    p.on('error', (e) => this.opts.log.error({ what, configKey, err: e.message }, 'GPIO tool failed to start'));
    p.on('exit', (code, sig) => {
      if (!this.closed && sig !== 'SIGTERM') this.opts.log.error({ what, configKey, code, stderr: stderr.trim().slice(-200) }, `${what} exited; GPIO ${configKey} is dead`);
    });
  }

  async input(bcm: number, opts: { edge: GpioEdge; configKey: string; activeLow?: boolean }): Promise<GpioInput> {
    const { clock } = this.opts;
    const low = opts.activeLow ? ['-l'] : [];
    // 1.x: -r/-f select one edge (both by default); 2.x: --edges=rising|falling|both.
    const edgeArgs = this.major === 2 ? [`--edges=${opts.edge}`] : opts.edge === 'rising' ? ['-r'] : opts.edge === 'falling' ? ['-f'] : [];
    // v2 prints a line's name instead of its offset by default: ask for the offset explicitly.
    const args = this.major === 2 ? [...low, ...edgeArgs, `--format=${GPIOMON_V2_FORMAT}`, '-c', this.chip, String(bcm)] : [...low, ...edgeArgs, '-b', this.chip, String(bcm)];
    const initial = await run(this.opts.gpioget ?? 'gpioget', this.major === 2 ? [...low, '--numeric', '-c', this.chip, String(bcm)] : [...low, this.chip, String(bcm)]);
    if (!initial.ok) throw new DeviceUnavailableError(`${this.chip} line ${bcm}`, opts.configKey, initial.err.trim());
    let value: 0 | 1 = initial.out.trim().endsWith('1') ? 1 : 0;
    const mon = spawn(this.opts.gpiomon ?? 'gpiomon', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.track(mon, 'gpiomon', opts.configKey);
    const mapper = new KernelTimeMapper();
    const listeners: Array<(v: 0 | 1, at: number) => void> = [];
    let partial = '';
    mon.stdout?.on('data', (d: Buffer) => {
      const lines = (partial + d.toString('latin1')).split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > 512) partial = '';
      for (const line of lines) {
        const ev = parseGpiomonLine(line);
        if (!ev || ev.offset !== bcm) continue;
        value = ev.rising ? 1 : 0;
        const at = mapper.map(ev.kernelMs, clock.now());
        for (const cb of listeners) cb(value, at);
      }
    });
    return {
      bcm,
      read: async () => value,
      onEdge: (cb) => void listeners.push(cb),
      close: async () => void mon.kill('SIGTERM'),
    };
  }

  async output(bcm: number, opts: { initial: 0 | 1; configKey: string }): Promise<GpioOutput> {
    const tool = this.opts.gpioset ?? 'gpioset';
    if (this.major === 2) {
      const p = spawn(tool, ['-i', '-c', this.chip, `${bcm}=${opts.initial}`], { stdio: ['pipe', 'ignore', 'pipe'] });
      this.track(p, 'gpioset', opts.configKey);
      p.stdin?.on('error', () => {});
      return { bcm, write: (v) => void p.stdin?.write(`set ${bcm}=${v}\n`), close: async () => void p.kill('SIGTERM') };
    }
    let p: ChildProcess | undefined;
    const hold = (v: 0 | 1): void => {
      p?.kill('SIGTERM');
      p = spawn(tool, ['--mode=signal', this.chip, `${bcm}=${v}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      this.track(p, 'gpioset', opts.configKey);
    };
    hold(opts.initial);
    return { bcm, write: hold, close: async () => void p?.kill('SIGTERM') };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.procs.splice(0)) if (p.exitCode === null) p.kill('SIGTERM');
  }
}
