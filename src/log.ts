/**
 * Logging: pino, one JSON line per event, a child logger per component ({"component":"sip"}). Secrets are
 * redacted by key name wherever they sit in a logged object, and SIP text passes through redactSipAuth before it
 * is logged, so neither a password nor a digest response reaches a log line.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/schema.js';

export type Logger = PinoLogger;

export type Component = 'agent' | 'sip' | 'media' | 'phone' | 'board' | 'api' | 'config' | 'cli' | (string & {});

/** Object keys whose values never reach a log line, at any of the first levels of nesting. */
const SECRET_KEYS = ['password', 'authorization', 'proxy_authorization', 'proxyAuthorization', 'secret', 'ha1'];
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '<redacted>' },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

export function componentLogger(root: Logger, component: Component): Logger {
  return root.child({ component });
}

const AUTH_HEADER = /^((?:Proxy-)?Authorization[ \t]*:)([^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*)/gim;

/**
 * Replaces the digest `response=` value in Authorization and Proxy-Authorization headers. The response is a
 * hash, not the password, but it can be replayed against the same nonce and brute-forced offline.
 */
export function redactSipAuth(text: string): string {
  return text.replace(AUTH_HEADER, (_m, name: string, value: string) =>
    name + value.replace(/(\bresponse[ \t]*=[ \t]*)("[^"]*"|[^,\s]*)/gi, '$1"<redacted>"'),
  );
}
