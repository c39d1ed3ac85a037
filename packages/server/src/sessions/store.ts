import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type { SessionTable } from '../db/schema/session.js';

export type SessionRow = SessionTable;

export async function insertSession(db: Db, row: Insertable<SessionTable>): Promise<void> {
  await db.insertInto('session').values(row).execute();
}

export function getLiveSessionByTokenHash(db: Db, tokenHash: string) {
  return db
    .selectFrom('session')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
}

export async function updateSession(db: Db, id: string, changes: Updateable<SessionTable>): Promise<void> {
  await db.updateTable('session').set(changes).where('id', '=', id).execute();
}

export function listLiveSessions(db: Db, accountId: string) {
  return db
    .selectFrom('session')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('ended_at', 'is', null)
    .orderBy('last_seen_at', 'desc')
    .execute();
}

/** Ends one session of this account; returns whether there was such a live session. */
export async function endSession(db: Db, accountId: string, id: string, reason: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('session')
    .set({ ended_at: at, end_reason: reason })
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function endAllSessions(db: Db, accountId: string, reason: string, at: string, exceptId?: string): Promise<number> {
  let q = db
    .updateTable('session')
    .set({ ended_at: at, end_reason: reason })
    .where('account_id', '=', accountId)
    .where('ended_at', 'is', null);
  if (exceptId) q = q.where('id', '!=', exceptId);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
