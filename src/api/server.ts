/**
 * The HTTP control and status API on [api] listen: node:http, JSON in and out. Every request body is untrusted:
 * size-limited, parsed defensively, and any failure becomes an HTTP error answer, never an exception that
 * escapes into the event loop.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadRequestError, NoSuchLineError, NotSupportedError, type AgentControl } from '../agent-contract.js';
import type { ListenAddress } from '../config/schema.js';
import type { Logger } from '../log.js';
import { matchRoute, type ApiAnswer } from './routes.js';

export const MAX_BODY_BYTES = 16 * 1024;

export interface ApiServerOptions {
  listen: ListenAddress;
  log: Logger;
}

export interface ApiServer {
  /** The address actually bound (port 0 resolved). */
  address: ListenAddress;
  /** Base URL, "http://127.0.0.1:8080". */
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) {
      reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, answer: ApiAnswer, extraHeaders: Record<string, string> = {}): void {
  const isJson = 'json' in answer;
  const payload = isJson ? `${JSON.stringify(answer.json)}\n` : answer.text;
  res.writeHead(answer.status, {
    'content-type': isJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    ...extraHeaders,
  });
  res.end(payload);
}

function errorAnswer(err: unknown): ApiAnswer | undefined {
  if (err instanceof HttpError) return { status: err.status, json: { error: err.message } };
  if (err instanceof BadRequestError) return { status: 400, json: { error: err.message, ...(err.field ? { field: err.field } : {}) } };
  if (err instanceof NoSuchLineError) return { status: 404, json: { error: err.message } };
  if (err instanceof NotSupportedError) return { status: 409, json: { error: err.message } };
  return undefined;
}

async function handle(control: AgentControl, log: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://api.invalid');
  } catch {
    send(res, { status: 400, json: { error: 'bad request target' } });
    return;
  }
  const match = matchRoute(method, url.pathname);
  if (match.kind === 'none') {
    send(res, { status: 404, json: { error: `no route ${url.pathname}` } });
    req.resume();
    return;
  }
  if (match.kind === 'wrong-method') {
    send(res, { status: 405, json: { error: `${method} not allowed on ${url.pathname}` } }, { allow: match.allow.join(', ') });
    req.resume();
    return;
  }
  try {
    let body: unknown;
    if (method === 'POST') {
      const text = await readBody(req);
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new BadRequestError(`body is not JSON: ${(e as Error).message}`);
      }
    }
    const answer = match.route.handle(control, { params: match.params, query: url.searchParams, body });
    send(res, answer);
  } catch (err) {
    const known = errorAnswer(err);
    if (known) {
      log.debug({ method, path: url.pathname, status: known.status, reason: (err as Error).message }, 'api request refused');
      if (!res.headersSent) send(res, known, known.status === 413 ? { connection: 'close' } : {});
      return;
    }
    log.error({ err, method, path: url.pathname }, 'api handler failed');
    if (!res.headersSent) send(res, { status: 500, json: { error: 'internal error' } });
  }
}

export function startApiServer(control: AgentControl, opts: ApiServerOptions): Promise<ApiServer> {
  const { log } = opts;
  const server: Server = createServer((req, res) => {
    handle(control, log, req, res).catch((err: unknown) => {
      log.error({ err }, 'api request crashed');
      if (!res.headersSent) send(res, { status: 500, json: { error: 'internal error' } });
    });
  });
  // Slow clients must not hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      server.on('error', (err) => log.error({ err }, 'api server error'));
      const a = server.address() as AddressInfo;
      const host = a.address;
      const hostForUrl = host.includes(':') ? `[${host}]` : host;
      log.info({ listen: `${hostForUrl}:${a.port}` }, 'api listening');
      resolve({
        address: { host, port: a.port },
        url: `http://${hostForUrl}:${a.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
