/**
 * One FXS line as the hardware offers it: raw hook-switch edges with the time they happened, and the signals a
 * SLIC can put on the pair. Debouncing, flash and rotary decoding live above (src/phone's HookDetector), so a
 * driver reports every edge it sees, bounces included.
 */
export interface Line {
  readonly id: number;
  /** `offHook` is the new state; `atMs` is on the injected Clock's timeline (kernel/MCU time mapped onto it). */
  onHookEdge(cb: (offHook: boolean, atMs: number) => void): void;
  /** Ring voltage on (the caller applies the cadence) or off. */
  setRinging(on: boolean): void;
  /** Line polarity reversal (ETSI caller ID alert, answer supervision). */
  setPolarity(reversed: boolean): void;
  /** Removes loop current for `ms` (disconnect supervision / "open switch interval"). */
  disconnect(ms: number): void;
  close(): Promise<void>;
}

export type HookEdgeListener = (offHook: boolean, atMs: number) => void;

/** Fan-out helper shared by the drivers: a listener that throws must not stop the others or the driver. */
export class HookEdgeFanout {
  private readonly listeners: HookEdgeListener[] = [];
  add(cb: HookEdgeListener): void {
    this.listeners.push(cb);
  }
  emit(offHook: boolean, atMs: number, onError?: (err: unknown) => void): void {
    for (const cb of this.listeners) {
      try {
        cb(offHook, atMs);
      } catch (err) {
        onError?.(err);
      }
    }
  }
}
