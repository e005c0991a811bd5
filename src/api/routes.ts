/**
 * The routes of the control and status API (INTERFACES.md) over an AgentControl. Pure request -> answer
 * functions: the server in server.ts does HTTP, bodies and errors.
 */
import { BadRequestError, type AgentControl, type DialMethod, type HookAction, type TestRing } from '../agent-contract.js';

export type ApiAnswer = { status: number; json: unknown } | { status: number; text: string };

export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (POST only). */
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** Names of the pattern's capture groups, in order. */
  names: string[];
  handle(control: AgentControl, req: ApiRequest): ApiAnswer;
}

const HOOK_ACTIONS: readonly HookAction[] = ['off', 'on', 'flash'];
const DIAL_METHODS: readonly DialMethod[] = ['dtmf', 'pulse'];
const MAX_DIGITS = 64;

function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('body must be a JSON object');
  return body as Record<string, unknown>;
}

function onlyKeys(body: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) throw new BadRequestError(`unknown field "${k}" (allowed: ${allowed.join(', ')})`, k);
  }
}

function lineId(params: Record<string, string>): number {
  return Number(params.id);
}

export const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/status$/,
    names: [],
    handle: (c) => ({ status: 200, json: c.status() }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/calls$/,
    names: [],
    handle: (c) => ({ status: 200, json: c.calls() }),
  },
  {
    method: 'GET',
    pattern: /^\/api\/sip-trace$/,
    names: [],
    handle: (c, req) => {
      const raw = req.query.get('limit');
      if (raw === null) return { status: 200, text: c.sipTrace() };
      if (!/^\d{1,5}$/.test(raw)) throw new BadRequestError('limit must be a whole number', 'limit');
      return { status: 200, text: c.sipTrace(Number(raw)) };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/lines\/(\d{1,3})\/hook$/,
    names: ['id'],
    handle: (c, req) => {
      const body = bodyObject(req.body);
      onlyKeys(body, ['state']);
      const state = body.state;
      if (typeof state !== 'string' || !HOOK_ACTIONS.includes(state as HookAction)) {
        throw new BadRequestError(`"state" must be one of ${HOOK_ACTIONS.join(', ')}`, 'state');
      }
      c.hook(lineId(req.params), state as HookAction);
      return { status: 200, json: { ok: true } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/lines\/(\d{1,3})\/dial$/,
    names: ['id'],
    handle: (c, req) => {
      const body = bodyObject(req.body);
      onlyKeys(body, ['digits', 'method']);
      const method = body.method ?? 'dtmf';
      if (typeof method !== 'string' || !DIAL_METHODS.includes(method as DialMethod)) {
        throw new BadRequestError(`"method" must be one of ${DIAL_METHODS.join(', ')}`, 'method');
      }
      const digits = body.digits;
      const allowed = method === 'pulse' ? /^[0-9]+$/ : /^[0-9*#A-Da-d]+$/;
      if (typeof digits !== 'string' || digits.length === 0 || digits.length > MAX_DIGITS || !allowed.test(digits)) {
        const set = method === 'pulse' ? '0-9 (a rotary dial has no * or #)' : '0-9 * # A-D';
        throw new BadRequestError(`"digits" must be 1-${MAX_DIGITS} of ${set}`, 'digits');
      }
      c.dial(lineId(req.params), digits.toUpperCase(), method as DialMethod);
      return { status: 200, json: { ok: true } };
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/lines\/(\d{1,3})\/ring$/,
    names: ['id'],
    handle: (c, req) => {
      const body = bodyObject(req.body);
      onlyKeys(body, ['number', 'name', 'withheld', 'alert_info']);
      const ring: TestRing = {};
      if (body.number !== undefined) {
        if (typeof body.number !== 'string' || !/^[0-9*#+]{1,20}$/.test(body.number)) throw new BadRequestError('"number" must be 1-20 of 0-9 * # +', 'number');
        ring.number = body.number;
      }
      if (body.name !== undefined) {
        // MDMF carries at most 15 name characters (Bell GR-30), printable ASCII.
        if (typeof body.name !== 'string' || !/^[\x20-\x7e]{1,15}$/.test(body.name)) throw new BadRequestError('"name" must be 1-15 printable ASCII characters', 'name');
        ring.name = body.name;
      }
      if (body.withheld !== undefined) {
        if (body.withheld !== 'private' && body.withheld !== 'unavailable') throw new BadRequestError('"withheld" must be "private" or "unavailable"', 'withheld');
        ring.withheld = body.withheld;
      }
      if (body.alert_info !== undefined) {
        if (typeof body.alert_info !== 'string' || body.alert_info.length > 200 || /[\x00-\x1f]/.test(body.alert_info)) throw new BadRequestError('"alert_info" must be a header value of at most 200 characters', 'alert_info');
        ring.alert_info = body.alert_info;
      }
      c.ring(lineId(req.params), ring);
      return { status: 200, json: { ok: true } };
    },
  },
];

export type RouteMatch = { kind: 'found'; route: Route; params: Record<string, string> } | { kind: 'wrong-method'; allow: string[] } | { kind: 'none' };

export function matchRoute(method: string, pathname: string): RouteMatch {
  const allow: string[] = [];
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    if (route.method !== method) {
      allow.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    route.names.forEach((n, i) => (params[n] = m[i + 1]));
    return { kind: 'found', route, params };
  }
  return allow.length > 0 ? { kind: 'wrong-method', allow } : { kind: 'none' };
}
