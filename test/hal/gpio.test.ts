import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../hal/clock.js';
import { DeviceUnavailableError, silentLog } from '../../hal/errors.js';
import { findBcmChip, listSysfsChips, sysfsNumber } from '../../hal/drivers/gpio-sysfs.js';
import { ChardevGpioDriver, KernelTimeMapper, chooseChardevChip, parseGpiodetect, parseGpiomonLine } from '../../hal/drivers/gpio-chardev.js';
import { openGpioDriver } from '../../hal/drivers/gpio-auto.js';

/** A /sys/class/gpio tree as the kernel lays it out, with the chips of one Raspberry Pi model. */
function sysfsTree(chips: Array<{ base: number; ngpio: number; label: string }>): string {
  const root = mkdtempSync(join(tmpdir(), 'ata-sysfs-'));
  for (const c of chips) {
    const d = join(root, `gpiochip${c.base}`);
    mkdirSync(d);
    writeFileSync(join(d, 'base'), `${c.base}\n`);
    writeFileSync(join(d, 'ngpio'), `${c.ngpio}\n`);
    writeFileSync(join(d, 'label'), `${c.label}\n`);
  }
  writeFileSync(join(root, 'export'), '');
  return root;
}

describe('sysfs GPIO numbering (mocked GPIO: no chip here, fixture sysfs trees)', () => {
  it('Pi 4 on Bookworm: SoC chip at base 512, so BCM 17 is sysfs 529 (the expander is not chosen)', () => {
    const root = sysfsTree([
      { base: 512, ngpio: 58, label: 'pinctrl-bcm2711' },
      { base: 570, ngpio: 8, label: 'raspberrypi-exp-gpio' },
    ]);
    const chip = findBcmChip(listSysfsChips(root))!;
    expect(chip.label).toBe('pinctrl-bcm2711');
    expect(sysfsNumber(chip, 17, 'board.hook_pin')).toBe(529);
  });

  it('Pi 5: the RP1 chip at base 571, so BCM 17 is sysfs 588', () => {
    const root = sysfsTree([
      { base: 512, ngpio: 32, label: 'gpio-brcmstb@107d508500' },
      { base: 544, ngpio: 4, label: 'gpio-brcmstb@107d508520' },
      { base: 571, ngpio: 54, label: 'pinctrl-rp1' },
    ]);
    expect(sysfsNumber(findBcmChip(listSysfsChips(root))!, 17, 'board.hook_pin')).toBe(588);
  });

  it('older kernels (base 0) and a chip named in board.gpio_chip by label', () => {
    const old = sysfsTree([{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }]);
    expect(sysfsNumber(findBcmChip(listSysfsChips(old))!, 27, 'k')).toBe(27);
    const odd = sysfsTree([
      { base: 100, ngpio: 16, label: 'some-expander' },
      { base: 300, ngpio: 40, label: 'my-soc' },
    ]);
    expect(findBcmChip(listSysfsChips(odd), 'my-soc')!.base).toBe(300);
  });

  it('a pin beyond the chip is a DeviceUnavailableError naming the config key', () => {
    const root = sysfsTree([{ base: 512, ngpio: 58, label: 'pinctrl-bcm2711' }]);
    const chip = findBcmChip(listSysfsChips(root))!;
    expect(() => sysfsNumber(chip, 60, 'board.hook_pin')).toThrow(DeviceUnavailableError);
    try {
      sysfsNumber(chip, 60, 'board.hook_pin');
    } catch (e) {
      expect((e as DeviceUnavailableError).configKey).toBe('board.hook_pin');
    }
  });

  it('auto with neither a character device nor sysfs GPIO is one clear error naming board.gpio_driver', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ata-nogpio-'));
    const err = await openGpioDriver('auto', { clock: new FakeClock(), log: silentLog, devRoot: empty, sysfsRoot: join(empty, 'none') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.gpio_driver');
    expect((err as Error).message).toMatch(/chardev: .*sysfs: /);
  });
});

describe('gpiomon output (mocked GPIO: no chip here, captured text)', () => {
  it('parses libgpiod 1.x default output', () => {
    expect(parseGpiomonLine('event:  RISING EDGE offset: 17 timestamp: [    8122.702263539]')).toEqual({ offset: 17, rising: true, kernelMs: 8122702.263539 });
    expect(parseGpiomonLine('event: FALLING EDGE offset: 4 timestamp: [1700000000.000000001]')?.rising).toBe(false);
  });
  it('parses libgpiod 2.x default output and our --format output', () => {
    expect(parseGpiomonLine('8122.702263539\trising\tgpiochip0 17')).toEqual({ offset: 17, rising: true, kernelMs: 8122702.263539 });
    expect(parseGpiomonLine('17 2 8122.7')).toEqual({ offset: 17, rising: false, kernelMs: 8122700 });
  });
  it('ignores anything else', () => {
    for (const junk of ['', 'event: RISING', '8122.7\trising\t"GPIO17"', 'x'.repeat(1000), 'event:  RISING EDGE offset: -1 timestamp: [1.1]']) {
      expect(parseGpiomonLine(junk)).toBeUndefined();
    }
  });
  it('maps CLOCK_MONOTONIC kernel timestamps onto the clock, falling back to arrival for impossible ones', () => {
    const m = new KernelTimeMapper();
    // host clock reads 1000 while CLOCK_MONOTONIC reads 50000: an event stamped 49900 happened at host 900
    expect(m.map(49900, 1000, 50000)).toBe(900);
    expect(m.map(50100, 1000, 50000)).toBe(1000); // from the future
    expect(m.map(1.7e12, 1000, 50000)).toBe(1000); // realtime stamp of an old kernel
  });
});

describe('character-device driver plumbing (mocked GPIO: no chip here, gpiomon replaced by a script replaying captured output)', () => {
  it('turns gpiomon lines into edges and reads the initial value with gpioget', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ata-gpiod-'));
    const mon = join(dir, 'gpiomon');
    // two edges 250 ms apart that the kernel saw just before the script prints them (CLOCK_MONOTONIC, like gpiomon)
    const ns = process.hrtime.bigint() - 300_000_000n;
    const stamp = (t: bigint): string => `${t / 1_000_000_000n}.${String(t % 1_000_000_000n).padStart(9, '0')}`;
    writeFileSync(
      mon,
      '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v1.6.3"; exit 0; fi\n' +
        `printf "event:  RISING EDGE offset: 17 timestamp: [${stamp(ns)}]\\nevent: FALLING EDGE offset: 17 timestamp: [${stamp(ns + 250_000_000n)}]\\n"\nsleep 5\n`,
    );
    const get = join(dir, 'gpioget');
    writeFileSync(get, '#!/bin/sh\necho 0\n');
    chmodSync(mon, 0o755);
    chmodSync(get, 0o755);
    const drv = await ChardevGpioDriver.open({ clock: systemClock, log: silentLog, gpiomon: mon, gpioget: get });
    expect(drv.major).toBe(1);
    const input = await drv.input(17, { edge: 'both', configKey: 'board.hook_pin' });
    expect(await input.read()).toBe(0);
    const edges: Array<[number, number]> = [];
    await new Promise<void>((resolve) =>
      input.onEdge((v, at) => {
        edges.push([v, at]);
        if (edges.length === 2) resolve();
      }),
    );
    expect(edges.map(([v]) => v)).toEqual([1, 0]);
    // kernel timestamps are 250 ms apart, whenever the lines arrived
    expect(Math.abs(edges[1][1] - edges[0][1] - 250)).toBeLessThan(0.5);
    expect(await input.read()).toBe(0);
    await drv.close();
  });

  it('libgpiod 2.x: asks gpiomon for offsets with --format, and drives outputs through gpioset --interactive', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ata-gpiod2-'));
    const argsFile = join(dir, 'args');
    const setFile = join(dir, 'set');
    const ns = process.hrtime.bigint() - 100_000_000n;
    const stamp = `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
    const mon = join(dir, 'gpiomon');
    writeFileSync(mon, `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v2.1.3"; exit 0; fi\necho "$@" > ${argsFile}\necho "5 2 ${stamp}"\nsleep 5\n`);
    const get = join(dir, 'gpioget');
    writeFileSync(get, '#!/bin/sh\necho 1\n');
    const set = join(dir, 'gpioset');
    writeFileSync(set, `#!/bin/sh\necho "start $@" >> ${setFile}\nwhile read line; do echo "$line" >> ${setFile}; done\n`);
    for (const f of [mon, get, set]) chmodSync(f, 0o755);
    const drv = await ChardevGpioDriver.open({ clock: systemClock, log: silentLog, gpiomon: mon, gpioget: get, gpioset: set });
    expect(drv.major).toBe(2);
    const input = await drv.input(5, { edge: 'both', configKey: 'board.hook_pin' });
    expect(await input.read()).toBe(1);
    const value = await new Promise<number>((resolve) => input.onEdge((v) => resolve(v)));
    expect(value).toBe(0);
    expect(readFileSync(argsFile, 'utf8')).toContain('--format=%o %e %S');
    const out = await drv.output(22, { initial: 1, configKey: 'board.ring_pins' });
    out.write(0);
    out.write(1);
    for (let i = 0; i < 200_000 && !(existsSync(setFile) && readFileSync(setFile, 'utf8').split('\n').length >= 4); i++) await new Promise((r) => setImmediate(r));
    expect(readFileSync(setFile, 'utf8').split('\n').slice(0, 3)).toEqual(['start -i -c gpiochip0 22=1', 'set 22=0', 'set 22=1']);
    await drv.close();
  });
});

