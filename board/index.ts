import { BoardConfigError } from '../hal/errors.js';
import type { Board, BoardConfig, BoardDeps } from './types.js';

export type { Board, BoardConfig, BoardDeps, BoardType, SimPhone, SimPhoneControls } from './types.js';

/**
 * Builds the board the `[board]` table names. Each board module is imported only when chosen, so a sim run never
 * loads hardware drivers (and their optional native packages).
 */
export async function createBoard(cfg: BoardConfig, deps: BoardDeps): Promise<Board> {
  switch (cfg.type) {
    case 'sim':
      return (await import('./sim.js')).createSimBoard(cfg, deps);
    case 'ag1171':
      return (await import('./ag1171.js')).createAg1171Board(cfg, deps);
    case 'serial-slic':
      return (await import('./serial-slic.js')).createSerialSlicBoard(cfg, deps);
    default:
      throw new BoardConfigError('board.type', cfg.type, 'must be one of sim, ag1171, serial-slic');
  }
}
