import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { ConversationDeviceTable, ConversationMemberTable, ConversationTable } from '../db/schema/messaging.js';

export async function insertConversation(db: Db, row: Insertable<ConversationTable>): Promise<void> {
  await db.insertInto('conversation').values(row).execute();
}

export function getConversation(db: Db, id: string) {
  return db.selectFrom('conversation').selectAll().where('id', '=', id).executeTakeFirst();
}

export function getDirectConversation(db: Db, directKey: string) {
  return db.selectFrom('conversation').selectAll().where('direct_key', '=', directKey).executeTakeFirst();
}

export async function insertMembers(db: Db, rows: Insertable<ConversationMemberTable>[]): Promise<void> {
  if (rows.length) await db.insertInto('conversation_member').values(rows).execute();
}

export function currentMembers(db: Db, conversationId: string) {
  return db
    .selectFrom('conversation_member')
    .innerJoin('account', 'account.id', 'conversation_member.account_id')
    .select(['conversation_member.account_id', 'conversation_member.role', 'account.display_name'])
    .where('conversation_member.conversation_id', '=', conversationId)
    .where('conversation_member.removed_at', 'is', null)
    .orderBy('account.display_name')
    .execute();
}

export function membership(db: Db, conversationId: string, accountId: string) {
  return db
    .selectFrom('conversation_member')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
}

export async function readdMember(db: Db, conversationId: string, accountId: string, at: string): Promise<void> {
  await db.updateTable('conversation_member').set({ removed_at: null, added_at: at, role: 'member' }).where('conversation_id', '=', conversationId).where('account_id', '=', accountId).execute();
}

export async function removeMember(db: Db, conversationId: string, accountId: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('conversation_member')
    .set({ removed_at: at })
    .where('conversation_id', '=', conversationId)
    .where('account_id', '=', accountId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Conversations the account is a current member of, newest activity first. */
export function conversationsOf(db: Db, accountId: string) {
  return db
    .selectFrom('conversation')
    .innerJoin('conversation_member', 'conversation_member.conversation_id', 'conversation.id')
    .selectAll('conversation')
    .where('conversation_member.account_id', '=', accountId)
    .where('conversation_member.removed_at', 'is', null)
    .orderBy('conversation.last_seq', 'desc')
    .execute();
}

export function liveDevices(db: Db, conversationId: string) {
  return db
    .selectFrom('conversation_device')
    .innerJoin('device', 'device.id', 'conversation_device.device_id')
    .select(['conversation_device.device_id', 'conversation_device.account_id', 'conversation_device.joined_seq', 'device.signature_public_key', 'device.revoked_at'])
    .where('conversation_device.conversation_id', '=', conversationId)
    .where('conversation_device.removed_seq', 'is', null)
    .execute();
}

export function deviceMembership(db: Db, conversationId: string, deviceId: string) {
  return db
    .selectFrom('conversation_device')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('device_id', '=', deviceId)
    .executeTakeFirst();
}

export async function upsertDevices(db: Db, rows: ConversationDeviceTable[]): Promise<void> {
  for (const row of rows) {
    await db
      .insertInto('conversation_device')
      .values(row)
      .onConflict((oc) => oc.columns(['conversation_id', 'device_id']).doUpdateSet({ joined_seq: row.joined_seq, removed_seq: null }))
      .execute();
  }
}

export async function markDevicesRemoved(db: Db, conversationId: string, deviceIds: string[], seq: number): Promise<void> {
  if (deviceIds.length === 0) return;
  await db
    .updateTable('conversation_device')
    .set({ removed_seq: seq })
    .where('conversation_id', '=', conversationId)
    .where('device_id', 'in', deviceIds)
    .where('removed_seq', 'is', null)
    .execute();
}
