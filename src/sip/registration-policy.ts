/**
 * The numbers a registration lives by (REFERENCE.md "Registration", RFC 3261 sec. 10.2.4, and what commercial ATAs
 * do). Kept apart from the state machine so the agent and the tests can change them without touching the machine.
 */
import type { Random } from '../../hal/clock.js';

export interface RegistrationPolicy {
  /** Expires we ask for, in seconds. */
  expires: number;
  /** Refresh at a random point in [refreshMin, refreshMax] of the granted expiry. */
  refreshMin: number;
  refreshMax: number;
  /** Never refresh sooner than this after a success, so a registrar granting 1 s cannot make us spin. */
  minRefreshMs: number;
  /** First back-off after a transient failure, doubling to the cap. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** Each back-off is scaled by a factor drawn in [jitterMin, 1]. */
  jitterMin: number;
  /** Wait after 403 or rejected credentials: retrying fast only locks the account on many registrars. */
  forbiddenWaitMs: number;
  /** How long unregister() waits for an answer before it gives up and reports done. */
  unregisterTimeoutMs: number;
  /** Upper bound on a Retry-After we honour, so a hostile server cannot park us for a year. */
  retryAfterCapMs: number;
}

export const DEFAULT_REGISTRATION_POLICY: Readonly<RegistrationPolicy> = {
  expires: 3600,
  refreshMin: 0.5,
  refreshMax: 0.9,
  minRefreshMs: 1000,
  backoffBaseMs: 30_000,
  backoffCapMs: 1_800_000,
  jitterMin: 0.5,
  forbiddenWaitMs: 1_200_000,
  unregisterTimeoutMs: 4000,
  retryAfterCapMs: 3_600_000,
};

export class RegistrationPolicyError extends Error {
  override readonly name = 'RegistrationPolicyError';
  constructor(readonly field: keyof RegistrationPolicy, detail: string) {
    super(`registration policy ${field}: ${detail}`);
  }
}

/** Fills in defaults and refuses numbers that would make the machine loop or never refresh. */
export function makeRegistrationPolicy(overrides: Partial<RegistrationPolicy> = {}): RegistrationPolicy {
  const p: RegistrationPolicy = { ...DEFAULT_REGISTRATION_POLICY, ...overrides };
  for (const [k, v] of Object.entries(p) as [keyof RegistrationPolicy, number][]) {
    if (!Number.isFinite(v) || v < 0) throw new RegistrationPolicyError(k, `must be a finite number >= 0, got ${v}`);
  }
  if (!(p.refreshMin > 0 && p.refreshMin <= p.refreshMax && p.refreshMax < 1))
    throw new RegistrationPolicyError('refreshMin', 'need 0 < refreshMin <= refreshMax < 1');
  if (p.jitterMin > 1) throw new RegistrationPolicyError('jitterMin', 'must be <= 1');
  if (p.backoffBaseMs <= 0) throw new RegistrationPolicyError('backoffBaseMs', 'must be > 0');
  if (p.expires < 1 || !Number.isInteger(p.expires)) throw new RegistrationPolicyError('expires', 'must be a whole number of seconds >= 1');
  return p;
}

/** Delay from a success to the refresh, for a granted expiry in seconds. */
export function refreshDelayMs(grantedSeconds: number, p: RegistrationPolicy, random: Random): number {
  const f = p.refreshMin + (p.refreshMax - p.refreshMin) * random();
  return Math.max(p.minRefreshMs, Math.floor(grantedSeconds * 1000 * f));
}

/** Back-off before retry number `failures` (1 = first failure). */
export function backoffDelayMs(failures: number, p: RegistrationPolicy, random: Random): number {
  const exp = Math.min(30, Math.max(0, failures - 1));
  const nominal = Math.min(p.backoffCapMs, p.backoffBaseMs * 2 ** exp);
  return Math.floor(nominal * (p.jitterMin + (1 - p.jitterMin) * random()));
}

/** Retry-After (RFC 3261 sec. 20.33): "120 (comment);duration=3600"; undefined when absent or malformed. */
export function parseRetryAfterMs(value: string | undefined, p: RegistrationPolicy): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})/.exec(value);
  if (!m) return undefined;
  return Math.min(p.retryAfterCapMs, Number(m[1]) * 1000);
}
