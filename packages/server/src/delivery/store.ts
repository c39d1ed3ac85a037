import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { MlsMessageTable, WelcomeTable } from '../db/schema/messaging.js';

/** Takes the next sequence number of a commit, only if the conversation is still at `epoch`. */
export function advanceEpoch(db: Db, conversationId: string, epoch: number) {
  return db
    .updateTable('conversation')
    .set((eb) => ({ epoch: eb('epoch', '+', 1), last_seq: eb('last_seq', '+', 1) }))
    .where('id', '=', conversationId)
    .where('epoch', '=', epoch)
    .returning(['last_seq', 'epoch'])
    .executeTakeFirst();
}

export function nextSeq(db: Db, conversationId: string) {
  return db
    .updateTable('conversation')
    .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
    .where('id', '=', conversationId)
    .returning(['last_seq', 'epoch', 'min_send_epoch'])
    .executeTakeFirstOrThrow();
}

export async function insertMessage(db: Db, row: Insertable<MlsMessageTable>): Promise<void> {
  await db.insertInto('mls_message').values(row).execute();
}

export function messageByClientId(db: Db, conversationId: string, clientMessageId: string) {
  return db
    .selectFrom('mls_message')
    .select(['seq', 'epoch', 'kind', 'sender_device_id'])
    .where('conversation_id', '=', conversationId)
    .where('client_message_id', '=', clientMessageId)
    .executeTakeFirst();
}

export function messagesAfter(db: Db, conversationId: string, after: number, upTo: number | null, limit: number) {
  let q = db.selectFrom('mls_message').selectAll().where('conversation_id', '=', conversationId).where('seq', '>', after);
  if (upTo !== null) q = q.where('seq', '<=', upTo);
  return q.orderBy('seq').limit(limit).execute();
}

export async function insertWelcomes(db: Db, rows: Insertable<WelcomeTable>[]): Promise<void> {
  if (rows.length) await db.insertInto('welcome').values(rows).execute();
}

export function pendingWelcomes(db: Db, deviceId: string) {
  return db.selectFrom('welcome').selectAll().where('device_id', '=', deviceId).where('consumed_at', 'is', null).orderBy('created_at').execute();
}

export async function consumeWelcome(db: Db, deviceId: string, id: string, at: string): Promise<boolean> {
  const r = await db.updateTable('welcome').set({ consumed_at: at }).where('id', '=', id).where('device_id', '=', deviceId).where('consumed_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Moves the device's cursor forward (never back). */
export async function advanceCursor(db: Db, deviceId: string, conversationId: string, seq: number): Promise<void> {
  await db
    .insertInto('delivery_cursor')
    .values({ device_id: deviceId, conversation_id: conversationId, acked_seq: seq })
    .onConflict((oc) =>
      oc.columns(['device_id', 'conversation_id']).doUpdateSet({ acked_seq: seq }).where('delivery_cursor.acked_seq', '<', seq),
    )
    .execute();
}
