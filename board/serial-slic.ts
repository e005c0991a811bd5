import { SerialSlicController } from '../hal/drivers/serial-slic.js';
import { BoardConfigError } from '../hal/errors.js';
import { boardAudio } from './audio.js';
import { optInt, optString } from './config-keys.js';
import type { Board, BoardConfig, BoardDeps } from './types.js';

/**
 * A microcontroller drives the SLIC (ring generator, polarity, hook sensing) and talks docs/serial-protocol.md
 * over `port`; audio goes through a USB sound card. One line.
 */
export async function createSerialSlicBoard(cfg: BoardConfig, deps: BoardDeps): Promise<Board> {
  const path = optString(cfg, 'port');
  if (!path) throw new BoardConfigError('board.port', cfg.port, 'the serial port of the SLIC controller is required, e.g. "/dev/ttyUSB0"');
  const baudRate = optInt(cfg, 'baud', 1200, 4_000_000) ?? 115200;
  const ringHz = optInt(cfg, 'ring_hz', 15, 50) ?? 20;
  const ctl = new SerialSlicController({ path, baudRate, ringHz, clock: deps.clock, log: deps.log, lines: 1 });
  const audio = boardAudio(cfg, deps);
  await ctl.start();
  deps.log.info({ port: path, firmware: ctl.firmware }, 'serial-slic board ready');
  return {
    type: 'serial-slic',
    lines: [{ line: ctl.lines[0], audio }],
    async close() {
      await audio.close();
      await ctl.close();
    },
  };
}
