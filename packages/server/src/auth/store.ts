import type { Db } from '../db/database.js';
import type { SigninAttemptTable } from '../db/schema/signin-attempt.js';

export async function recordSigninAttempt(db: Db, row: SigninAttemptTable): Promise<void> {
  await db.insertInto('signin_attempt').values(row).execute();
}

/** Failed attempts since `since` for an e-mail or an IP address, oldest first (for Retry-After). */
export function failuresSince(db: Db, by: 'email' | 'ip_address', value: string, since: string) {
  return db
    .selectFrom('signin_attempt')
    .select(['at'])
    .where(by, '=', value)
    .where('succeeded', '=', 0)
    .where('at', '>', since)
    .orderBy('at', 'asc')
    .execute();
}

/** A successful sign-in clears the account's failure count (not the IP's). */
export async function forgetFailures(db: Db, email: string): Promise<void> {
  await db.deleteFrom('signin_attempt').where('email', '=', email).where('succeeded', '=', 0).execute();
}

export async function pruneAttempts(db: Db, before: string): Promise<void> {
  await db.deleteFrom('signin_attempt').where('at', '<', before).execute();
}
