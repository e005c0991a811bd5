import { SimAudioPort } from '../hal/drivers/sim-audio.js';
import { SimLine, SimPhoneStateError } from '../hal/drivers/sim-line.js';
import { readPcm8kMonoWav } from '../hal/drivers/wav-file.js';
import { optInt, optString, perLinePath, resolvePath } from './config-keys.js';
import type { Board, BoardConfig, BoardDeps, SimPhone, SimPhoneControls } from './types.js';

class SimulatedPhone implements SimPhone {
  constructor(
    readonly line: SimLine,
    readonly audio: SimAudioPort,
    private readonly deps: BoardDeps,
    readonly earpiecePath: string | undefined,
  ) {
    line.onHookState((off) => audio.setOffHook(off));
  }
  get lineId(): number {
    return this.line.id;
  }
  get offHook(): boolean {
    return this.line.offHook;
  }
  get ringing(): boolean {
    return this.line.ringing;
  }
  get polarityReversed(): boolean {
    return this.line.polarityReversed;
  }
  setHook(offHook: boolean): void {
    this.line.setHook(offHook);
  }
  flash(ms = 300): Promise<void> {
    if (!this.line.offHook) return Promise.reject(new SimPhoneStateError(this.lineId, 'flash', 'the phone is on hook'));
    this.line.setHook(false);
    return new Promise((resolve) => {
      this.deps.clock.setTimeout(() => {
        this.line.setHook(true);
        resolve();
      }, ms);
    });
  }
  pulseDial(digits: string): Promise<void> {
    return this.line.pulseDial(digits);
  }
  injectMouthpiece(pcm: Int16Array): void {
    this.audio.injectMouthpiece(pcm);
  }
}

/**
 * The board for a machine with no phone attached: `lines` simulated phones (default 1), each with its mouthpiece
 * fed from `audio_in` and its earpiece recorded to `audio_out` (`-N` added before the extension for line N > 0).
 */
export async function createSimBoard(cfg: BoardConfig, deps: BoardDeps): Promise<Board> {
  const count = optInt(cfg, 'lines', 1, 8) ?? 1;
  const audioIn = optString(cfg, 'audio_in');
  const audioOut = optString(cfg, 'audio_out');
  const mouthpiece = audioIn ? readPcm8kMonoWav(resolvePath(deps.baseDir, audioIn), 'board.audio_in') : undefined;
  const onListenerError = (err: unknown): void => deps.log.error({ err }, 'sim board: a listener threw');

  const phones: SimulatedPhone[] = [];
  for (let id = 0; id < count; id++) {
    const earpiecePath = audioOut ? perLinePath(resolvePath(deps.baseDir, audioOut), id) : undefined;
    const line = new SimLine(id, deps.clock, onListenerError);
    const audio = new SimAudioPort(deps.clock, { mouthpiece, earpiecePath, earpieceConfigKey: 'board.audio_out' }, onListenerError);
    phones.push(new SimulatedPhone(line, audio, deps, earpiecePath));
  }
  const sim: SimPhoneControls = {
    phones,
    phone(lineId: number): SimPhone {
      const p = phones[lineId];
      if (!p) throw new SimPhoneStateError(lineId, 'find the phone', `the sim board has lines 0-${count - 1}`);
      return p;
    },
  };
  deps.log.info({ lines: count, audio_in: audioIn ?? null, audio_out: audioOut ?? null }, 'sim board ready');
  return {
    type: 'sim',
    lines: phones.map((p) => ({ line: p.line, audio: p.audio })),
    sim,
    async close() {
      for (const p of phones) {
        await p.line.close();
        await p.audio.close();
      }
    },
  };
}
