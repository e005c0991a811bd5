// The native floor of media-call.bench.mjs (mode floor-native of media-end.mjs): a thread on hal/media-io.ts that
// sleeps to each 20 ms deadline, sends one 172-byte datagram and drains its socket, with no media code: what the
// native engine's loop costs before any RTP, jitter buffer or G.711 runs.
import { workerData } from 'node:worker_threads';
import { mediaIo as io } from '../../../dist/hal/media-io.js';

const { fd, to, toLength, tally } = workerData;
const out = new Uint8Array(172);
const inb = new Uint8Array(2048);
const from = new Uint8Array(io.SOCKADDR_BYTES);
const meta = new Float64Array(2);
const t0 = io.monotonicMs();
for (let n = 1; ; n++) {
  io.sleepUntilMs(t0 + n * 20);
  if (io.udpSend(fd, out, 0, 172, to, toLength) > 0) tally[0]++;
  while (io.udpReceive(fd, inb, from, meta) > 0) tally[1]++;
}
