// Send times as the far end's network sees them: tshark captures on loopback and each packet carries the kernel's
// timestamp, so no process's scheduling (ours, a sink's, or a GC pause anywhere) colours the figure. Needs tshark and
// the right to capture on lo (root here); callers fall back to their own timestamps, and say so, when it is missing.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function captureMissing() {
  if (spawnSync('tshark', ['--version']).status !== 0) return 'tshark is missing (apt-get install tshark)';
  if (process.getuid?.() !== 0) return 'capturing on lo needs root';
  return undefined;
}

/** Starts capturing UDP on lo with a BPF filter; resolves once tshark is capturing. */
export async function startCapture(filter) {
  const file = join(mkdtempSync(join(tmpdir(), 'ata-bench-cap-')), 'cap.pcap');
  const p = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  const end = Date.now() + 10000;
  while (!err.includes('Capturing on')) {
    if (p.exitCode !== null || Date.now() > end) throw new Error(`tshark did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    /** Stops and returns the kernel timestamps (ms) of every packet, grouped by UDP source port. */
    async stop() {
      await new Promise((r) => setTimeout(r, 300)); // the last packets reach the capture file
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGINT');
      await exited;
      const out = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'udp.srcport'], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout;
      const bySource = new Map();
      for (const line of out.split('\n')) {
        const [t, port] = line.split('\t');
        if (!port) continue;
        const list = bySource.get(Number(port)) ?? [];
        list.push(Number(t) * 1000);
        bySource.set(Number(port), list);
      }
      return bySource;
    },
  };
}

/** |interval - period| p50/p99/max and drift (ms per minute, least-squares slope against a perfect period). */
export function clockFigures(times, periodMs = 20) {
  const dev = [];
  for (let i = 1; i < times.length; i++) dev.push(Math.abs(times[i] - times[i - 1] - periodMs));
  dev.sort((a, b) => a - b);
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  const n = times.length;
  for (let k = 0; k < n; k++) {
    const y = times[k] - times[0];
    sx += k; sy += y; sxx += k * k; sxy += k * y;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return {
    count: n,
    p50: dev[Math.floor(dev.length * 0.5)],
    p99: dev[Math.floor(dev.length * 0.99)],
    max: dev.at(-1),
    driftMsPerMin: ((slope - periodMs) / periodMs) * 60000,
  };
}
