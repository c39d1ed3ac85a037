import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type { AccountTable } from '../db/schema/account.js';

export type AccountRow = AccountTable;

export function getAccountByEmail(db: Db, email: string) {
  return db.selectFrom('account').selectAll().where('email', '=', email).executeTakeFirst();
}

export function getAccount(db: Db, id: string) {
  return db.selectFrom('account').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Scoped lookup: an id from another organisation reads as absent. */
export function getAccountInOrg(db: Db, organisationId: string, id: string) {
  return db
    .selectFrom('account')
    .selectAll()
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst();
}

export async function insertAccount(db: Db, row: Insertable<AccountTable>): Promise<void> {
  await db.insertInto('account').values(row).execute();
}

export async function updateAccount(db: Db, id: string, changes: Updateable<AccountTable>): Promise<void> {
  await db.updateTable('account').set(changes).where('id', '=', id).execute();
}

export function listAccountsInOrg(db: Db, organisationId: string) {
  return db
    .selectFrom('account')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .orderBy('display_name')
    .execute();
}

export async function countActiveAdmins(db: Db, organisationId: string): Promise<number> {
  const row = await db
    .selectFrom('account')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('organisation_id', '=', organisationId)
    .where('role', '=', 'admin')
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
