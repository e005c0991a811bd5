import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../hal/clock.js';
import { BoardConfigError, silentLog } from '../../hal/errors.js';
import { readPcm8kMonoWav } from '../../hal/drivers/wav-file.js';
import { SimPhoneStateError, type SimLine } from '../../hal/drivers/sim-line.js';
import { createBoard } from '../../board/index.js';

/** Writes an 8 kHz mono s16 WAV of `samples` with sox (an independent writer, so the reader is really tested). */
function writeWav8k(path: string, samples: Int16Array): void {
  execFileSync('sox', ['-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', '-', path], {
    input: Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength),
  });
}

async function simBoard(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ata-sim-'));
  const clock = new FakeClock();
  const board = await createBoard({ type: 'sim', audio_out: 'ear.wav', ...extra }, { clock, log: silentLog, baseDir: dir });
  return { dir, clock, board, phone: board.sim!.phone(0), line: board.lines[0].line, audio: board.lines[0].audio };
}

describe('sim board', () => {
  it('setHook produces real hook edges on the Line, stamped with the clock', async () => {
    const { clock, phone, line, board } = await simBoard();
    const edges: Array<[boolean, number]> = [];
    line.onHookEdge((off, at) => edges.push([off, at]));
    clock.advance(1000);
    phone.setHook(true);
    clock.advance(2500);
    phone.setHook(false);
    phone.setHook(false); // no edge without a change
    expect(edges).toEqual([
      [true, 1000],
      [false, 3500],
    ]);
    await board.close();
  });

  it('pulse dialing "20" gives 2 then 10 breaks of 60 ms and makes of 40 ms, with 700 ms between digits', async () => {
    const { clock, phone, line, board } = await simBoard();
    phone.setHook(true);
    const edges: Array<[boolean, number]> = [];
    line.onHookEdge((off, at) => edges.push([off, at]));
    let done = false;
    void phone.pulseDial('20').then(() => (done = true));
    while (clock.step()) if (done) break;
    await Promise.resolve();
    expect(done).toBe(true);
    const breaks = edges.filter(([off]) => !off).map(([, at]) => at);
    const makes = edges.filter(([off]) => off).map(([, at]) => at);
    expect(breaks.length).toBe(12);
    expect(makes.length).toBe(12);
    for (let i = 0; i < 12; i++) expect(makes[i] - breaks[i]).toBe(60);
    // within a digit: make 40 ms before the next break; between digits: 700 ms
    const gaps = breaks.slice(1).map((b, i) => b - makes[i]);
    expect(gaps).toEqual([40, 700, 40, 40, 40, 40, 40, 40, 40, 40, 40]);
    expect(phone.offHook).toBe(true);
    await board.close();
  });

  it('pulse dialing on hook, or with non-digits, is refused with a typed error', async () => {
    const { phone, board } = await simBoard();
    await expect(phone.pulseDial('5')).rejects.toBeInstanceOf(SimPhoneStateError);
    phone.setHook(true);
    await expect(phone.pulseDial('5#')).rejects.toBeInstanceOf(SimPhoneStateError);
    expect(() => board.sim!.phone(3)).toThrow(SimPhoneStateError);
    await board.close();
  });

  it('audio_in loops into the mouthpiece while off hook, silence on hook; injected audio is mixed in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ata-sim-in-'));
    const mic = new Int16Array(250);
    for (let i = 0; i < mic.length; i++) mic[i] = i + 1;
    writeWav8k(join(dir, 'mic.wav'), mic);
    const clock = new FakeClock();
    const board = await createBoard({ type: 'sim', audio_in: 'mic.wav' }, { clock, log: silentLog, baseDir: dir });
    const audio = board.lines[0].audio;
    const got: number[] = [];
    audio.onFrame((f) => got.push(...f));
    await audio.start();
    clock.advance(40);
    expect(got.length).toBe(320);
    expect(got.every((s) => s === 0)).toBe(true);
    got.length = 0;
    board.sim!.phone(0).setHook(true);
    clock.advance(60); // 3 frames = 480 samples: the 250-sample file loops
    expect(got.length).toBe(480);
    for (let i = 0; i < 480; i++) expect(got[i]).toBe((i % 250) + 1);
    got.length = 0;
    board.sim!.phone(0).injectMouthpiece(Int16Array.from({ length: 100 }, () => 1000));
    clock.advance(20);
    expect(got.slice(0, 100).every((s, i) => s === ((480 + i) % 250) + 1 + 1000)).toBe(true);
    expect(got[100]).toBe(((480 + 100) % 250) + 1);
    await board.close();
  });

  it('audio_out is a valid WAV of everything played, in real time, on hook too, readable before close', async () => {
    const { dir, clock, audio, board } = await simBoard();
    await audio.start();
    const frame = new Int16Array(160);
    for (let n = 0; n < 60; n++) {
      frame.fill(n + 1);
      audio.play(frame); // played on hook: like caller ID between rings
      clock.advance(20);
    }
    // the header is fixed up every second: a reader mid-call sees a valid file
    const mid = readPcm8kMonoWav(join(dir, 'ear.wav'), 'test');
    expect(mid.length).toBeGreaterThanOrEqual(8000);
    clock.advance(1000); // nothing played: silence keeps the timeline
    await board.close();
    const pcm = readPcm8kMonoWav(join(dir, 'ear.wav'), 'test');
    expect(pcm.length).toBe(160 * 110);
    for (let n = 0; n < 60; n++) expect(pcm[n * 160 + 80]).toBe(n + 1);
    expect(pcm.subarray(60 * 160).every((s) => s === 0)).toBe(true);
    const raw = readFileSync(join(dir, 'ear.wav'));
    expect(raw.readUInt32LE(4)).toBe(raw.length - 8);
  });

  it('a WAV that is not 8 kHz mono s16 is a BoardConfigError on board.audio_in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ata-sim-bad-'));
    writeWav8k(join(dir, 'bad.wav'), new Int16Array(10));
    const bad = readFileSync(join(dir, 'bad.wav'));
    expect(bad.readUInt32LE(24)).toBe(8000); // the fmt chunk's rate, where sox writes it
    bad.writeUInt32LE(16000, 24);
    writeFileSync(join(dir, 'bad.wav'), bad);
    const err = await createBoard({ type: 'sim', audio_in: 'bad.wav' }, { clock: new FakeClock(), log: silentLog, baseDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardConfigError);
    expect((err as BoardConfigError).configKey).toBe('board.audio_in');
  });

  it('ringing, polarity and disconnect are recorded on the sim line', async () => {
    const { clock, phone, line, board } = await simBoard();
    line.setRinging(true);
    line.setPolarity(true);
    expect(phone.ringing).toBe(true);
    expect(phone.polarityReversed).toBe(true);
    line.disconnect(500);
    const simLine = line as SimLine;
    clock.advance(499);
    expect(simLine.loopDisconnected).toBe(true);
    clock.advance(1);
    expect(simLine.loopDisconnected).toBe(false);
    await board.close();
    expect(phone.ringing).toBe(false);
  });
});
