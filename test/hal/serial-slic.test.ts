import { MockBinding, type MockPortBinding } from '@serialport/binding-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { DeviceUnavailableError, type HalLog } from '../../hal/errors.js';
import { SerialSlicController } from '../../hal/drivers/serial-slic.js';
import fc from 'fast-check';
import { checksum, encodeCommand, LineSplitter, McuClockMapper, parseControllerLine } from '../../hal/drivers/serial-slic-protocol.js';

const PATH = '/dev/ttyMOCK0';
const frame = (body: string): string => `${body}*${checksum(body)}\n`;

/** Lets the mock binding's promise-based I/O run (no time passes on any clock). */
async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 50_000; i++) {
    if (pred()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

function recordingLog() {
  const lines: Array<{ level: string; msg?: string }> = [];
  const rec = (level: string) => (_o: object, msg?: string) => void lines.push({ level, msg });
  const log: HalLog = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
  return { log, lines };
}

/** The binding, with a handle on the port the driver opened: the "microcontroller" end of the wire. */
function capturingBinding() {
  const opened: MockPortBinding[] = [];
  const binding = {
    ...MockBinding,
    async open(opts: Parameters<typeof MockBinding.open>[0]) {
      const p = await MockBinding.open(opts);
      opened.push(p);
      return p;
    },
  };
  return { binding, opened, current: () => opened[opened.length - 1] };
}

const written = (p: MockPortBinding): string => p.recording.toString('latin1');

async function connected(lines = 1) {
  MockBinding.createPort(PATH, { record: true });
  const clock = new FakeClock();
  const { log, lines: logLines } = recordingLog();
  const b = capturingBinding();
  const ctl = new SerialSlicController({ path: PATH, baudRate: 115200, clock, log, binding: b.binding, lines });
  const started = ctl.start();
  await until(() => b.opened.length > 0 && written(b.current()).includes('HELLO'), 'HELLO sent');
  expect(written(b.current())).toBe(encodeCommand({ kind: 'hello', protocol: 1 }));
  b.current().emitData(frame(`VER 1 fw-0.3 ${lines}`));
  await started;
  return { clock, ctl, b, logLines };
}

afterEach(() => MockBinding.reset());

describe('serial line protocol', () => {
  it('parses what the controller sends and refuses malformed lines with a reason', () => {
    expect(parseControllerLine(frame('HOOK 0 1 123456').trim())).toEqual({ kind: 'hook', line: 0, offHook: true, mcuMs: 123456 });
    expect(parseControllerLine('HOOK 0 1 123456*00')).toBe('bad-checksum');
    expect(parseControllerLine('HOOK 0 1 123456')).toBe('no-checksum');
    expect(parseControllerLine(frame('HOOK 0 2 5').trim())).toBe('bad-field');
    expect(parseControllerLine(frame('HOOK 0 1 99999999999').trim())).toBe('bad-field');
    expect(parseControllerLine(frame('WAT 1').trim())).toBe('unknown-message');
    expect(parseControllerLine('x'.repeat(200))).toBe('too-long');
  });
});

describe('serial line protocol: hostile bytes and clocks', () => {
  it('any byte stream splits and parses without throwing, and a valid line after garbage still parses', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const got: unknown[] = [];
        const s = new LineSplitter((l) => got.push(parseControllerLine(l)), () => {});
        for (const c of chunks) s.push(Buffer.from(c));
        s.push(Buffer.from('\n' + frame('HOOK 0 1 42')));
        expect(got[got.length - 1]).toEqual({ kind: 'hook', line: 0, offHook: true, mcuMs: 42 });
      }),
    );
  });

  it('maps the controller counter across its 32-bit wrap', () => {
    const m = new McuClockMapper();
    expect(m.map(0xffffff00, 1000)).toBe(1000);
    expect(m.map(0x00000010, 1272)).toBe(1272); // 0x110 = 272 ms later, after the wrap
    expect(m.map(0x00000020, 1400)).toBe(1288); // arrived late: keeps the controller's instant
  });
});

