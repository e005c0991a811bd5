import { Ag1171Line } from '../hal/drivers/ag1171-line.js';
import { openGpioDriver } from '../hal/drivers/gpio-auto.js';
import { BoardConfigError } from '../hal/errors.js';
import type { GpioDriver } from '../hal/gpio.js';
import { boardAudio } from './audio.js';
import { optChoice, optInt, optString } from './config-keys.js';
import type { Board, BoardConfig, BoardDeps } from './types.js';

/** Default wiring (BCM numbers), chosen clear of I2C, SPI, UART and I2S pins; see docs/wiring.md. */
export const AG1171_DEFAULT_PINS = { hook: 17, rm: 27, fr: 22 } as const;

function ringPins(cfg: BoardConfig): { rm: number; fr: number } {
  const v = cfg.ring_pins;
  if (v === undefined) return { rm: AG1171_DEFAULT_PINS.rm, fr: AG1171_DEFAULT_PINS.fr };
  const ok = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 53;
  if (!Array.isArray(v) || v.length !== 2 || !ok(v[0]) || !ok(v[1])) {
    throw new BoardConfigError('board.ring_pins', v, 'must be [RM, F/R] as two BCM numbers 0-53');
  }
  return { rm: v[0], fr: v[1] };
}

/**
 * An AG1171 SLIC module on a Raspberry Pi's GPIO header (SHK in, RM and F/R out) with a USB sound card. One line.
 */
export async function createAg1171Board(cfg: BoardConfig, deps: BoardDeps): Promise<Board> {
  const hookPin = optInt(cfg, 'hook_pin', 0, 53) ?? AG1171_DEFAULT_PINS.hook;
  const { rm, fr } = ringPins(cfg);
  if (new Set([hookPin, rm, fr]).size !== 3) throw new BoardConfigError('board.ring_pins', [rm, fr], `hook_pin ${hookPin}, RM and F/R must be three different pins`);
  const ringHz = optInt(cfg, 'ring_hz', 15, 50) ?? 20;
  const gpioDriver = optChoice(cfg, 'gpio_driver', ['auto', 'sysfs', 'chardev'] as const) ?? 'auto';
  const chip = optString(cfg, 'gpio_chip');
  const audio = boardAudio(cfg, deps);
  const gpio: GpioDriver = await openGpioDriver(gpioDriver, { clock: deps.clock, log: deps.log, chip });
  try {
    const shk = await gpio.input(hookPin, { edge: 'both', configKey: 'board.hook_pin' });
    const rmOut = await gpio.output(rm, { initial: 0, configKey: 'board.ring_pins' });
    const frOut = await gpio.output(fr, { initial: 1, configKey: 'board.ring_pins' });
    const line = new Ag1171Line(0, shk, rmOut, frOut, ringHz, deps.clock, deps.log);
    deps.log.info({ gpio: gpio.kind, hook_pin: hookPin, rm, fr, ring_hz: ringHz }, 'ag1171 board ready');
    return {
      type: 'ag1171',
      lines: [{ line, audio }],
      async close() {
        await line.close();
        await audio.close();
        await gpio.close();
      },
    };
  } catch (err) {
    await gpio.close();
    throw err;
  }
}
