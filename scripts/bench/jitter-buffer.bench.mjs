// Jitter buffer cost: 20 ms packets with 5 % loss and jitter pushed and pulled as fast as possible, beside the
// bare G.711 decode of the same packets (the floor any receive path pays). Also heap growth and GC count over the
// run, since the hot path must not allocate.
import { PerformanceObserver } from 'node:perf_hooks';
import { decodeMuLaw, encodeMuLaw } from '../../dist/src/media/g711.js';
import { JitterBuffer } from '../../dist/src/media/jitter-buffer.js';

const PACKETS = 150_000; // 50 minutes of audio
const pcm = new Int16Array(160 * 64).map((_, n) => 8000 * Math.sin((2 * Math.PI * 440 * n) / 8000));
const payloads = Array.from({ length: 64 }, (_, k) => encodeMuLaw(pcm.subarray(k * 160, (k + 1) * 160)));
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const lost = new Uint8Array(PACKETS).map(() => (rnd() < 0.05 ? 1 : 0));
const jitter = new Float64Array(PACKETS).map(() => rnd() * 40);

let gcs = 0;
new PerformanceObserver((l) => (gcs += l.getEntries().length)).observe({ entryTypes: ['gc'] });

function runJb() {
  const jb = new JitterBuffer({ minMs: 20, maxMs: 200, clockRate: 8000, frameSamples: 160, decode: (c, o) => void decodeMuLaw(c, o) });
  const out = new Int16Array(160);
  const packet = { sequence: 0, timestamp: 0, ssrc: 42, arrivalMs: 0 }; // one object reused, as RtpSession's view is
  let next = 0;
  for (let m = 0; m < PACKETS; m++) {
    const now = m * 20;
    while (next < PACKETS && next * 20 + jitter[next] <= now) {
      if (!lost[next]) {
        packet.sequence = next & 0xffff;
        packet.timestamp = next * 160;
        packet.arrivalMs = next * 20 + jitter[next];
        jb.push(packet, payloads[next & 63]);
      }
      next++;
    }
    jb.pull(out);
  }
  return jb.stats;
}
function runDecode() {
  const out = new Int16Array(160);
  for (let m = 0; m < PACKETS; m++) decodeMuLaw(payloads[m & 63], out);
}

runJb(); // warm up
globalThis.gc?.();
const heap0 = process.memoryUsage().heapUsed;
gcs = 0;
let t0 = process.hrtime.bigint();
const stats = runJb();
const jbNs = Number(process.hrtime.bigint() - t0);
const heap1 = process.memoryUsage().heapUsed;
const jbGcs = gcs;
t0 = process.hrtime.bigint();
runDecode();
const decNs = Number(process.hrtime.bigint() - t0);
const perPacket = (ns) => (ns / PACKETS / 1000).toFixed(2);
console.log(`jitter buffer push+pull (5 % loss, 0-40 ms jitter): ${perPacket(jbNs)} us/packet | bare mu-law decode ${perPacket(decNs)} us/packet | ${(jbNs / decNs).toFixed(1)}x`);
console.log(`jitter buffer CPU per call-minute: ${((jbNs / PACKETS) * 3000 / 1e9).toFixed(4)} s | bare decode ${((decNs / PACKETS) * 3000 / 1e9).toFixed(4)} s`);
console.log(`jitter buffer heap growth over ${PACKETS} packets: ${((heap1 - heap0) / 1024).toFixed(1)} KiB, ${jbGcs} GCs | concealed frames ${stats.concealed}, late ${stats.late}`);
