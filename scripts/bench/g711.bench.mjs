// G.711 throughput beside the npm peers alawmulaw and g711, in the same process, on the same audio.
// Each codec is run over one second of speech-like audio (a mix of tones and noise) many times; the figure is the
// best of several rounds, in Msamples/s. Goal (issue 3): at least 2x alawmulaw in both directions.
// Two lines per direction: ours into a caller's buffer (how the media loop calls it: `out` given, nothing
// allocated), and ours allocating its result, as both peers always do (the like-for-like comparison).
import alawmulaw from 'alawmulaw';
// Both peers are CommonJS-style bundles whose functions sit on the default export.
import g711npm from 'g711';
import { decodeALaw, decodeMuLaw, encodeALaw, encodeMuLaw } from '../../dist/src/media/g711.js';

const SECONDS = Number(process.env.G711_BENCH_SECONDS ?? 0.4); // time per measurement round
const ROUNDS = 5;
const N = 8000;
const pcm = new Int16Array(N);
let seed = 1;
for (let i = 0; i < N; i++) {
  seed = (seed * 1103515245 + 12345) >>> 0;
  const noise = ((seed >>> 16) / 65536 - 0.5) * 2000;
  pcm[i] = Math.max(-32768, Math.min(32767, Math.round(12000 * Math.sin(i * 0.13) + 6000 * Math.sin(i * 0.71) + noise)));
}
const muCodes = encodeMuLaw(pcm);
const aCodes = encodeALaw(pcm);
const codeOut = new Uint8Array(N);
const pcmOut = new Int16Array(N);
let sink = 0;

function rate(fn) {
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let samples = 0;
    const t0 = process.hrtime.bigint();
    const limit = t0 + BigInt(Math.round(SECONDS * 1e9));
    let t = t0;
    while (t < limit) {
      for (let k = 0; k < 10; k++) sink ^= fn()[7] | 0;
      samples += 10 * N;
      t = process.hrtime.bigint();
    }
    best = Math.max(best, samples / (Number(t - t0) / 1e9) / 1e6);
  }
  return best;
}

const cases = [
  ['mu-law encode', () => encodeMuLaw(pcm, codeOut), () => alawmulaw.mulaw.encode(pcm), () => g711npm.ulawFromPCM(pcm)],
  ['mu-law encode, ours allocating its result', () => encodeMuLaw(pcm), () => alawmulaw.mulaw.encode(pcm), () => g711npm.ulawFromPCM(pcm)],
  ['mu-law decode', () => decodeMuLaw(muCodes, pcmOut), () => alawmulaw.mulaw.decode(muCodes), () => g711npm.ulawToPCM(muCodes, 16)],
  ['mu-law decode, ours allocating its result', () => decodeMuLaw(muCodes), () => alawmulaw.mulaw.decode(muCodes), () => g711npm.ulawToPCM(muCodes, 16)],
  ['A-law encode', () => encodeALaw(pcm, codeOut), () => alawmulaw.alaw.encode(pcm), () => g711npm.alawFromPCM(pcm)],
  ['A-law encode, ours allocating its result', () => encodeALaw(pcm), () => alawmulaw.alaw.encode(pcm), () => g711npm.alawFromPCM(pcm)],
  ['A-law decode', () => decodeALaw(aCodes, pcmOut), () => alawmulaw.alaw.decode(aCodes), () => g711npm.alawToPCM(aCodes, 16)],
  ['A-law decode, ours allocating its result', () => decodeALaw(aCodes), () => alawmulaw.alaw.decode(aCodes), () => g711npm.alawToPCM(aCodes, 16)],
];
for (const [name, ours, amm, npm] of cases) {
  // Warm all three first so none is measured while still being compiled.
  for (let i = 0; i < 200; i++) (ours(), amm(), npm());
  const a = rate(ours);
  const b = rate(amm);
  const c = rate(npm);
  console.log(
    `g711 ${name}: ${a.toFixed(1)} Msamples/s | alawmulaw ${b.toFixed(1)} Msamples/s | ${(a / b).toFixed(2)}x | g711 (npm) ${c.toFixed(1)} Msamples/s | ${(a / c).toFixed(2)}x`,
  );
}
if (sink === 0.5) console.log(sink);
