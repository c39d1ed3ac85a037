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

/**
 * Everything a send, fetch or acknowledgement checks before it writes, in one query: the sending
 * device (revoked?), the conversation and the account's membership, the device's seat, and a
 * message already stored under `clientMessageId` (a retry). Absent joins come back as nulls.
 */
export function deviceSeat(db: Db, deviceId: string, accountId: string, conversationId: string, clientMessageId: string | null) {
  return db
    .selectFrom('device as d')
    .leftJoin('conversation as c', (j) => j.on('c.id', '=', conversationId))
    .leftJoin('conversation_member as m', (j) => j.onRef('m.conversation_id', '=', 'c.id').on('m.account_id', '=', accountId))
    .leftJoin('conversation_device as cd', (j) => j.onRef('cd.conversation_id', '=', 'c.id').on('cd.device_id', '=', deviceId))
    .leftJoin('mls_message as prev', (j) => j.onRef('prev.conversation_id', '=', 'c.id').on('prev.client_message_id', '=', clientMessageId ?? ''))
    .select([
      'd.revoked_at',
      'c.id as conversation_id',
      'c.last_seq',
      'm.account_id as member_account_id',
      'm.removed_at as member_removed_at',
      'cd.device_id as seat_device_id',
      'cd.joined_seq',
      'cd.removed_seq',
      'prev.seq as prev_seq',
      'prev.epoch as prev_epoch',
      'prev.kind as prev_kind',
      'prev.sender_device_id as prev_sender_device_id',
    ])
    .where('d.id', '=', deviceId)
    .executeTakeFirst();
}

/**
 * Takes `count` sequence numbers of a conversation at once (the row stays locked until the
 * transaction ends); returns the state after the increment, to check epochs against.
 */
export function reserveSeqs(db: Db, conversationId: string, count: number) {
  return db
    .updateTable('conversation')
    .set((eb) => ({ last_seq: eb('last_seq', '+', count) }))
    .where('id', '=', conversationId)
    .returning(['last_seq', 'epoch', 'min_send_epoch'])
    .executeTakeFirstOrThrow();
}

/** Gives back sequence numbers reserved for messages that were then refused (within the same transaction). */
export async function setLastSeq(db: Db, conversationId: string, lastSeq: number): Promise<void> {
  await db.updateTable('conversation').set({ last_seq: lastSeq }).where('id', '=', conversationId).execute();
}

/** Rows per multi-row INSERT: well under SQLite's 32766 bound variables. */
const ROWS_PER_INSERT = 500;

export async function insertMessages(db: Db, rows: Insertable<MlsMessageTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await db.insertInto('mls_message').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
}

/** Moves many cursors forward (never back) in one statement per chunk; rows must have distinct keys. */
export async function advanceCursors(db: Db, rows: { device_id: string; conversation_id: string; acked_seq: number }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    await db
      .insertInto('delivery_cursor')
      .values(rows.slice(i, i + ROWS_PER_INSERT))
      .onConflict((oc) =>
        oc
          .columns(['device_id', 'conversation_id'])
          .doUpdateSet((eb) => ({ acked_seq: eb.ref('excluded.acked_seq') }))
          .where((eb) => eb('delivery_cursor.acked_seq', '<', eb.ref('excluded.acked_seq'))),
      )
      .execute();
  }
}

/** Devices (with their account) that get what is sent to these conversations now: seated, not removed, not revoked. */
export function recipientsOf(db: Db, conversationIds: readonly string[]) {
  return db
    .selectFrom('conversation_device')
    .innerJoin('device', 'device.id', 'conversation_device.device_id')
    .select(['conversation_device.conversation_id', 'conversation_device.device_id', 'device.account_id'])
    .where('conversation_device.conversation_id', 'in', conversationIds)
    .where('conversation_device.removed_seq', 'is', null)
    .where('device.revoked_at', 'is', null)
    .execute();
}
