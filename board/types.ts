import type { AudioPort } from '../hal/audio-port.js';
import type { Clock } from '../hal/clock.js';
import type { HalLog } from '../hal/errors.js';
import type { Line } from '../hal/line.js';

export type BoardType = 'sim' | 'ag1171' | 'serial-slic';

/** The `[board]` table of the config, as parsed TOML: each board checks the keys it reads. */
export interface BoardConfig {
  type: BoardType | string;
  [key: string]: unknown;
}

export interface BoardDeps {
  clock: Clock;
  log: HalLog;
  /** Relative file and device paths in the config are resolved against this (the config file's directory). */
  baseDir: string;
}

/** The simulated phone on one sim line, driven by the control API. */
export interface SimPhone {
  readonly lineId: number;
  readonly offHook: boolean;
  readonly ringing: boolean;
  readonly polarityReversed: boolean;
  /** Moves the hook switch: a real edge on the sim Line, so the real HookDetector sees it. */
  setHook(offHook: boolean): void;
  /** On hook for `ms` (default 300) then off hook again, on the injected Clock. */
  flash(ms?: number): Promise<void>;
  /** Rotary dialing: 10 pps, 60/40 ms break/make, 700 ms between digits, on the injected Clock. */
  pulseDial(digits: string): Promise<void>;
  /** Audio mixed into what the mouthpiece sends (e.g. DTMF); only while off hook, like a real handset. */
  injectMouthpiece(pcm: Int16Array): void;
  /** Path of the earpiece WAV (`audio_out`), if recorded. */
  readonly earpiecePath: string | undefined;
}

export interface SimPhoneControls {
  readonly phones: readonly SimPhone[];
  /** The phone on line `lineId`; throws a SimPhoneStateError for a line the board does not have. */
  phone(lineId: number): SimPhone;
}

export interface Board {
  type: BoardType;
  lines: Array<{ line: Line; audio: AudioPort }>;
  sim?: SimPhoneControls;
  close(): Promise<void>;
}
