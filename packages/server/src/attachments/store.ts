import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { AttachmentBlobTable, AttachmentLinkTable } from '../db/schema/attachment.js';

/** Inserts the blob row unless it exists; true when this call created it. */
export async function insertBlob(db: Db, row: AttachmentBlobTable): Promise<boolean> {
  const r = await db.insertInto('attachment_blob').values(row).onConflict((oc) => oc.column('blob_id').doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
}

export function getBlob(db: Db, blobId: string) {
  return db.selectFrom('attachment_blob').selectAll().where('blob_id', '=', blobId).executeTakeFirst();
}

/**
 * Links a blob to a conversation. Linked already: an upload that does not wait for a message
 * confirms a pending link; a pending upload again starts a pending link's time again (a retry of an
 * upload whose message is still to be sent); a confirmed link stays as it is.
 */
export async function insertLink(db: Db, row: AttachmentLinkTable): Promise<void> {
  const r = await db
    .insertInto('attachment_link')
    .values(row)
    .onConflict((oc) => oc.columns(['blob_id', 'conversation_id']).doNothing())
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return;
  await db
    .updateTable('attachment_link')
    .set(row.confirmed_at === null ? { created_at: row.created_at } : { confirmed_at: row.confirmed_at })
    .where('blob_id', '=', row.blob_id)
    .where('conversation_id', '=', row.conversation_id)
    .where('confirmed_at', 'is', null)
    .execute();
}

/**
 * Serialises everything that puts a blob's file in place or removes it, whether or not its row
 * exists (a row lock cannot cover a row that is not there): an upload, and the removal of a file
 * whose row is gone. PostgreSQL: a transaction-scoped advisory lock on (class 'blob', the id's first
 * 32 bits); a collision only makes two blobs wait on each other. SQLite: every transaction runs
 * alone on the one connection already.
 */
export async function lockBlobName(db: Db, dbKind: 'sqlite' | 'postgres', blobId: string): Promise<void> {
  if (dbKind !== 'postgres') return;
  await sql`SELECT pg_advisory_xact_lock(${BLOB_LOCK_CLASS}, ${Number.parseInt(blobId.slice(0, 8), 16) | 0})`.execute(db);
}
/** 'blob' in ASCII: the advisory lock class of blob names. */
const BLOB_LOCK_CLASS = 0x626c6f62;

/**
 * Confirms the links of `blobIds` to the conversation (a sent message names them): locks them
 * (PostgreSQL; so a sweep deleting a pending one waits, then finds it confirmed, or has deleted it
 * and it is missing here) and marks the pending ones confirmed. Returns the ids that have no link
 * to the conversation; when any is missing nothing is changed.
 */
export async function confirmLinks(db: Db, dbKind: 'sqlite' | 'postgres', conversationId: string, blobIds: readonly string[], now: string): Promise<string[]> {
  if (blobIds.length === 0) return [];
  let q = db.selectFrom('attachment_link').select('blob_id').where('conversation_id', '=', conversationId).where('blob_id', 'in', [...blobIds]).orderBy('blob_id');
  if (dbKind === 'postgres') q = q.forUpdate();
  const found = new Set((await q.execute()).map((r) => r.blob_id));
  const missing = blobIds.filter((id) => !found.has(id));
  if (missing.length) return missing;
  await db
    .updateTable('attachment_link')
    .set({ confirmed_at: now })
    .where('conversation_id', '=', conversationId)
    .where('blob_id', 'in', [...blobIds])
    .where('confirmed_at', 'is', null)
    .execute();
  return [];
}

/** Links pending since before `before` (their message was never sent), oldest first. */
export function pendingLinksBefore(db: Db, before: string, limit: number) {
  return db
    .selectFrom('attachment_link')
    .innerJoin('conversation', 'conversation.id', 'attachment_link.conversation_id')
    .select(['attachment_link.blob_id', 'attachment_link.conversation_id', 'conversation.organisation_id', 'conversation.kind'])
    .where('attachment_link.confirmed_at', 'is', null)
    .where('attachment_link.created_at', '<', before)
    .orderBy('attachment_link.created_at')
    .limit(limit)
    .execute();
}

/** Of the given blob ids, those that have a row. */
export async function existingBlobIds(db: Db, blobIds: readonly string[]): Promise<Set<string>> {
  if (blobIds.length === 0) return new Set();
  const rows = await db.selectFrom('attachment_blob').select('blob_id').where('blob_id', 'in', [...blobIds]).execute();
  return new Set(rows.map((r) => r.blob_id));
}

/** Links of the blob to conversations the account is a current member of (optionally one conversation). */
export function linksForMember(db: Db, blobId: string, accountId: string, conversationId?: string) {
  let q = db
    .selectFrom('attachment_link')
    .innerJoin('conversation_member', 'conversation_member.conversation_id', 'attachment_link.conversation_id')
    .innerJoin('conversation', 'conversation.id', 'attachment_link.conversation_id')
    .select(['attachment_link.blob_id', 'attachment_link.conversation_id', 'attachment_link.content_type', 'conversation.organisation_id'])
    .where('attachment_link.blob_id', '=', blobId)
    .where('conversation_member.account_id', '=', accountId)
    .where('conversation_member.removed_at', 'is', null);
  if (conversationId) q = q.where('attachment_link.conversation_id', '=', conversationId);
  return q.orderBy('attachment_link.created_at').execute();
}

/**
 * Takes the blob row's lock for the rest of the transaction (PostgreSQL; SQLite runs one writer at
 * a time anyway), so an upload linking a blob and a deletion of its last link never interleave.
 */
export async function lockBlob(db: Db, dbKind: 'sqlite' | 'postgres', blobId: string): Promise<boolean> {
  let q = db.selectFrom('attachment_blob').select('blob_id').where('blob_id', '=', blobId);
  if (dbKind === 'postgres') q = q.forUpdate();
  return (await q.executeTakeFirst()) !== undefined;
}

export async function countLinks(db: Db, blobId: string): Promise<number> {
  const r = await db.selectFrom('attachment_link').select((eb) => eb.fn.countAll<number>().as('n')).where('blob_id', '=', blobId).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function deleteBlobRow(db: Db, blobId: string): Promise<void> {
  await db.deleteFrom('attachment_blob').where('blob_id', '=', blobId).execute();
}

/** Blobs linked to a conversation (all, or those uploaded before `createdBefore`), in id order. */
export async function conversationBlobIds(db: Db, conversationId: string, createdBefore?: string): Promise<string[]> {
  let q = db.selectFrom('attachment_link').select('blob_id').where('conversation_id', '=', conversationId);
  if (createdBefore) q = q.where('created_at', '<', createdBefore);
  return (await q.orderBy('blob_id').execute()).map((r) => r.blob_id);
}

/** Of the given blobs, those this account uploaded to the conversation, in id order. */
export async function uploaderBlobIds(db: Db, conversationId: string, accountId: string, blobIds: readonly string[]): Promise<string[]> {
  if (blobIds.length === 0) return [];
  const rows = await db
    .selectFrom('attachment_link')
    .select('blob_id')
    .where('conversation_id', '=', conversationId)
    .where('account_id', '=', accountId)
    .where('blob_id', 'in', [...blobIds])
    .orderBy('blob_id')
    .execute();
  return rows.map((r) => r.blob_id);
}

/** Deletes a link; with `pendingBefore`, only if it is still pending and was uploaded before then. */
export async function deleteLink(db: Db, blobId: string, conversationId: string, pendingBefore?: string): Promise<boolean> {
  let q = db.deleteFrom('attachment_link').where('blob_id', '=', blobId).where('conversation_id', '=', conversationId);
  if (pendingBefore !== undefined) q = q.where('confirmed_at', 'is', null).where('created_at', '<', pendingBefore);
  const r = await q.executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