describe('serial SLIC driver (serialport MockBinding)', () => {
  it('handshakes, then turns HOOK reports into edges on the host clock, changes only', async () => {
    const { clock, ctl, b } = await connected();
    expect(ctl.state).toBe('ready');
    expect(ctl.firmware).toBe('fw-0.3');
    const edges: Array<[boolean, number]> = [];
    ctl.lines[0].onHookEdge((off, at) => edges.push([off, at]));
    clock.advance(1000);
    b.current().emitData(frame('HOOK 0 1 5000'));
    await until(() => edges.length === 1, 'first edge');
    clock.advance(300); // this report arrives 100 ms late: its MCU timestamp places it at 1200
    b.current().emitData(frame('HOOK 0 0 5200') + frame('HOOK 0 0 5200'));
    await until(() => edges.length === 2, 'second edge');
    expect(edges).toEqual([
      [true, 1000],
      [false, 1200],
    ]);
    await ctl.close();
  });

  it('counts and skips framing errors, then goes on', async () => {
    const { clock, ctl, b } = await connected();
    const edges: boolean[] = [];
    ctl.lines[0].onHookEdge((off) => edges.push(off));
    clock.advance(10);
    b.current().emitData(Buffer.concat([Buffer.from('\x00\xff garbage\n'), Buffer.from('HOOK 0 1 10*7F\n'), Buffer.alloc(300, 0x41), Buffer.from('\n' + frame('HOOK 0 1 10'))]));
    await until(() => edges.length === 1, 'edge after garbage');
    expect(ctl.framingErrors).toBe(3);
    await ctl.close();
  });

  it('sends ring, polarity and loop-open commands in the documented framing', async () => {
    const { ctl, b } = await connected();
    const port = b.current();
    ctl.lines[0].setRinging(true);
    ctl.lines[0].setPolarity(true);
    ctl.lines[0].disconnect(800);
    ctl.lines[0].setRinging(false);
    await until(() => written(port).includes('RING 0 0'), 'commands written');
    expect(written(port).split('\n').slice(1, 5)).toEqual([frame('RING 0 1 20'), frame('POL 0 1'), frame('OPEN 0 800'), frame('RING 0 0')].map((s) => s.trim()));
    await ctl.close();
  });

  it('an unplugged controller is logged once, reconnected with back-off, and its line state replayed', async () => {
    const { clock, ctl, b, logLines } = await connected();
    ctl.lines[0].setRinging(true);
    await b.current().close(); // the USB adapter is pulled
    MockBinding.reset(); // ... and its device node is gone
    clock.advance(2000); // the next heartbeat write fails
    await until(() => ctl.state === 'backoff', 'loss noticed');
    expect(logLines.filter((l) => l.level === 'warn')).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      clock.step(); // reopen attempts fail while unplugged
      await until(() => ctl.state === 'backoff', 'retry failed');
    }
    MockBinding.createPort(PATH, { record: true }); // plugged back in
    const before = b.opened.length;
    clock.step();
    await until(() => b.opened.length > before && written(b.current()).includes('HELLO'), 'reopened');
    b.current().emitData(frame('VER 1 fw-0.3 1'));
    await until(() => ctl.state === 'ready', 'ready again');
    await until(() => written(b.current()).includes('RING'), 'ring replayed');
    expect(written(b.current())).toContain(frame('RING 0 1 20'));
    expect(ctl.reconnects).toBe(1);
    expect(logLines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(logLines.some((l) => l.level === 'info' && /is back/.test(l.msg ?? ''))).toBe(true);
    await ctl.close();
  });

  it('a missing port at startup is a DeviceUnavailableError naming board.port', async () => {
    const ctl = new SerialSlicController({ path: '/dev/ttyNOPE', baudRate: 115200, clock: new FakeClock(), log: recordingLog().log, binding: MockBinding });
    const err = await ctl.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as DeviceUnavailableError).configKey).toBe('board.port');
  });

  it('a controller speaking another protocol version is refused at startup', async () => {
    MockBinding.createPort(PATH, { record: true });
    const b = capturingBinding();
    const ctl = new SerialSlicController({ path: PATH, baudRate: 115200, clock: new FakeClock(), log: recordingLog().log, binding: b.binding });
    const started = ctl.start().then(() => undefined, (e: unknown) => e);
    await until(() => b.opened.length > 0 && written(b.current()).includes('HELLO'), 'HELLO');
    b.current().emitData(frame('VER 2 fw-9 1'));
    const err = await started;
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as Error).message).toMatch(/protocol 2/);
  });
});
