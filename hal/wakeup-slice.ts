import { EINVAL, EPERM, ESRCH, mediaIo, mediaIoMissing, type MediaIo } from './media-io.js';

/**
 * A short scheduler slice for a thread that runs a packet clock, so that it runs when its timer fires rather than
 * after whatever thread holds the core (hal/native/wakeup-slice.c says how Linux's scheduler uses it). It is not a
 * priority and needs no privilege: the thread gets no more CPU than before, only its turn sooner.
 *
 * Who asks: the agent's main thread (FrameClock on the sim board, the sound card's capture pipe on the others, and
 * the sends they pace), the media thread of src/media/rtp-stream-thread.ts, and for a sound card its arecord, whose
 * wake-up at each period is what paces a call there, and its aplay (hal/drivers/alsa-cli.ts). Raising the nice
 * value (the systemd unit's Nice=-10) is still worth having on a Pi that runs other services, since it is a share of
 * the CPU; the slice is what makes the wake-up itself prompt, and it is what a user without CAP_SYS_NICE still gets.
 */

/**
 * 0.1 ms: the kernel's least. A tick's work is about that on the development VM (ten times more on a Pi Zero 2,
 * where a long tick is simply cut in turns, still each taken promptly); the default is 0.7-3 ms.
 */
export const PACKET_CLOCK_SLICE_US = 100;

/** The slices the kernel accepts (hal/native/wakeup-slice.c refuses others with -EINVAL). */
export const SLICE_MIN_US = 100;
export const SLICE_MAX_US = 100_000;

export type WakeupSlice =
  /** The slice the kernel reports for the thread now, in microseconds. */
  | { granted: true; us: number }
  | { granted: false; reason: string };

/**
 * Asks for `us` for the calling thread, or for thread `tid` (a child process's pid: its main thread); 0 gives back
 * the kernel's default. What the kernel made of it. `io` is the native module (null: as where it is not built).
 */
export function setWakeupSlice(us: number = PACKET_CLOCK_SLICE_US, io: MediaIo | null = mediaIo ?? null, tid = 0): WakeupSlice {
  if (!io) return { granted: false, reason: `hal/native is ${mediaIoMissing ?? 'not loaded'}` };
  const r = io.threadSlice(us, tid);
  if (r > 0) return { granted: true, us: r };
  if (r === 0) return { granted: false, reason: 'the kernel keeps no scheduler slice per thread (Linux 6.12 and later do)' };
  if (r === -EPERM) return { granted: false, reason: 'the thread runs on a real-time policy, which has no slice, or is not ours' };
  if (r === -ESRCH) return { granted: false, reason: `thread ${tid} is gone` };
  if (r === -EINVAL) return { granted: false, reason: `a slice of ${us} us is outside the kernel's ${SLICE_MIN_US}-${SLICE_MAX_US} us` };
  return { granted: false, reason: `sched_setattr failed (errno ${-r})` };
}

/** For a log line: "0.1 ms", or why the thread keeps the kernel's default. */
export function describeWakeupSlice(s: WakeupSlice): string {
  return s.granted ? `${s.us / 1000} ms` : `kernel default (${s.reason})`;
}
