import type { Clock, TimerHandle } from '../clock.js';
import { DeviceUnavailableError, importOptional, type HalLog } from '../errors.js';
import { HookEdgeFanout, type Line } from '../line.js';
import {
  encodeCommand,
  LineSplitter,
  McuClockMapper,
  parseControllerLine,
  PROTOCOL_VERSION,
  type ControllerMessage,
  type HostCommand,
} from './serial-slic-protocol.js';

/** The part of serialport's stream this driver uses (SerialPort and SerialPortStream both fit). */
interface PortStream {
  open(cb: (err: Error | null) => void): void;
  write(data: string): boolean;
  close(cb?: (err: Error | null) => void): void;
  destroy(): void;
  readonly isOpen: boolean;
  on(ev: 'data', cb: (d: Buffer) => void): unknown;
  on(ev: 'close', cb: (err?: Error | null) => void): unknown;
  on(ev: 'error', cb: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export interface SerialSlicOptions {
  path: string;
  baudRate: number;
  clock: Clock;
  log: HalLog;
  /** Lines the board exposes; the controller must report at least this many. */
  lines?: number;
  ringHz?: number;
  heartbeatMs?: number;
  handshakeTimeoutMs?: number;
  /** A serialport binding (tests pass @serialport/binding-mock); default: the `serialport` package. */
  binding?: unknown;
  configKey?: string;
}

export type SerialSlicState = 'idle' | 'opening' | 'handshake' | 'ready' | 'backoff' | 'closed';

/** One FXS line behind the controller. Ring and polarity are remembered and replayed after a reconnect. */
export class SerialSlicLine implements Line {
  private readonly edges = new HookEdgeFanout();
  ringing = false;
  reversed = false;
  offHook: boolean | undefined;

  constructor(
    readonly id: number,
    private readonly ctl: SerialSlicController,
  ) {}

  onHookEdge(cb: (offHook: boolean, atMs: number) => void): void {
    this.edges.add(cb);
  }
  setRinging(on: boolean): void {
    this.ringing = on;
    this.ctl.send({ kind: 'ring', line: this.id, on, hz: this.ctl.ringHz });
  }
  setPolarity(reversed: boolean): void {
    this.reversed = reversed;
    this.ctl.send({ kind: 'polarity', line: this.id, reversed });
  }
  disconnect(ms: number): void {
    this.ctl.send({ kind: 'open-loop', line: this.id, ms: Math.max(0, Math.min(60_000, Math.round(ms))) });
  }
  async close(): Promise<void> {
    if (this.ringing) this.setRinging(false);
  }
  /** A hook report: only a change is an edge (the state report after each handshake repeats the current state). */
  hookReport(offHook: boolean, atMs: number, onError: (err: unknown) => void): void {
    if (this.offHook === offHook) return;
    this.offHook = offHook;
    this.edges.emit(offHook, atMs, onError);
  }
}

/**
 * A microcontroller driving the SLICs over a serial port (docs/serial-protocol.md). Survives unplugging: the loss
 * is logged once, the port is reopened with back-off (0.5 s doubling to 10 s), and the lines' ring and polarity
 * states are replayed once the handshake succeeds again. Malformed lines are counted and skipped.
 */
export class SerialSlicController {
  state: SerialSlicState = 'idle';
  readonly lines: SerialSlicLine[];
  readonly ringHz: number;
  framingErrors = 0;
  reconnects = 0;
  firmware: string | undefined;
  private port: PortStream | undefined;
  private readonly splitter: LineSplitter;
  private readonly mcuClock = new McuClockMapper();
  private timer: TimerHandle | undefined;
  private heartbeat: TimerHandle | undefined;
  private backoffMs = 500;
  private pingSeq = 0;
  private lastHeard = 0;
  private outageLogged = false;
  private firstStart: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private readonly configKey: string;
  private readonly heartbeatMs: number;

  constructor(private readonly opts: SerialSlicOptions) {
    this.ringHz = opts.ringHz ?? 20;
    this.heartbeatMs = opts.heartbeatMs ?? 2000;
    this.configKey = opts.configKey ?? 'board.port';
    this.lines = Array.from({ length: opts.lines ?? 1 }, (_, i) => new SerialSlicLine(i, this));
    this.splitter = new LineSplitter(
      (l) => this.onLine(l),
      () => this.skip('too-long', ''),
    );
  }

  /** Opens the port and completes the handshake; a port that can't be opened at startup is a DeviceUnavailableError. */
  start(): Promise<void> {
    if (this.state !== 'idle') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.firstStart = { resolve, reject };
      void this.connect();
    });
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    for (const l of this.lines) if (l.ringing) l.setRinging(false);
    this.state = 'closed';
    this.opts.clock.clearTimeout(this.timer);
    this.opts.clock.clearTimeout(this.heartbeat);
    const port = this.port;
    this.port = undefined;
    if (port) {
      port.removeAllListeners();
      port.on('error', () => {});
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    }
  }

  send(c: HostCommand): void {
    if (this.state !== 'ready' && !(this.state === 'handshake' && c.kind === 'hello')) return;
    this.port?.write(encodeCommand(c));
  }

