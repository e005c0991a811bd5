/**
 * The hardware layer, as `pi-ata/hal`. Importing it loads no hardware package: the drivers import onoff, speaker,
 * mic and serialport only when a board opens them. It does load the project's own C module (hal/native) when that is
 * built: a few system calls, nothing that touches a device.
 */
export type { Line, HookEdgeListener } from './line.js';
export { HookEdgeFanout } from './line.js';
export type { AudioPort } from './audio-port.js';
export { AUDIO_SAMPLE_RATE, AUDIO_FRAME_SAMPLES, AUDIO_FRAME_MS, FrameAssembler } from './audio-port.js';
export type { GpioDriver, GpioDriverName, GpioEdge, GpioInput, GpioOutput } from './gpio.js';
export { HalError, DeviceUnavailableError, DriverPackageMissingError, BoardConfigError, silentLog } from './errors.js';
export type { HalLog } from './errors.js';
export { Resampler } from './drivers/resampler.js';
export type { ResamplerOptions } from './drivers/resampler.js';
export { readPcm8kMonoWav, StreamingWavWriter } from './drivers/wav-file.js';
export { SampleRing } from './drivers/sample-ring.js';
export { SimLine, SimPhoneStateError, PULSE_BREAK_MS, PULSE_MAKE_MS, PULSE_INTERDIGIT_MS } from './drivers/sim-line.js';
export { SimAudioPort } from './drivers/sim-audio.js';
export { AlsaCliAudioPort } from './drivers/alsa-cli.js';
export type { AlsaCliOptions } from './drivers/alsa-cli.js';
export { SpeakerMicAudioPort } from './drivers/alsa-npm.js';
export { SerialSlicController, SerialSlicLine } from './drivers/serial-slic.js';
export { PROTOCOL_VERSION as SERIAL_SLIC_PROTOCOL_VERSION } from './drivers/serial-slic-protocol.js';
export { openGpioDriver } from './drivers/gpio-auto.js';
export { Ag1171Line } from './drivers/ag1171-line.js';
export { mediaIo, mediaIoMissing, monotonicOffset } from './media-io.js';
export type { MediaIo, NativeTimerHandle } from './media-io.js';
export { PreciseTimer } from './precise-timer.js';
export { NativeUdpSocket, NativeUdpSocketError, MAX_DRAIN } from './native-udp-socket.js';
export type { DatagramSocket, DatagramSource, DatagramListener } from './datagram-socket.js';
export { LoopClock } from './loop-clock.js';
export { FrameClock, FrameClockError } from './frame-clock.js';
export type { FrameClockOptions, FrameClockState, FrameClockWake } from './frame-clock.js';
export { setWakeupSlice, describeWakeupSlice, PACKET_CLOCK_SLICE_US, SLICE_MIN_US, SLICE_MAX_US } from './wakeup-slice.js';
export type { WakeupSlice } from './wakeup-slice.js';
