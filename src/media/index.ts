/**
 * `pi-ata/media`: the media engine as a library. G.711, RTP/RTCP, the jitter buffer and concealment, RFC 4733,
 * DTMF detection and generation, call-progress tones, ring cadences and caller ID. No SIP, no hardware.
 */
export * from './g711.js';
export * from './rtp-packet.js';
export * from './rtcp.js';
export * from './rtp-session.js';
export * from './media-stats.js';
export * from './jitter-buffer.js';
export * from './plc.js';
export * from './telephone-event.js';
export * from './dtmf-keypad.js';
export * from './dtmf-detector.js';
export * from './dtmf-generator.js';
export * from './signal-level.js';
export * from './tone-plan.js';
export * from './tone-generator.js';
export * from './ring-cadence.js';
export * from './fsk-modulator.js';
export * from './caller-id.js';
export * from './frame-ring.js';
export * from './rtp-stream-thread.js';
export { nativeBinder, bindDgram, type SocketBinder } from './rtp-port-pair.js';
export { FrameClock } from '../../hal/frame-clock.js';