  private async connect(): Promise<void> {
    this.state = 'opening';
    let port: PortStream;
    try {
      port = await this.makePort();
    } catch (err) {
      return this.failed(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.state !== 'opening') return;
    this.port = port;
    port.on('data', (d) => this.splitter.push(d));
    port.on('error', (e) => this.lost(e.message));
    port.on('close', (e) => this.lost(e ? e.message : 'port closed'));
    port.open((err) => {
      if (this.state !== 'opening' || this.port !== port) return;
      if (err) return this.failed(err);
      this.state = 'handshake';
      this.splitter.reset();
      this.mcuClock.reset();
      this.send({ kind: 'hello', protocol: PROTOCOL_VERSION });
      this.timer = this.opts.clock.setTimeout(() => this.failed(new Error('no VER reply to HELLO')), this.opts.handshakeTimeoutMs ?? 2000);
    });
  }

  private async makePort(): Promise<PortStream> {
    const common = { path: this.opts.path, baudRate: this.opts.baudRate, autoOpen: false };
    if (this.opts.binding) {
      const { SerialPortStream } = await importOptional<typeof import('@serialport/stream')>('@serialport/stream', this.configKey);
      return new SerialPortStream({ ...common, binding: this.opts.binding } as never) as unknown as PortStream;
    }
    const { SerialPort } = await importOptional<typeof import('serialport')>('serialport', this.configKey);
    return new SerialPort(common) as unknown as PortStream;
  }

  private failed(err: Error): void {
    if (this.state === 'closed') return;
    this.opts.clock.clearTimeout(this.timer);
    this.dropPort();
    const start = this.firstStart;
    if (start) {
      this.firstStart = undefined;
      this.state = 'closed';
      start.reject(new DeviceUnavailableError(this.opts.path, this.configKey, err.message));
      return;
    }
    this.opts.log.debug({ port: this.opts.path, err: err.message }, 'serial SLIC reconnect attempt failed');
    this.scheduleReconnect();
  }

  private lost(reason: string): void {
    if (this.state === 'closed' || this.state === 'backoff' || this.state === 'idle') return;
    if (this.state === 'opening' || this.state === 'handshake') return this.failed(new Error(reason));
    this.opts.clock.clearTimeout(this.heartbeat);
    if (!this.outageLogged) {
      this.outageLogged = true;
      this.opts.log.warn({ port: this.opts.path, reason }, `serial SLIC controller on ${this.opts.path} lost (${reason}); reconnecting`);
    }
    this.dropPort();
    this.scheduleReconnect();
  }

  private dropPort(): void {
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    port.removeAllListeners();
    port.on('error', () => {});
    if (port.isOpen) port.close();
  }

  private scheduleReconnect(): void {
    this.state = 'backoff';
    const wait = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    this.timer = this.opts.clock.setTimeout(() => {
      if (this.state === 'backoff') void this.connect();
    }, wait);
  }

  private onLine(text: string): void {
    const msg = parseControllerLine(text);
    if (typeof msg === 'string') return this.skip(msg, text);
    this.lastHeard = this.opts.clock.now();
    this.handle(msg);
  }

  private skip(reason: string, text: string): void {
    this.framingErrors++;
    this.opts.log.debug({ port: this.opts.path, reason, line: text.slice(0, 40) }, 'serial SLIC: skipped a malformed line');
  }

  private handle(msg: ControllerMessage): void {
    switch (msg.kind) {
      case 'version':
        if (this.state !== 'handshake') return;
        this.opts.clock.clearTimeout(this.timer);
        if (msg.protocol !== PROTOCOL_VERSION || msg.lines < this.lines.length) {
          const why = msg.protocol !== PROTOCOL_VERSION ? `speaks protocol ${msg.protocol}, we speak ${PROTOCOL_VERSION}` : `has ${msg.lines} lines, config wants ${this.lines.length}`;
          return this.failed(new Error(`controller firmware ${msg.firmware} ${why}`));
        }
        this.ready(msg.firmware);
        return;
      case 'hook': {
        if (this.state !== 'ready') return;
        const line = this.lines[msg.line];
        if (!line) return this.skip('bad-field', `HOOK for line ${msg.line}`);
        const at = this.mcuClock.map(msg.mcuMs, this.opts.clock.now());
        line.hookReport(msg.offHook, at, (err) => this.opts.log.error({ err }, 'hook edge listener threw'));
        return;
      }
      case 'pong':
        this.mcuClock.map(msg.mcuMs, this.opts.clock.now());
        return;
      case 'error':
        this.opts.log.warn({ port: this.opts.path, code: msg.code, text: msg.text }, 'serial SLIC controller reported an error');
        return;
    }
  }

  private ready(firmware: string): void {
    const wasStart = this.firstStart;
    this.firstStart = undefined;
    this.state = 'ready';
    this.firmware = firmware;
    this.backoffMs = 500;
    this.lastHeard = this.opts.clock.now();
    if (this.outageLogged) {
      this.reconnects++;
      this.outageLogged = false;
      this.opts.log.info({ port: this.opts.path, firmware }, `serial SLIC controller on ${this.opts.path} is back`);
    }
    for (const l of this.lines) {
      if (l.ringing) this.send({ kind: 'ring', line: l.id, on: true, hz: this.ringHz });
      if (l.reversed) this.send({ kind: 'polarity', line: l.id, reversed: true });
    }
    this.scheduleHeartbeat();
    wasStart?.resolve();
  }

  private scheduleHeartbeat(): void {
    this.heartbeat = this.opts.clock.setTimeout(() => {
      if (this.state !== 'ready') return;
      if (this.opts.clock.now() - this.lastHeard > 3 * this.heartbeatMs) return this.lost('no reply to 3 heartbeats');
      this.pingSeq = (this.pingSeq + 1) >>> 0;
      this.send({ kind: 'ping', seq: this.pingSeq });
      this.scheduleHeartbeat();
    }, this.heartbeatMs);
  }
}
