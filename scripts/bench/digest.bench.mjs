// Answering a 401: parse the challenge response, pick the challenge, compute the Authorization value. Ours (real
// parser + DigestAuthenticator) beside the npm `sip` package (sip.parse + digest.signRequest), same message, same
// process. Figures are the best of several alternating rounds, in thousands of answers per second of CPU time.
import sipnpm from 'sip';
import sipDigest from 'sip/digest.js';
import { parseMessage } from '../../dist/src/sip/parser.js';
import { DigestAuthenticator, SipCredentials } from '../../dist/src/sip/digest.js';

const SECONDS = Number(process.env.DIGEST_BENCH_SECONDS ?? 0.3);
const ROUNDS = 5;
const msg =
  'SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=198.51.100.7\r\n' +
  'From: <sip:100@example.org>;tag=1928301774\r\nTo: <sip:100@example.org>;tag=a6c85cf\r\nCall-ID: a84b4c76e66710@ata\r\n' +
  'CSeq: 314159 REGISTER\r\nWWW-Authenticate: Digest realm="example.org", nonce="Y2FmZWJhYmVkZWFkYmVlZg==", qop="auth", algorithm=MD5, opaque="5ccc069c403ebaf9f0171e9517f40e41"\r\n' +
  'Server: kamailio (5.6.3 (x86_64/linux))\r\nContent-Length: 0\r\n\r\n';
const creds = new SipCredentials('100', 'secret');
let sink = 0;

function ours() {
  const res = parseMessage(msg);
  const a = new DigestAuthenticator(creds, Math.random);
  a.onChallenge(res, false);
  sink ^= a.authorize('REGISTER', 'sip:example.org').value.length;
}
function peer() {
  const res = sipnpm.parse(msg);
  const rq = { method: 'REGISTER', uri: 'sip:example.org', headers: {} };
  sipDigest.signRequest({}, rq, res, { user: '100', password: 'secret' });
  sink ^= rq.headers.authorization.length;
}

/** Answers per second of this process's CPU time (on a shared machine wall time counts other people's work). */
function rate(fn) {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const limit = process.hrtime.bigint() + BigInt(Math.round(SECONDS * 1e9));
  while (process.hrtime.bigint() < limit) {
    for (let k = 0; k < 100; k++) fn();
    n += 100;
  }
  const cpu = process.cpuUsage(cpu0);
  return n / ((cpu.user + cpu.system) / 1e6) / 1e3;
}

// Rounds alternate between the two sides so that load from other processes hits both alike; best of each.
let a = 0;
let b = 0;
for (let r = 0; r < ROUNDS; r++) {
  a = Math.max(a, rate(ours));
  b = Math.max(b, rate(peer));
}
console.log(`digest answer to a 401 (parse + sign): ${a.toFixed(1)} k/s | sip (npm) ${b.toFixed(1)} k/s | ${(a / b).toFixed(2)}x`);
if (sink === 0.5) console.log('');