/** gpiodetect output captured on a Pi 5 with an early Bookworm kernel (RP1 at gpiochip4) and on a Pi 4. */
const PI5_EARLY = 'gpiochip0 [gpio-brcmstb@107d508500] (32 lines)\ngpiochip1 [gpio-brcmstb@107d508520] (4 lines)\n' +
  'gpiochip2 [gpio-brcmstb@107d517c00] (17 lines)\ngpiochip3 [gpio-brcmstb@107d517c20] (6 lines)\ngpiochip4 [pinctrl-rp1] (54 lines)\n';
const PI4 = 'gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n';

/** Scripts standing in for the libgpiod tools (v1.6 output), and a /dev with the given character devices. */
function fakeGpiod(detectOut: string, devices: string[]): { tools: Record<string, string>; devRoot: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ata-gpiod-auto-'));
  const devRoot = join(dir, 'dev');
  mkdirSync(devRoot);
  for (const d of devices) writeFileSync(join(devRoot, d), '');
  const tools: Record<string, string> = {
    gpiomon: '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "gpiomon (libgpiod) v1.6.3"; exit 0; fi\nsleep 5\n',
    gpioget: '#!/bin/sh\necho 1\n',
    gpioset: '#!/bin/sh\nsleep 5\n',
    gpiodetect: `#!/bin/sh\nprintf '${detectOut.replace(/\n/g, '\\n')}'\n`,
  };
  for (const [name, body] of Object.entries(tools)) {
    const f = join(dir, name);
    writeFileSync(f, body);
    chmodSync(f, 0o755);
    tools[name] = f;
  }
  return { tools, devRoot };
}

