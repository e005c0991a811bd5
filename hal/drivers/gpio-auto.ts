import { existsSync, readdirSync } from 'node:fs';
import type { Clock } from '../clock.js';
import { BoardConfigError, DeviceUnavailableError, HalError, type HalLog } from '../errors.js';
import type { GpioDriver, GpioDriverName } from '../gpio.js';

export interface GpioOpenOptions {
  clock: Clock;
  log: HalLog;
  /** `board.gpio_chip`: chip name or label. */
  chip?: string;
  sysfsRoot?: string;
  devRoot?: string;
  /** The libgpiod tools to run, by name or path (tests substitute recorded-output scripts). */
  tools?: { gpiomon?: string; gpioget?: string; gpioset?: string; gpiodetect?: string };
}

/**
 * Opens the GPIO driver the config names. `auto` prefers the character device when the kernel has one and the
 * libgpiod tools run (kernel timestamps, and sysfs GPIO is going away), and falls back to sysfs + onoff.
 */
export async function openGpioDriver(name: GpioDriverName | string, o: GpioOpenOptions): Promise<GpioDriver> {
  const key = 'board.gpio_driver';
  if (name === 'sysfs') return (await import('./gpio-sysfs.js')).SysfsGpioDriver.open({ ...o, configKey: key });
  if (name === 'chardev') return (await import('./gpio-chardev.js')).ChardevGpioDriver.open({ ...o, ...o.tools, configKey: key });
  if (name !== 'auto') throw new BoardConfigError(key, name, 'must be auto, sysfs or chardev');
  const devRoot = o.devRoot ?? '/dev';
  const problems: string[] = [];
  const hasChardev = existsSync(devRoot) && readdirSync(devRoot).some((f) => f.startsWith('gpiochip'));
  if (hasChardev) {
    try {
      return await (await import('./gpio-chardev.js')).ChardevGpioDriver.open({ ...o, ...o.tools, devRoot, configKey: key });
    } catch (err) {
      if (!(err instanceof HalError)) throw err;
      problems.push(`chardev: ${err.message}`);
    }
  } else {
    problems.push(`chardev: no ${devRoot}/gpiochip*`);
  }
  try {
    return await (await import('./gpio-sysfs.js')).SysfsGpioDriver.open({ ...o, configKey: key });
  } catch (err) {
    if (!(err instanceof HalError)) throw err;
    problems.push(`sysfs: ${err.message}`);
  }
  throw new DeviceUnavailableError('GPIO', key, problems.join('; '));
}
