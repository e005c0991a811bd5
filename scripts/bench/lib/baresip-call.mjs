// The peer for the media benches: a call between two Debian baresips on loopback, the same G.711 20 ms stream both
// ways as ours. A (the caller) dials B at start-up (`-e /dial`, which needs the menu module); B answers by itself
// and has no menu, so no status line is printed every 100 ms by the end we measure. Both send a WAV with aufile and
// play into aubridge (alsa,null would spin a core: ../shared/REFERENCE.md). B's CPU is read from /proc, thread by
// thread, so it is what one end of a baresip call costs on this machine in this run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = '/usr/bin/baresip';
const MODULES = '/usr/lib/baresip/modules';

/** Why baresip cannot be measured here, or undefined when it can. */
export function baresipMissing() {
  if (!existsSync(BIN) || !existsSync(join(MODULES, 'aufile.so'))) return `${BIN} is missing (apt-get install baresip-core)`;
  if (spawnSync('sox', ['--version']).status !== 0) return 'sox is missing (apt-get install sox)';
  return undefined;
}

function config(dir, sipPort, rtpPorts, wav, menu) {
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll', `sip_listen 127.0.0.1:${sipPort}`, `audio_source aufile,${wav}`,
    'audio_player aubridge,sink', 'audio_alert aubridge,sink', `module_path ${MODULES}`,
    'module g711.so', 'module aufile.so', 'module aubridge.so', 'module_app account.so',
    ...(menu ? ['module_app menu.so'] : []), `rtp_ports ${rtpPorts}`, '',
  ].join('\n'));
}

/** Sum of run time (ns) of every thread of a process, from /proc/<pid>/task/<tid>/schedstat. */
export function processRunNs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* thread ended */ }
  }
  return ns;
}

/** A WAV of a 440 Hz tone, `seconds` long, in a fresh temporary directory: what a bench's far ends send. */
export function toneWav(seconds) {
  const dir = mkdtempSync(join(tmpdir(), 'ata-bench-baresip-'));
  const wav = join(dir, 'tone.wav');
  spawnSync('sox', ['-n', '-r', '8000', '-c', '1', '-b', '16', wav, 'synth', String(seconds + 10), 'sine', '440', 'vol', '0.3']);
  return { dir, wav };
}

/**
 * A baresip that answers every call itself (`b@127.0.0.1:sipPort`), sending `wav` from the RTP ports given; resolves
 * once it is ready. `established()` resolves when it receives RTP. Killed with `stop()`.
 */
export async function startBaresipCallee({ dir, wav, sipPort, rtpPorts }) {
  spawnSync('mkdir', ['-p', dir]);
  config(dir, sipPort, rtpPorts, wav, false);
  writeFileSync(join(dir, 'accounts'), `<sip:b@127.0.0.1:${sipPort};transport=udp>;regint=0;answermode=auto;audio_codecs=PCMU\n`);
  let log = '';
  const proc = spawn(BIN, ['-f', dir, '-n', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
  };
  try {
    await until(() => log.includes('baresip is ready'), 10000, () => `baresip B did not start: ${log}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    proc,
    log: () => log,
    established: (ms = 10000) => until(() => log.includes("incoming rtp for 'audio' established"), ms, () => `no call: ${log}`),
    stop,
  };
}

/**
 * Starts the call and resolves once B receives RTP. `rtpBase` picks the ports: A sends from rtpBase..+19 and B from
 * rtpBase+100..+119, so a capture filter can tell the two directions apart. `stop()` ends both.
 */
export async function startBaresipCall({ sipBase = 45060, rtpBase = 45100, seconds = 120 } = {}) {
  const { dir, wav } = toneWav(seconds);
  const dirA = join(dir, 'a');
  spawnSync('mkdir', ['-p', dirA]);
  config(dirA, sipBase, `${rtpBase}-${rtpBase + 19}`, wav, true);
  writeFileSync(join(dirA, 'accounts'), `<sip:a@127.0.0.1:${sipBase};transport=udp>;regint=0;audio_codecs=PCMU\n`);
  const b = await startBaresipCallee({ dir: join(dir, 'b'), wav, sipPort: sipBase + 10, rtpPorts: `${rtpBase + 100}-${rtpBase + 119}` });
  let a;
  try {
    a = spawn(BIN, ['-f', dirA, '-n', '127.0.0.1', '-e', `/dial sip:b@127.0.0.1:${sipBase + 10}`], { stdio: 'ignore' });
    await b.established();
  } catch (err) {
    // Left running, they would hold the fixed ports and fail the next run too.
    await b.stop();
    a?.kill('SIGKILL');
    throw err;
  }
  return {
    pidA: a.pid,
    pidB: b.proc.pid,
    /** The ports each end sends RTP from. */
    rtpPortsA: [rtpBase, rtpBase + 19],
    rtpPortsB: [rtpBase + 100, rtpBase + 119],
    async stop() {
      if (a.exitCode === null) a.kill('SIGKILL');
      await Promise.all([b.stop(), a.exitCode === null && a.signalCode === null ? new Promise((r) => a.once('exit', r)) : undefined]);
    },
  };
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(what());
    await new Promise((r) => setTimeout(r, 20));
  }
}
