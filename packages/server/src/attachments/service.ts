import type { ReadStream } from 'node:fs';
import { attachmentCiphertextBytes, type UploadAttachmentQuery, type UploadedAttachment } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import { ConsiliumError, notFound } from '../errors.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { conversationForMember } from '../conversations/service.js';
import { membership } from '../conversations/store.js';
import { blobDirOf, readBlob, removeBlob, stageBlob } from './blob-store.js';
import * as store from './store.js';
import { mayMessageAcross } from '../orgs/connections.js';

/** Most ciphertext bytes one upload may carry: the plaintext limit plus the format's overhead. */
export function maxCiphertextBytes(deps: Pick<Deps, 'config'>): number {
  return attachmentCiphertextBytes(deps.config.attachmentMaxBytes);
}

/**
 * Stores an encrypted attachment for a conversation the caller is a current member of. The body
 * is streamed to disk and hashed; only content whose SHA-256 is `blobId` is kept. Uploading a
 * blob that is already stored is accepted (the bytes are checked again, so linking a blob to a
 * conversation needs the ciphertext itself, not only its id) and links it to this conversation.
 */
export async function uploadAttachment(
  deps: Deps,
  auth: AuthenticatedSession,
  actor: Actor,
  blobId: string,
  query: UploadAttachmentQuery,
  body: AsyncIterable<Uint8Array>,
  declaredLength: number | undefined,
): Promise<UploadedAttachment> {
  await conversationForMember(deps, auth, query.conversationId);
  const limit = maxCiphertextBytes(deps);
  if (declaredLength !== undefined && declaredLength > limit) {
    throw new ConsiliumError('PAYLOAD_TOO_LARGE', `an attachment is at most ${deps.config.attachmentMaxBytes} bytes (${limit} bytes of ciphertext)`);
  }
  const staged = await stageBlob(blobDirOf(deps.config), blobId, body, limit);
  const stored = { size: staged.size };
  const uploadedAt = iso(deps.now());
  let created: boolean;
  try {
    created = await inTransaction(deps, async (tx) => {
      // Membership again, in the transaction: the caller may have been removed while uploading.
      const member = await membership(tx.db, query.conversationId, auth.account.id);
      if (!member || member.removed_at) throw notFound('conversation');
      const row = { blob_id: blobId, size: stored.size, uploaded_by: auth.account.id, created_at: uploadedAt };
      let inserted = await store.insertBlob(tx.db, row);
      // Under the row's lock: a sweep deleting the blob's last link waits, or has finished (and
      // removed the file), before the file is put in place and linked again. If the sweep deleted
      // the row while this waited for its lock, the row is written anew (once more at most, as a
      // second sweep would need a link, and only this upload can add one).
      for (let attempt = 0; !(await store.lockBlob(tx.db, tx.dbKind, blobId)); attempt++) {
        if (attempt === 2) throw new ConsiliumError('CONFLICT', 'the attachment was being deleted; upload it again');
        inserted = await store.insertBlob(tx.db, row);
      }
      await staged.place();
      await store.insertLink(tx.db, { blob_id: blobId, conversation_id: query.conversationId, account_id: auth.account.id, content_type: query.contentType, created_at: uploadedAt });
      await recordAudit(
        tx,
        auditEvent(tx, actor, 'attachment.uploaded', 'C', {
          entity: { type: 'attachment', id: blobId },
          detail: { conversationId: query.conversationId, size: stored.size, contentType: query.contentType, created: inserted },
        }),
      );
      return inserted;
    });
  } finally {
    await staged.discard();
  }
  return { blobId, conversationId: query.conversationId, size: stored.size, created, uploadedAt };
}

/** The caller's link to a blob: through a conversation they are a current member of, else the blob does not exist for them. */
async function linkFor(deps: Deps, auth: AuthenticatedSession, blobId: string, conversationId: string | undefined) {
  const links = await store.linksForMember(deps.db, blobId, auth.account.id, conversationId);
  // A conversation of the caller's organisation, or (while connected) of one it is connected to.
  let link = links.find((l) => l.organisation_id === auth.organisation.id);
  for (const l of links) if (!link && (await mayMessageAcross(deps.db, auth.organisation.id, l.organisation_id))) link = l;
  if (!link) throw notFound('attachment');
  return link;
}

/** Opens a blob for a member of a conversation it was uploaded for; the read is audited before any byte leaves. */
export async function downloadAttachment(
  deps: Deps,
  auth: AuthenticatedSession,
  actor: Actor,
  blobId: string,
  conversationId: string | undefined,
): Promise<{ size: number; stream: ReadStream }> {
  return inTransaction(deps, async (tx) => {
    const link = await linkFor(tx, auth, blobId, conversationId);
    const blob = await readBlob(blobDirOf(tx.config), blobId);
    if (!blob) throw new ConsiliumError('INTERNAL', 'the attachment is recorded but its file is missing');
    try {
      await recordAudit(
        tx,
        auditEvent(tx, actor, 'attachment.downloaded', 'R', {
          entity: { type: 'attachment', id: blobId },
          detail: { conversationId: link.conversation_id, size: blob.size },
        }),
      );
    } catch (error) {
      blob.stream.destroy();
      throw error;
    }
    return blob;
  });
}

/**
 * The user chose to save a decrypted copy outside the app: recorded before the client writes it.
 * The server cannot see or stop what the client then does; it keeps the record.
 */
export async function recordExport(deps: Deps, auth: AuthenticatedSession, actor: Actor, blobId: string, conversationId: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    const link = await linkFor(tx, auth, blobId, conversationId);
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'attachment.exported', 'E', {
        entity: { type: 'attachment', id: blobId },
        detail: { conversationId: link.conversation_id, contentType: link.content_type },
      }),
    );
  });
}

/**
 * Unlinks blobs from a conversation and deletes the rows and files of those no conversation links
 * any more. A blob is content-addressed, so one file may serve several conversations: it goes only
 * with its last link. Each blob's row is locked before its link is touched, in id order, the same
 * order an upload takes (blob row, then link, then the audit log): call this before recording the
 * audit entry of the transaction, so the two never wait on each other.
 */
export async function unlinkBlobs(tx: Deps, conversationId: string, blobIds: readonly string[]): Promise<{ unlinked: number; deleted: number }> {
  let unlinked = 0;
  let deleted = 0;
  for (const blobId of [...new Set(blobIds)].sort()) {
    if (!(await store.lockBlob(tx.db, tx.dbKind, blobId))) continue;
    if (!(await store.deleteLink(tx.db, blobId, conversationId))) continue;
    unlinked += 1;
    if ((await store.countLinks(tx.db, blobId)) > 0) continue;
    await store.deleteBlobRow(tx.db, blobId);
    // The file goes while the row's lock is held; should the commit then fail, the row survives
    // without its file and a download answers INTERNAL rather than serving anything.
    await removeBlob(blobDirOf(tx.config), blobId);
    deleted += 1;
  }
  return { unlinked, deleted };
}
