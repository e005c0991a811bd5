import { AlsaCliAudioPort } from '../hal/drivers/alsa-cli.js';
import { SpeakerMicAudioPort } from '../hal/drivers/alsa-npm.js';
import type { AudioPort } from '../hal/audio-port.js';
import { optChoice, optInt, optString } from './config-keys.js';
import type { BoardConfig, BoardDeps } from './types.js';

export const AUDIO_DRIVERS = ['alsa-cli', 'speaker-mic'] as const;
export type AudioDriverName = (typeof AUDIO_DRIVERS)[number];

/**
 * The sound card of a hardware board. `alsa-cli` (arecord/aplay with 20 ms periods) is the default: it adds about
 * 40 ms, where speaker's fixed 0.5 s ALSA buffer adds over half a second (scripts/bench/alsa-latency.bench.mjs).
 */
export function boardAudio(cfg: BoardConfig, deps: BoardDeps): AudioPort {
  const driver = optChoice(cfg, 'audio_driver', AUDIO_DRIVERS) ?? 'alsa-cli';
  const captureDevice = optString(cfg, 'audio_in_device') ?? 'default';
  const playbackDevice = optString(cfg, 'audio_out_device') ?? 'default';
  const cardRate = optInt(cfg, 'audio_rate', 8000, 192000) ?? 8000;
  if (driver === 'speaker-mic') {
    return new SpeakerMicAudioPort({ captureDevice, playbackDevice, cardRate, log: deps.log });
  }
  return new AlsaCliAudioPort({ captureDevice, playbackDevice, cardRate, clock: deps.clock, log: deps.log });
}
