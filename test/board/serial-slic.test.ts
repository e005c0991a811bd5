// The serial-slic board as the agent builds it from [board]: the real serialport package (no binding injected),
// on a port that does not exist here. The controller protocol itself is tested on the mock binding in
// test/hal/serial-slic.test.ts.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { BoardConfigError, DeviceUnavailableError, silentLog } from '../../hal/errors.js';
import { createBoard } from '../../board/index.js';

const deps = { clock: new FakeClock(), log: silentLog, baseDir: '/tmp' };

describe('serial-slic board', () => {
  it('without a port is a BoardConfigError naming board.port', async () => {
    const err = await createBoard({ type: 'serial-slic' }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardConfigError);
    expect((err as BoardConfigError).configKey).toBe('board.port');
  });

  it('a port that is not there is a DeviceUnavailableError naming board.port and the path, not a stack trace', async () => {
    const err = await createBoard({ type: 'serial-slic', port: '/dev/ttyATA-NOPE', baud: 115200 }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.port');
    expect((err as Error).message).toContain('/dev/ttyATA-NOPE');
  });
});
