// SIP message parse + serialize throughput: this project's parser/serializer against the npm `sip` package's
// parse/stringify, on the same bytes in the same process. Needs `npx tsc -p tsconfig.json` first (dist/).
import { createRequire } from 'node:module';
import { parseMessage } from '../../dist/src/sip/parser.js';
import { serializeMessage } from '../../dist/src/sip/serializer.js';

const require = createRequire(import.meta.url);
const peer = require('sip');
let parseChallenges;
try {
  ({ parseChallenges } = await import('../../dist/src/sip/challenge.js'));
} catch {
  parseChallenges = undefined;
}

const crlf = (lines) => lines.join('\r\n');
const sdp = crlf([
  'v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv', '',
]);
const INVITE = Buffer.from(crlf([
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: "Bob" <sip:bob@biloxi.example.com>',
  'From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@192.0.2.10',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@192.0.2.10:5060;transport=udp>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REFER',
  'Supported: replaces, timer',
  'User-Agent: pi-ata/0.1',
  'Content-Type: application/sdp',
  `Content-Length: ${sdp.length}`,
  '',
  sdp,
]), 'latin1');
const UNAUTHORIZED = Buffer.from(crlf([
  'SIP/2.0 401 Unauthorized',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7;rport=5060;received=192.0.2.10',
  'From: <sip:100@example.com>;tag=a73kszlfl',
  'To: <sip:100@example.com>;tag=1410948204',
  'Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.10',
  'CSeq: 1 REGISTER',
  'WWW-Authenticate: Digest realm="example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", opaque="", stale=FALSE, algorithm=MD5, qop="auth"',
  'Server: kamailio (5.7.4 (x86_64/linux))',
  'Content-Length: 0',
  '',
  '',
]), 'latin1');

// Same work on both sides: bytes in, a structured message, bytes out. An unchanged received message is written
// back as the text it came as (when that text is canonical), so the "one header changed" line below shows the
// rebuild from the parsed fields too: a proxy-like Max-Forwards decrement on both sides.
const ours = (buf) => Buffer.from(serializeMessage(parseMessage(buf)), 'latin1');
const theirs = (buf) => Buffer.from(peer.stringify(peer.parse(buf)), 'binary');
const oursChanged = (buf) => {
  const m = parseMessage(buf);
  for (const h of m.headers) if (h.name === 'Max-Forwards') h.value = String(m.parsed.maxForwards - 1);
  return Buffer.from(serializeMessage(m), 'latin1');
};
const theirsChanged = (buf) => {
  const m = peer.parse(buf);
  m.headers['max-forwards'] = String(Number(m.headers['max-forwards']) - 1);
  return Buffer.from(peer.stringify(m), 'binary');
};
const oursWithChallenge = (buf) => {
  const m = parseMessage(buf);
  for (const h of m.headers) if (h.name === 'WWW-Authenticate') parseChallenges(h.value);
  return Buffer.from(serializeMessage(m), 'latin1');
};

for (const [name, buf] of [['INVITE', INVITE], ['401', UNAUTHORIZED]]) {
  const back = peer.parse(buf);
  if (!back || !back.headers.via) throw new Error(`npm sip failed to parse the ${name} sample`);
  if (ours(buf).length !== buf.length) throw new Error(`our round trip changed the ${name} sample`);
}

/** Messages per second of CPU time used by this process: on a shared machine wall time counts other people's work. */
function rate(fn, buf, ms) {
  let n = 0;
  const cpu0 = process.cpuUsage();
  const end = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 500; i++) fn(buf);
    n += 500;
  }
  const cpu = process.cpuUsage(cpu0);
  return n / ((cpu.user + cpu.system) / 1e6);
}

/** Alternate short runs of both sides and keep each side's median, so load from other processes hits both alike. */
function compare(a, b, buf, rounds = 7, ms = 250) {
  for (let i = 0; i < 20000; i++) {
    a(buf);
    b(buf);
  }
  const ra = [];
  const rb = [];
  for (let r = 0; r < rounds; r++) {
    globalThis.gc?.();
    ra.push(rate(a, buf, ms));
    globalThis.gc?.();
    rb.push(rate(b, buf, ms));
  }
  const median = (xs) => xs.sort((x, y) => x - y)[xs.length >> 1];
  return [median(ra), median(rb)];
}

function line(label, a, b) {
  // a, b: msgs/s of ours and of npm sip
  const fmt = (x) => `${(x / 1000).toFixed(1)} kmsgs/s`;
  console.log(`${label}: ${fmt(a)} | npm sip ${fmt(b)} | ${(a / b).toFixed(2)}x`);
}

line('sip parse+serialize INVITE with SDP', ...compare(ours, theirs, INVITE));
line('sip parse+serialize INVITE with SDP, one header changed', ...compare(oursChanged, theirsChanged, INVITE));
line('sip parse+serialize 401 with WWW-Authenticate', ...compare(ours, theirs, UNAUTHORIZED));
if (parseChallenges) {
  // npm sip parses WWW-Authenticate eagerly; this line charges us for reading the challenge too.
  line('sip parse+serialize 401, challenge parsed too', ...compare(oursWithChallenge, theirs, UNAUTHORIZED));
}
