/**
 * The client half of the CLI: `ata status` and `ata phone ...` talk to a running agent over its HTTP API and
 * print what they get in a form people read.
 */
import type { AccountStatus, LineStatus, StatusJson } from './agent-contract.js';

export class ApiClientError extends Error {
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'ApiClientError';
    this.status = status;
  }
}

const TIMEOUT_MS = 5000;

async function request(base: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new ApiClientError(`bad API URL "${base}"`);
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      signal: AbortSignal.timeout(TIMEOUT_MS),
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new ApiClientError(`cannot reach the agent at ${url.origin}: ${cause} (is \`ata run\` running? --api URL)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiClientError(`agent answered ${res.status} with non-JSON: ${text.slice(0, 200)}`, res.status);
  }
  if (!res.ok) {
    const reason = typeof json === 'object' && json !== null && 'error' in json ? String(json.error) : text.slice(0, 200);
    throw new ApiClientError(`agent refused (${res.status}): ${reason}`, res.status);
  }
  return json;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(r).padStart(2, '0')}s` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function accountLine(a: AccountStatus): string {
  const state = a.registered ? `registered${a.expires_in !== null ? `, expires in ${a.expires_in} s` : ''}` : `not registered (${a.state})`;
  const err = a.last_error ? `; last error: ${a.last_error}` : '';
  return `  line ${a.line}  ${a.aor}  ${state}${err}`;
}

function lineLine(l: LineStatus): string {
  const call = l.call
    ? // No codec yet while ringing or calling: leave it out rather than print an empty field.
      `  ${l.call.direction === 'in' ? 'from' : 'to'} ${l.call.remote}, ${l.call.codec ? `${l.call.codec}, ` : ''}${formatDuration(l.call.duration_s)}`
    : '';
  // A call's quality, as a commercial adapter's status page gives it; tolerant of an older agent that sends none.
  const q = l.call?.quality;
  const quality = q ? `  (loss ${q.packets_lost}/${q.packets_received + q.packets_lost}, jitter ${q.jitter_ms} ms${q.rtt_ms === null ? '' : `, rtt ${q.rtt_ms} ms`})` : '';
  // The digits matter while they are being dialled; once a call is up its target says where it went.
  const digits = l.digits && l.state === 'dialing' ? `  digits ${l.digits}` : '';
  const vm = l.voice_messages;
  const messages = l.message_waiting ? `  voicemail waiting${vm ? ` (${vm.new} new, ${vm.old} old)` : ''}` : '';
  return `  line ${l.id}  ${l.hook === 'off' ? 'off hook' : 'on hook '}  ${l.state}${digits}${call}${quality}${messages}`;
}

/** Human-readable status; tolerant of missing fields so an older agent still prints something. */
export function formatStatus(s: StatusJson): string {
  const out = [`pi-ata ${s.version ?? '?'}, up ${formatDuration(s.uptime_s ?? 0)}`];
  const accounts = Array.isArray(s.accounts) ? s.accounts : [];
  out.push(accounts.length === 0 ? 'accounts: none (direct IP calls only)' : 'accounts:');
  for (const a of accounts) out.push(accountLine(a));
  out.push('lines:');
  for (const l of Array.isArray(s.lines) ? s.lines : []) out.push(lineLine(l));
  return out.join('\n');
}

export async function fetchStatus(api: string): Promise<StatusJson> {
  const json = await request(api, 'GET', 'api/status');
  if (typeof json !== 'object' || json === null) throw new ApiClientError('agent answered a status that is not an object');
  return json as StatusJson;
}

export type PhoneAction =
  | { kind: 'hook'; state: 'off' | 'on' | 'flash' }
  | { kind: 'dial'; digits: string; method: 'dtmf' | 'pulse' }
  | { kind: 'ring'; number?: string; name?: string };

export async function drivePhone(api: string, line: number, action: PhoneAction): Promise<void> {
  if (action.kind === 'hook') await request(api, 'POST', `api/lines/${line}/hook`, { state: action.state });
  else if (action.kind === 'dial') await request(api, 'POST', `api/lines/${line}/dial`, { digits: action.digits, method: action.method });
  else await request(api, 'POST', `api/lines/${line}/ring`, { number: action.number, name: action.name });
}
