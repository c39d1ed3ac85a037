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

export async function insertLink(db: Db, row: AttachmentLinkTable): Promise<void> {
  await db
    .insertInto('attachment_link')
    .values(row)
    .onConflict((oc) => oc.columns(['blob_id', 'conversation_id']).doNothing())
    .execute();
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

export async function deleteLink(db: Db, blobId: string, conversationId: string): Promise<boolean> {
  const r = await db.deleteFrom('attachment_link').where('blob_id', '=', blobId).where('conversation_id', '=', conversationId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
