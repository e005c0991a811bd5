import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { DeviceUnavailableError, importOptional, type HalLog } from '../errors.js';
import { RPI_SOC_GPIO_LABELS, type GpioDriver, type GpioEdge, type GpioInput, type GpioOutput } from '../gpio.js';

export interface SysfsChip {
  name: string;
  base: number;
  ngpio: number;
  label: string;
}


export function listSysfsChips(sysfsRoot = '/sys/class/gpio'): SysfsChip[] {
  if (!existsSync(sysfsRoot)) return [];
  const chips: SysfsChip[] = [];
  for (const name of readdirSync(sysfsRoot)) {
    if (!name.startsWith('gpiochip')) continue;
    try {
      const read = (f: string): string => readFileSync(join(sysfsRoot, name, f), 'utf8').trim();
      const base = Number(read('base'));
      const ngpio = Number(read('ngpio'));
      if (!Number.isInteger(base) || !Number.isInteger(ngpio)) continue;
      chips.push({ name, base, ngpio, label: read('label') });
    } catch {
      // a chip directory without the files is not one we can use
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

/**
 * The chip whose offsets are BCM numbers. Current Raspberry Pi OS kernels no longer put it at base 0 (512 on a
 * Pi 4 with Bookworm, 571 on a Pi 5), so the sysfs number is always looked up, never assumed.
 * `wanted` (config `board.gpio_chip`) may name the chip (`gpiochip512`) or its label.
 */
export function findBcmChip(chips: SysfsChip[], wanted?: string): SysfsChip | undefined {
  if (wanted && wanted !== 'gpiochip0') {
    const c = chips.find((x) => x.name === wanted || x.label === wanted);
    if (c) return c;
  }
  for (const label of RPI_SOC_GPIO_LABELS) {
    const c = chips.find((x) => x.label === label);
    if (c) return c;
  }
  // Unknown board: the lowest chip with a full 40-pin header's worth of lines.
  return chips.find((x) => x.ngpio >= 28);
}

export function sysfsNumber(chip: SysfsChip, bcm: number, configKey: string): number {
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    throw new DeviceUnavailableError(`GPIO ${bcm}`, configKey, `${chip.name} (${chip.label}) has lines 0-${chip.ngpio - 1}`);
  }
  return chip.base + bcm;
}

interface OnoffGpio {
  readSync(): number;
  read(cb: (err: Error | null | undefined, v: number) => void): void;
  writeSync(v: 0 | 1): void;
  watch(cb: (err: Error | null | undefined, v: number) => void): void;
  unexport(): void;
}
type OnoffCtor = new (n: number, dir: string, edge?: string, opts?: Record<string, unknown>) => OnoffGpio;

/**
 * GPIO through `onoff` (sysfs). Edges carry the time they reached us: sysfs has no kernel timestamps, so a busy
 * event loop adds its delay to what the hook detector sees (the character-device driver does not have this flaw).
 */
export class SysfsGpioDriver implements GpioDriver {
  readonly kind = 'sysfs' as const;
  private readonly opened: OnoffGpio[] = [];

  private constructor(
    private readonly chip: SysfsChip,
    private readonly Gpio: OnoffCtor,
    private readonly clock: Clock,
    private readonly log: HalLog,
  ) {}

  static async open(opts: { clock: Clock; log: HalLog; chip?: string; sysfsRoot?: string; configKey?: string }): Promise<SysfsGpioDriver> {
    const key = opts.configKey ?? 'board.gpio_driver';
    const root = opts.sysfsRoot ?? '/sys/class/gpio';
    const chip = findBcmChip(listSysfsChips(root), opts.chip);
    if (!chip) throw new DeviceUnavailableError(root, key, 'no sysfs GPIO chip found (kernel without sysfs GPIO? try gpio_driver = "chardev")');
    const mod = await importOptional<{ Gpio: OnoffCtor; default?: { Gpio: OnoffCtor } }>('onoff', key);
    const Gpio = mod.Gpio ?? mod.default?.Gpio;
    opts.log.info({ chip: chip.name, label: chip.label, base: chip.base }, 'GPIO via sysfs (onoff)');
    return new SysfsGpioDriver(chip, Gpio, opts.clock, opts.log);
  }

  private make(bcm: number, configKey: string, dir: string, edge?: string, o?: Record<string, unknown>): OnoffGpio {
    const n = sysfsNumber(this.chip, bcm, configKey);
    try {
      const g = new this.Gpio(n, dir, edge, o);
      this.opened.push(g);
      return g;
    } catch (err) {
      throw new DeviceUnavailableError(`GPIO ${bcm} (sysfs ${n})`, configKey, (err as Error).message);
    }
  }

  async input(bcm: number, opts: { edge: GpioEdge; configKey: string; activeLow?: boolean }): Promise<GpioInput> {
    const g = this.make(bcm, opts.configKey, 'in', opts.edge, { activeLow: opts.activeLow ?? false });
    const clock = this.clock;
    const log = this.log;
    return {
      bcm,
      read: async () => (g.readSync() ? 1 : 0),
      onEdge(cb) {
        g.watch((err, v) => {
          if (err) return log.warn({ bcm, err: err.message }, 'GPIO watch error');
          cb(v ? 1 : 0, clock.now());
        });
      },
      close: async () => g.unexport(),
    };
  }

  async output(bcm: number, opts: { initial: 0 | 1; configKey: string }): Promise<GpioOutput> {
    const g = this.make(bcm, opts.configKey, opts.initial ? 'high' : 'low');
    return { bcm, write: (v) => g.writeSync(v), close: async () => g.unexport() };
  }

  async close(): Promise<void> {
    for (const g of this.opened.splice(0)) {
      try {
        g.unexport();
      } catch {
        // already released
      }
    }
  }
}
