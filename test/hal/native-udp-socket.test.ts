/**
 * hal/media-io.ts's system calls through NativeUdpSocket, on real sockets on loopback. `npm run build` builds the
 * module; CI sets PI_ATA_NATIVE=required so that a failed build fails there instead of skipping these.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EAGAIN, mediaIo, mediaIoMissing } from '../../hal/media-io.js';
import { MAX_DRAIN, NativeUdpSocket, NativeUdpSocketError } from '../../hal/native-udp-socket.js';

/** The stream's clock: 5 s behind the module's monotonic clock, so that arrival times must be moved onto it. */
const streamClock = { now: () => mediaIo!.monotonicMs() - 5000 };
const sockets: NativeUdpSocket[] = [];
function open(address = '127.0.0.1', port = 0): NativeUdpSocket {
  const s = NativeUdpSocket.open(mediaIo!, address, port, streamClock);
  if (!s) throw new Error(`port ${port} taken`);
  sockets.push(s);
  return s;
}
afterEach(() => sockets.splice(0).forEach((s) => s.close()));

type Heard = { text: string; address: string; port: number; arrivedAt: number | undefined };
function listen(s: NativeUdpSocket): Heard[] {
  const heard: Heard[] = [];
  s.onDatagram((bytes, length, from) => heard.push({ text: bytes.toString('latin1', 0, length), address: from.address, port: from.port, arrivedAt: from.arrivedAt }));
  return heard;
}
const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

describe.skipIf(!mediaIo)(`NativeUdpSocket on hal/media-io (skipped only when the module is not built: ${mediaIoMissing ?? 'it is'})`, () => {
  it("delivers each queued datagram on drain, in order, with its source and the kernel's arrival time on the stream's clock", () => {
    const a = open();
    const b = open();
    const heard = listen(b);
    const before = streamClock.now();
    a.send(bytes('xxone-'), 2, 3, b.localPort, '127.0.0.1');
    a.send(bytes('two'), 0, 3, b.localPort, '127.0.0.1');
    expect(b.drain()).toBe(2);
    const after = streamClock.now();
    expect(heard.map((h) => h.text)).toEqual(['one', 'two']);
    expect(heard[0]).toMatchObject({ address: '127.0.0.1', port: a.localPort });
    for (const h of heard) {
      expect(h.arrivedAt).toBeGreaterThanOrEqual(before);
      expect(h.arrivedAt).toBeLessThanOrEqual(after);
    }
    expect(b.drain()).toBe(0);
  });

  it('describes a new source when datagrams come from another socket, and keeps the old source for the same one', () => {
    const a = open();
    const c = open();
    const b = open();
    const heard = listen(b);
    a.send(bytes('a1'), 0, 2, b.localPort, '127.0.0.1');
    c.send(bytes('c1'), 0, 2, b.localPort, '127.0.0.1');
    a.send(bytes('a2'), 0, 2, b.localPort, '127.0.0.1');
    b.drain();
    expect(heard.map((h) => `${h.text}@${h.port}`)).toEqual([`a1@${a.localPort}`, `c1@${c.localPort}`, `a2@${a.localPort}`]);
  });

  it('works on IPv6 loopback', () => {
    const a = open('::1');
    const b = open('::1');
    const heard = listen(b);
    a.send(bytes('six'), 0, 3, b.localPort, '::1');
    b.drain();
    expect(heard).toMatchObject([{ text: 'six', address: '::1', port: a.localPort }]);
  });

  it('answers undefined for a port already taken and a typed error for an address that is not an IP literal', () => {
    const a = open();
    expect(NativeUdpSocket.open(mediaIo!, '127.0.0.1', a.localPort, streamClock)).toBeUndefined();
    expect(() => NativeUdpSocket.open(mediaIo!, 'localhost', 0, streamClock)).toThrow(NativeUdpSocketError);
    expect(() => NativeUdpSocket.open(mediaIo!, '127.0.0.1' + ' '.repeat(100), 0, streamClock)).toThrow(NativeUdpSocketError);
  });

  it('takes at most MAX_DRAIN datagrams a drain, so a flood cannot hold the thread; the rest wait for the next', () => {
    const a = open();
    const b = open();
    const heard = listen(b);
    for (let i = 0; i < MAX_DRAIN + 5; i++) a.send(bytes(String(i)), 0, String(i).length, b.localPort, '127.0.0.1');
    expect(b.drain()).toBe(MAX_DRAIN);
    expect(b.drain()).toBe(5);
    expect(heard.map((h) => Number(h.text))).toEqual([...Array(MAX_DRAIN + 5).keys()]);
  });

  it('drops a datagram longer than its receive buffer whole, counts it, and goes on with the next', () => {
    const a = open();
    const b = open();
    const heard = listen(b);
    a.send(Buffer.alloc(3000, 0x80), 0, 3000, b.localPort, '127.0.0.1');
    a.send(bytes('after'), 0, 5, b.localPort, '127.0.0.1');
    b.drain();
    expect(b.oversized).toBe(1);
    expect(heard.map((h) => h.text)).toEqual(['after']);
  });

  it('counts, never throws, a send to a bad address or port, and sends nothing once closed', () => {
    const a = open();
    const b = open();
    const heard = listen(b);
    a.send(bytes('x'), 0, 1, 5060, 'not-an-address');
    a.send(bytes('x'), 0, 1, 70000, '127.0.0.1');
    a.send(bytes('x'), 0, 9, b.localPort, '127.0.0.1'); // past the end of the buffer: refused, not read out of bounds
    expect(a.sendErrors).toBe(3);
    a.close();
    let done = false;
    a.send(bytes('late'), 0, 4, b.localPort, '127.0.0.1', () => (done = true));
    expect(done).toBe(true);
    expect(b.drain()).toBe(0);
    expect(heard).toEqual([]);
  });

  it('reports an empty queue as -EAGAIN and returns at once from a sleep whose deadline has passed', () => {
    const a = open();
    const from = new Uint8Array(mediaIo!.SOCKADDR_BYTES);
    const fd = mediaIo!.udpOpen('127.0.0.1', 0);
    expect(mediaIo!.udpReceive(fd, Buffer.alloc(8), from, new Float64Array(2))).toBe(-EAGAIN);
    expect(mediaIo!.udpClose(fd)).toBe(0);
    const t0 = mediaIo!.monotonicMs();
    mediaIo!.sleepUntilMs(t0 - 1000);
    // Not a timing assertion: a sleep to a past deadline must not block the test for the second it names.
    expect(mediaIo!.monotonicMs() - t0).toBeLessThan(1000);
    expect(a.drain()).toBe(0);
  });

  it('throws a TypeError, not a crash, for arguments of the wrong type', () => {
    expect(() => mediaIo!.udpSend(0, 'text' as unknown as Uint8Array, 0, 1, new Uint8Array(28), 16)).toThrow(TypeError);
    expect(() => mediaIo!.udpReceive(0, new Uint8Array(8), new Uint8Array(28), new Uint8Array(2) as unknown as Float64Array)).toThrow(TypeError);
    expect(() => mediaIo!.sleepUntilMs(Number.NaN)).toThrow(TypeError);
    expect(() => mediaIo!.sleepUntilMs(Infinity)).toThrow(TypeError);
  });
});
