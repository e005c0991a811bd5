// A sound card's capture clock without a sound card, for the benches: ALSA's file plugin reading a FIFO that this
// process fills with a 20 ms frame at each 20 ms deadline. arecord then delivers audio at real time, as a card
// would, and the process under measurement is woken by its capture pipe, not by a timer of its own. The file
// plugin's null slave has no clock, so aplay takes what it is given at once. The filling process's CPU is not the
// measured process's.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A FIFO and the environment (ALSA_CONFIG_PATH, also as `config`) in which PCMs ata_capture and ata_playback use it,
 * in a fresh directory `dir`. The default PCM is the null one (speaker opens it whatever device it is given).
 */
export function cardFifo() {
  const dir = mkdtempSync(join(tmpdir(), 'ata-card-fifo-'));
  const fifo = join(dir, 'capture.fifo');
  execFileSync('mkfifo', [fifo]);
  const asoundrc = join(dir, 'asoundrc');
  writeFileSync(
    asoundrc,
    `pcm.ata_capture {\n type file\n slave.pcm "null"\n file "/dev/null"\n infile "${fifo}"\n format "raw"\n}\n` +
      `pcm.ata_playback {\n type file\n slave.pcm "null"\n file "/dev/null"\n format "raw"\n}\npcm.!default {\n type null\n}\n`,
  );
  const config = `/usr/share/alsa/alsa.conf:${asoundrc}`;
  return { dir, fifo, config, env: { ...process.env, ALSA_CONFIG_PATH: config } };
}

/**
 * Fills `fifo` with a 20 ms frame (8 kHz s16le, a ramp) at each 20 ms deadline until the returned function is
 * called. Opening the FIFO for writing waits until arecord opens it for reading, so call it once the measured
 * process is starting its port.
 */
export function paceCapture(fifo) {
  const fd = openSync(fifo, 'w');
  const frame = Buffer.alloc(320);
  for (let i = 0; i < 160; i++) frame.writeInt16LE(((i * 37) % 20000) - 10000, 2 * i);
  const t0 = performance.now();
  let n = 0;
  let timer;
  const tick = () => {
    while (performance.now() >= t0 + n * 20) {
      writeSync(fd, frame);
      n++;
    }
    timer = setTimeout(tick, Math.max(0, t0 + n * 20 - performance.now()));
  };
  tick();
  return () => {
    clearTimeout(timer);
    closeSync(fd);
  };
}
