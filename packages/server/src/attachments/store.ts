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