describe('character-device chip and the auto choice (mocked GPIO: no chip here, tools replaced by scripts)', () => {
  it('gpiodetect output: the SoC chip is found by label, not assumed to be gpiochip0', () => {
    expect(parseGpiodetect(PI5_EARLY).map((c) => c.name)).toEqual(['gpiochip0', 'gpiochip1', 'gpiochip2', 'gpiochip3', 'gpiochip4']);
    expect(chooseChardevChip(parseGpiodetect(PI5_EARLY), 'gpiochip0')).toBe('gpiochip4');
    expect(chooseChardevChip(parseGpiodetect(PI4), undefined)).toBe('gpiochip0');
    expect(chooseChardevChip(parseGpiodetect(PI5_EARLY), 'gpiochip2')).toBe('gpiochip2'); // named in board.gpio_chip
    expect(chooseChardevChip(parseGpiodetect('garbage\n[x] (1 lines)\n'), undefined)).toBe('gpiochip0');
  });

  it('auto picks the character device when the tools work, on the chip gpiodetect labels as the SoC (Pi 5, early kernel)', async () => {
    const { tools, devRoot } = fakeGpiod(PI5_EARLY, ['gpiochip0', 'gpiochip4']);
    const drv = await openGpioDriver('auto', { clock: new FakeClock(), log: silentLog, devRoot, tools, sysfsRoot: join(devRoot, 'none') });
    expect(drv.kind).toBe('chardev');
    expect((drv as ChardevGpioDriver).chip).toBe('gpiochip4');
    await drv.close();
  });

  it('auto falls back to sysfs (onoff) when the libgpiod tools cannot run, on the renumbered chip', async () => {
    const { devRoot } = fakeGpiod(PI4, ['gpiochip0']);
    const sysfsRoot = sysfsTree([{ base: 512, ngpio: 58, label: 'pinctrl-bcm2711' }]);
    const drv = await openGpioDriver('auto', { clock: new FakeClock(), log: silentLog, devRoot, sysfsRoot, tools: { gpiomon: join(devRoot, 'no-such-gpiomon') } });
    expect(drv.kind).toBe('sysfs');
    await drv.close();
  });

  it('a chip gpiodetect names but /dev lacks is a DeviceUnavailableError naming board.gpio_chip', async () => {
    const { tools, devRoot } = fakeGpiod(PI5_EARLY, ['gpiochip0']);
    const err = await openGpioDriver('chardev', { clock: new FakeClock(), log: silentLog, devRoot, tools }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.gpio_chip');
    expect((err as Error).message).toContain('gpiochip4');
  });
});
