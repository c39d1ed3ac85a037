import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { PasskeyTable, RecoveryCodeTable, TotpCredentialTable } from '../db/schema/mfa.js';

export function getTotp(db: Db, accountId: string) {
  return db.selectFrom('totp_credential').selectAll().where('account_id', '=', accountId).executeTakeFirst();
}

export async function putPendingTotp(db: Db, row: Insertable<TotpCredentialTable>): Promise<void> {
  await db.deleteFrom('totp_credential').where('account_id', '=', row.account_id).execute();
  await db.insertInto('totp_credential').values(row).execute();
}

export async function confirmTotp(db: Db, accountId: string, at: string, timeStep: number): Promise<void> {
  await db
    .updateTable('totp_credential')
    .set({ confirmed_at: at, last_time_step: timeStep })
    .where('account_id', '=', accountId)
    .execute();
}

/**
 * Records the accepted time step only if it is newer than the last one, in one statement, so two
 * concurrent requests with the same code cannot both succeed.
 */
export async function advanceTotpStep(db: Db, accountId: string, timeStep: number): Promise<boolean> {
  const result = await db
    .updateTable('totp_credential')
    .set({ last_time_step: timeStep })
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('last_time_step', 'is', null), eb('last_time_step', '<', timeStep)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteTotp(db: Db, accountId: string): Promise<void> {
  await db.deleteFrom('totp_credential').where('account_id', '=', accountId).execute();
}

export async function replaceRecoveryCodes(db: Db, accountId: string, rows: Insertable<RecoveryCodeTable>[]): Promise<void> {
  await db.deleteFrom('recovery_code').where('account_id', '=', accountId).execute();
  if (rows.length) await db.insertInto('recovery_code').values(rows).execute();
}

export async function countUnusedRecoveryCodes(db: Db, accountId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_code')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks the code used if it is unused; true when this call consumed it. */
export async function consumeRecoveryCode(db: Db, accountId: string, codeHash: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('recovery_code')
    .set({ used_at: at })
    .where('account_id', '=', accountId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function deleteRecoveryCodes(db: Db, accountId: string): Promise<void> {
  await db.deleteFrom('recovery_code').where('account_id', '=', accountId).execute();
}

export function listPasskeys(db: Db, accountId: string) {
  return db.selectFrom('passkey').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
}

export function getPasskeyByCredentialId(db: Db, accountId: string, credentialId: string) {
  return db
    .selectFrom('passkey')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
}

/** Any account's passkey with this credential ID (credential IDs are unique deployment-wide). */
export function findPasskeyByCredentialId(db: Db, credentialId: string) {
  return db.selectFrom('passkey').select(['id', 'account_id']).where('credential_id', '=', credentialId).executeTakeFirst();
}

export async function insertPasskey(db: Db, row: Insertable<PasskeyTable>): Promise<void> {
  await db.insertInto('passkey').values(row).execute();
}

export async function recordPasskeyUse(db: Db, id: string, signCount: number, at: string): Promise<void> {
  await db.updateTable('passkey').set({ sign_count: signCount, last_used_at: at }).where('id', '=', id).execute();
}

export async function deletePasskey(db: Db, accountId: string, id: string): Promise<boolean> {
  const result = await db.deleteFrom('passkey').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function deleteAllPasskeys(db: Db, accountId: string): Promise<void> {
  await db.deleteFrom('passkey').where('account_id', '=', accountId).execute();
}
