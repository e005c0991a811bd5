import type { Clock } from '../clock.js';
import type { HalLog } from '../errors.js';
import { FrameClock } from '../frame-clock.js';
import type { GpioInput, GpioOutput } from '../gpio.js';
import { HookEdgeFanout, type Line } from '../line.js';

/**
 * A line on an AG1171 SLIC: SHK reads the hook (high = off hook), RM high selects ring mode, and while it is high
 * toggling F/R at the ring frequency makes the ring voltage; outside ringing F/R is the line polarity (high =
 * forward). The module has no pin to open the loop, so disconnect() can only be logged.
 */
export class Ag1171Line implements Line {
  private readonly edges = new HookEdgeFanout();
  private readonly ringClock: FrameClock;
  private ringing = false;
  private reversed = false;
  private frLevel: 0 | 1 = 1;
  private warnedDisconnect = false;
  private closed = false;

  constructor(
    readonly id: number,
    private readonly shk: GpioInput,
    private readonly rm: GpioOutput,
    private readonly fr: GpioOutput,
    ringHz: number,
    clock: Clock,
    private readonly log: HalLog,
  ) {
    // Each tick is half a ring cycle: 25 ms at 20 Hz, 20 ms at 25 Hz.
    this.ringClock = new FrameClock(clock, 500 / ringHz, () => this.toggleFr());
    shk.onEdge((v, at) => {
      if (!this.closed) this.edges.emit(v === 1, at, (err) => this.log.error({ err }, 'hook edge listener threw'));
    });
  }

  onHookEdge(cb: (offHook: boolean, atMs: number) => void): void {
    this.edges.add(cb);
  }

  setRinging(on: boolean): void {
    if (on === this.ringing || this.closed) return;
    this.ringing = on;
    if (on) {
      this.rm.write(1);
      this.ringClock.start();
    } else {
      this.ringClock.stop();
      this.rm.write(0);
      this.setFr(this.reversed ? 0 : 1);
    }
  }

  setPolarity(reversed: boolean): void {
    this.reversed = reversed;
    if (!this.ringing && !this.closed) this.setFr(reversed ? 0 : 1);
  }

  disconnect(ms: number): void {
    if (this.warnedDisconnect) return;
    this.warnedDisconnect = true;
    this.log.warn({ line: this.id, ms }, 'the AG1171 has no loop-disconnect control; disconnect supervision is not sent');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.setRinging(false);
    this.closed = true;
    await this.shk.close();
    await this.rm.close();
    await this.fr.close();
  }

  private toggleFr(): void {
    this.setFr(this.frLevel ? 0 : 1);
  }

  private setFr(v: 0 | 1): void {
    this.frLevel = v;
    this.fr.write(v);
  }
}
