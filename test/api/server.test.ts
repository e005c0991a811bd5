import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { MAX_BODY_BYTES, startApiServer, type ApiServer } from '../../src/api/server.js';
import { createLogger } from '../../src/log.js';
import { FakeControl } from './fake-control.js';

const logLines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(chunk.toString());
    done();
  },
});
const control = new FakeControl();
let api: ApiServer;

beforeAll(async () => {
  api = await startApiServer(control, { listen: { host: '127.0.0.1', port: 0 }, log: createLogger({ level: 'debug', destination: sink }) });
});
afterAll(() => api.close());
beforeEach(() => {
  control.actions.length = 0;
  control.board = 'sim';
  control.failWith = undefined;
});

async function call(method: string, path: string, body?: string | object) {
  const res = await fetch(api.url + path, {
    method,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.text();
  return { status: res.status, text, type: res.headers.get('content-type') ?? '', allow: res.headers.get('allow'), json: () => JSON.parse(text) };
}

describe('routes of INTERFACES.md over real HTTP (AgentControl is a fake of our seam)', () => {
  test('bound port 0 to a real port', () => {
    expect(api.address.port).toBeGreaterThan(0);
    expect(api.url).toBe(`http://127.0.0.1:${api.address.port}`);
  });

  test('GET /api/status answers the status JSON', async () => {
    const r = await call('GET', '/api/status');
    expect(r.status).toBe(200);
    expect(r.type).toContain('application/json');
    expect(r.json()).toEqual(control.status());
  });

  test('GET /api/calls answers the call list', async () => {
    const r = await call('GET', '/api/calls');
    expect(r.json()).toEqual(control.calls());
  });

  test('GET /api/sip-trace answers text, with ?limit', async () => {
    const all = await call('GET', '/api/sip-trace');
    expect(all.type).toContain('text/plain');
    expect(all.text).toBe('trace limit=all\n');
    expect((await call('GET', '/api/sip-trace?limit=5')).text).toBe('trace limit=5\n');
    expect((await call('GET', '/api/sip-trace?limit=x')).status).toBe(400);
  });

  test('POST hook passes the state to the line', async () => {
    for (const state of ['off', 'flash', 'on']) expect((await call('POST', '/api/lines/1/hook', { state })).status).toBe(200);
    expect(control.actions).toEqual(['hook 1 off', 'hook 1 flash', 'hook 1 on']);
  });

  test('POST dial passes digits and method; method defaults to dtmf', async () => {
    expect((await call('POST', '/api/lines/0/dial', { digits: '200#' })).json()).toEqual({ ok: true });
    expect((await call('POST', '/api/lines/0/dial', { digits: '4711', method: 'pulse' })).status).toBe(200);
    expect(control.actions).toEqual(['dial 0 200# dtmf', 'dial 0 4711 pulse']);
  });

  test('POST ring (sim test hook) passes caller ID and refuses bad fields with 400', async () => {
    expect((await call('POST', '/api/lines/0/ring', { number: '5551234', name: 'Ada Lovelace' })).status).toBe(200);
    expect((await call('POST', '/api/lines/0/ring', { withheld: 'private' })).status).toBe(200);
    expect(control.actions).toEqual(['ring 0 {"number":"5551234","name":"Ada Lovelace"}', 'ring 0 {"withheld":"private"}']);
    for (const bad of [{ number: '55a' }, { name: 'x'.repeat(16) }, { name: 'bad\u0007' }, { withheld: 'yes' }, { color: 'red' }, { alert_info: 'a\r\nb' }]) {
      expect((await call('POST', '/api/lines/0/ring', bad)).status, JSON.stringify(bad)).toBe(400);
    }
    control.board = 'ag1171';
    expect((await call('POST', '/api/lines/0/ring', {})).status).toBe(409);
  });
});

describe('errors', () => {
  test.each([
    ['not JSON', '{"state": off}', /not JSON/],
    ['not an object', '[1]', /JSON object/],
    ['bad state', { state: 'sideways' }, /"state" must be one of/],
    ['unknown field', { state: 'on', force: true }, /unknown field "force"/],
  ])('hook with %s -> 400 with a reason', async (_n, body, reason) => {
    const r = await call('POST', '/api/lines/0/hook', body);
    expect(r.status).toBe(400);
    expect(r.json().error).toMatch(reason);
    expect(control.actions).toEqual([]);
  });

  test.each([
    ['empty digits', { digits: '' }],
    ['letters', { digits: '12z' }],
    ['* by pulse', { digits: '1*', method: 'pulse' }],
    ['bad method', { digits: '1', method: 'smoke' }],
    ['too many digits', { digits: '1'.repeat(65) }],
    ['digits not a string', { digits: 12 }],
  ])('dial with %s -> 400', async (_n, body) => {
    expect((await call('POST', '/api/lines/0/dial', body)).status).toBe(400);
  });

  test('BadRequestError from the agent -> 400 naming the field', async () => {
    const r = await call('POST', '/api/lines/0/dial', { digits: '000' });
    expect(r.status).toBe(400);
    expect(r.json()).toEqual({ error: 'line is on hook', field: 'digits' });
  });

  test('NoSuchLineError -> 404', async () => {
    expect((await call('POST', '/api/lines/7/hook', { state: 'off' })).status).toBe(404);
  });

  test('NotSupportedError (board is not sim) -> 409', async () => {
    control.board = 'ag1171';
    const r = await call('POST', '/api/lines/0/hook', { state: 'off' });
    expect(r.status).toBe(409);
    expect(r.json().error).toContain('not sim');
  });

  test('a body over the limit -> 413', async () => {
    const r = await call('POST', '/api/lines/0/dial', JSON.stringify({ digits: '1', pad: 'x'.repeat(MAX_BODY_BYTES) }));
    expect(r.status).toBe(413);
  });

  test('a chunked body over the limit (no Content-Length) -> 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${api.url}/api/lines/0/hook`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 40; i++) req.write('x'.repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
  });

  test('unknown route -> 404, wrong method -> 405 with Allow', async () => {
    expect((await call('GET', '/api/nothing')).status).toBe(404);
    expect((await call('GET', '/api/lines/abc/hook')).status).toBe(404);
    const r = await call('DELETE', '/api/status');
    expect(r.status).toBe(405);
    expect(r.allow).toBe('GET');
    expect((await call('GET', '/api/lines/0/hook')).allow).toBe('POST');
  });

  test('an unexpected agent error -> 500 without its details, and it is logged', async () => {
    control.failWith = new Error('secret internals');
    const r = await call('GET', '/api/status');
    expect(r.status).toBe(500);
    expect(r.text).not.toContain('secret internals');
    expect(logLines.some((l) => l.includes('secret internals'))).toBe(true);
  });

  test('the server still answers after all of that', async () => {
    expect((await call('GET', '/api/status')).status).toBe(200);
  });
});
