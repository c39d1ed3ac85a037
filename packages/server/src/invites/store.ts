import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { InviteTable } from '../db/schema/invite.js';

export async function insertInvite(db: Db, row: Insertable<InviteTable>): Promise<void> {
  await db.insertInto('invite').values(row).execute();
}

export function getInviteByTokenHash(db: Db, tokenHash: string) {
  return db.selectFrom('invite').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export function listInvites(db: Db, organisationId: string) {
  return db.selectFrom('invite').selectAll().where('organisation_id', '=', organisationId).orderBy('created_at', 'desc').execute();
}

/** Marks the invite accepted if it still is open; true when this call took it. */
export async function acceptInvite(db: Db, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('invite')
    .set({ accepted_at: at })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function revokeInvite(db: Db, organisationId: string, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('invite')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('organisation_id', '=', organisationId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
