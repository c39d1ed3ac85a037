import { randomUUID } from 'node:crypto';
import { ConsiliumError } from '../errors.js';
import { addSeconds, iso, type Deps } from '../deps.js';
import { failuresSince, forgetFailures, recordSigninAttempt } from './store.js';

export type Factor = 'password' | 'mfa';

/**
 * Sign-in throttling kept in the database, so it holds across restarts and across server nodes
 * sharing one PostgreSQL. Failures of either factor count against the account and the address.
 * Checked before any password work, so a locked account gives no oracle even for a right password.
 */
export async function assertNotThrottled(deps: Deps, email: string, ip: string): Promise<void> {
  const { windowMinutes, maxFailuresPerAccount, maxFailuresPerIp } = deps.config.signIn;
  const now = deps.now();
  const since = iso(addSeconds(now, -windowMinutes * 60));
  for (const [by, value, max] of [
    ['email', email, maxFailuresPerAccount],
    ['ip_address', ip, maxFailuresPerIp],
  ] as const) {
    const failures = await failuresSince(deps.db, by, value, since);
    if (failures.length >= max) {
      const oldestCounted = failures[failures.length - max]!;
      const freeAt = addSeconds(new Date(oldestCounted.at), windowMinutes * 60);
      const retryAfterSeconds = Math.max(1, Math.ceil((freeAt.getTime() - now.getTime()) / 1000));
      throw new ConsiliumError(
        'RATE_LIMITED',
        by === 'email'
          ? 'too many failed sign-in attempts for this account; try again later'
          : 'too many failed sign-in attempts from this network address; try again later',
        { retryAfterSeconds },
      );
    }
  }
}

export async function recordAttempt(deps: Deps, email: string, ip: string, factor: Factor, succeeded: boolean): Promise<void> {
  await recordSigninAttempt(deps.db, {
    id: randomUUID(),
    email,
    ip_address: ip,
    factor,
    succeeded: succeeded ? 1 : 0,
    at: iso(deps.now()),
  });
  if (succeeded && factor === 'mfa') await forgetFailures(deps.db, email);
}
