/**
 * hal/native/pcm-pipe.c (through MediaIo and hal/drivers/card-pipe.ts) on the real kernel and event loop: pipes,
 * a real child process on the other end, the loop's watch. Each test waits for events, never for a time. The
 * arecord/aplay port over these pipes is tested in alsa-cli.test.ts.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nativeCardPipes, type CardPipes } from '../../hal/drivers/card-pipe.js';
import { EAGAIN, EPIPE, mediaIo, mediaIoMissing, type MediaIo, type NativePipeWatch } from '../../hal/media-io.js';

const EINVAL = 22;

/** What each descriptor of this process is (pipe:[inode], socket:[inode], a path). */
function openPipes(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return []; // the directory's own descriptor, gone by now
    }
  });
}

async function turns(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !pred(); i++) await new Promise((r) => setImmediate(r));
}

describe.skipIf(!mediaIo)(`pipes on hal/native (skipped only when the module is not built: ${mediaIoMissing ?? 'it is'})`, () => {
  const io = mediaIo!;

  it('a pipe made for reading: our end does not block (EAGAIN when empty), and reads what is written, then 0 at the end', () => {
    const fds = new Int32Array(2);
    expect(io.pipeOpen(true, fds)).toBe(0);
    const [ours, theirs] = fds;
    const buf = new Uint8Array(8);
    expect(io.pipeRead(ours, buf, 0, 8)).toBe(-EAGAIN);
    expect(io.pipeWrite(theirs, Uint8Array.of(1, 2, 3), 0, 3)).toBe(3);
    expect(io.pipeQueued(theirs)).toBe(3);
    expect(io.pipeRead(ours, buf, 2, 6)).toBe(3);
    expect(Array.from(buf.subarray(2, 5))).toEqual([1, 2, 3]);
    expect(io.pipeClose(theirs)).toBe(0);
    expect(io.pipeRead(ours, buf, 0, 8)).toBe(0);
    expect(io.pipeClose(ours)).toBe(0);
  });

  it('a pipe made for writing: a full pipe is EAGAIN for the whole frame, a pipe with no reader is EPIPE', () => {
    const fds = new Int32Array(2);
    expect(io.pipeOpen(false, fds)).toBe(0);
    const [ours, theirs] = fds;
    const frame = new Uint8Array(320).fill(7);
    let taken = 0;
    let r: number;
    while ((r = io.pipeWrite(ours, frame, 0, 320)) === 320) taken++;
    expect(r).toBe(-EAGAIN);
    expect(io.pipeQueued(ours)).toBe(taken * 320); // nothing of the refused frame went in
    expect(io.pipeClose(theirs)).toBe(0);
    expect(io.pipeWrite(ours, frame, 0, 320)).toBe(-EPIPE); // Node ignores SIGPIPE: an error, not a signal
    expect(io.pipeClose(ours)).toBe(0);
  });

  it('a span outside the buffer is EINVAL, wrong types are TypeErrors, and a closed descriptor is EBADF', () => {
    const fds = new Int32Array(2);
    expect(io.pipeOpen(true, fds)).toBe(0);
    const buf = new Uint8Array(4);
    expect(io.pipeRead(fds[0], buf, 2, 3)).toBe(-EINVAL);
    expect(io.pipeWrite(fds[1], buf, -1, 1)).toBe(-EINVAL);
    expect(io.pipeWrite(fds[1], buf, 0, 5)).toBe(-EINVAL);
    expect(() => io.pipeRead(fds[0], 'text' as unknown as Uint8Array, 0, 1)).toThrow(TypeError);
    expect(() => io.pipeOpen(true, new Uint8Array(2) as unknown as Int32Array)).toThrow(TypeError);
    expect(() => io.pipeOpen(true, new Int32Array(1))).toThrow(TypeError);
    expect(() => io.pipeWatch(fds[0], 42 as unknown as () => void)).toThrow(TypeError);
    expect(() => io.pipeWatchClose({} as NativePipeWatch)).toThrow(TypeError);
    // A timer's handle is not a watch, nor a watch a timer: each kind's tag is checked.
    const timer = io.timerOpen(() => {});
    expect(() => io.pipeWatchClose(timer as unknown as NativePipeWatch)).toThrow(TypeError);
    io.timerClose(timer);
    io.pipeClose(fds[0]);
    io.pipeClose(fds[1]);
    expect(io.pipeRead(fds[0], buf, 0, 4)).toBe(-9);
  });

  it('a number that is not an int32 integer (NaN, a fraction, 2^32 + k) is a TypeError, not quietly another descriptor or length', () => {
    const fds = new Int32Array(2);
    expect(io.pipeOpen(true, fds)).toBe(0);
    const buf = new Uint8Array(8);
    expect(() => io.pipeClose(Number.NaN)).toThrow(TypeError); // was close(0): the process's stdin
    expect(() => io.pipeWrite(fds[1], buf, 0, 2 ** 32 + 3)).toThrow(TypeError);
    expect(() => io.pipeWrite(fds[1], buf, 0.5, 1)).toThrow(TypeError);
    expect(() => io.udpOpen('127.0.0.1', 2 ** 32 + 39555)).toThrow(TypeError);
    expect(io.pipeWrite(fds[1], buf, 0, 8)).toBe(8); // both still open
    expect(io.pipeClose(fds[0])).toBe(0);
    expect(io.pipeClose(fds[1])).toBe(0);
  });

  it('watching a descriptor that is already watched is refused, and the first watch keeps its descriptor open', () => {
    const fds = new Int32Array(2);
    expect(io.pipeOpen(true, fds)).toBe(0);
    const watch = io.pipeWatch(fds[0], () => {});
    expect(() => io.pipeWatch(fds[0], () => {})).toThrow();
    const buf = new Uint8Array(4);
    expect(io.pipeRead(fds[0], buf, 0, 4)).toBe(-EAGAIN); // open and empty, not EBADF
    io.pipeWatchClose(watch);
    io.pipeClose(fds[1]);
  });

  it('a watch calls back while there is something to read, and once more at the end, where closing it in its own callback is fine', async () => {
    const fds = new Int32Array(2);
    expect(io.pipeOpen(true, fds)).toBe(0);
    const [ours, theirs] = fds;
    const pipe = readlinkSync(`/proc/self/fd/${ours}`); // pipe:[inode]
    const buf = new Uint8Array(64);
    const got: number[] = [];
    let ended = false;
    const watch: NativePipeWatch = io.pipeWatch(ours, () => {
      for (let n; (n = io.pipeRead(ours, buf, 0, buf.length)) !== -EAGAIN; ) {
        if (n === 0) {
          ended = true;
          io.pipeWatchClose(watch);
          return;
        }
        got.push(...buf.subarray(0, n));
      }
    });
    io.pipeWrite(theirs, Uint8Array.of(9, 8), 0, 2);
    await turns(() => got.length === 2);
    expect(got).toEqual([9, 8]);
    io.pipeWrite(theirs, Uint8Array.of(7), 0, 1);
    io.pipeClose(theirs);
    await turns(() => ended);
    expect(got).toEqual([9, 8, 7]);
    expect(ended).toBe(true);
    io.pipeWatchClose(watch); // twice is a no-op
    // The watch owned our end and closed it (on a later turn of the loop): no descriptor of this process is that pipe.
    await turns(() => !openPipes().includes(pipe));
    expect(openPipes()).not.toContain(pipe);
  });

  it('a child gets its end in spawn\'s stdio: what it writes to stdout arrives through the capture pipe, and its exit ends it', async () => {
    const capture = nativeCardPipes(io).capture();
    expect(capture.kind).toBe('native');
    const child = spawn('printf', ['pi-ata'], { stdio: ['ignore', capture.childEnd, 'ignore'] });
    let text = '';
    capture.attach(child, (bytes, length) => (text += Buffer.from(bytes.buffer, bytes.byteOffset, length).toString()));
    await new Promise((r) => child.once('exit', r));
    await turns(() => text === 'pi-ata');
    expect(text).toBe('pi-ata');
    capture.close();
  });

  it('a child reads the playback pipe: the frames written arrive whole, and end() ends its input', async () => {
    const playback = nativeCardPipes(io).playback();
    const child = spawn('od', ['-An', '-tu1', '-v'], { stdio: [playback.childEnd, 'pipe', 'ignore'] });
    playback.attach(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    expect(playback.write(Uint8Array.of(1, 2, 3, 99), 3)).toBe(true);
    playback.end();
    expect(playback.write(Uint8Array.of(4), 1)).toBe(false); // ended
    await new Promise((r) => child.once('close', r));
    expect(out.trim().split(/\s+/).map(Number)).toEqual([1, 2, 3]);
  });
});

describe('pipes on a module that cannot make one (a mock MediaIo whose pipeOpen fails with EMFILE: running out of descriptors cannot be arranged safely in the test process)', () => {
  it('each side falls back to Node streams for that start instead of failing the call', () => {
    const failing = { pipeOpen: () => -24 } as unknown as MediaIo;
    const pipes: CardPipes = nativeCardPipes(failing);
    expect(pipes.kind).toBe('native');
    expect(pipes.capture().kind).toBe('streams');
    expect(pipes.playback().kind).toBe('streams');
    expect(pipes.capture().childEnd).toBe('pipe');
  });
});
