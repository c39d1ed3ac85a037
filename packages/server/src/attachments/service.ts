import type { ReadStream } from 'node:fs';
import { attachmentCiphertextBytes, type UploadAttachmentQuery, type UploadedAttachment } from '@consilium/protocol';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
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

/** When a pending upload made at `uploadedAt` is deleted unless a sent message has named it. */
export function confirmDeadline(deps: Pick<Deps, 'config'>, uploadedAt: Date): Date {
  return addSeconds(uploadedAt, deps.config.attachmentPendingHours * 3600);
}

/**
 * Stores an encrypted attachment for a conversation the caller is a current member of. The body
 * is streamed to disk and hashed; only content whose SHA-256 is `blobId` is kept. Uploading a
 * blob that is already stored is accepted (the bytes are checked again, so linking a blob to a
 * conversation needs the ciphertext itself, not only its id) and links it to this conversation.
 * With `confirm=on-send` the link is pending until a sent message names the blob (confirmAttachments
 * in confirm.ts); the sweep (sweep.ts) deletes it when none has by confirmDeadline.
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
  const now = deps.now();
  const uploadedAt = iso(now);
  const pending = query.confirm === 'on-send';
  let created: boolean;
  try {
    created = await inTransaction(deps, async (tx) => {
      // The blob's name first: a removal of its file (its row deleted) waits for this upload to
      // commit and then sees the row, or has removed the file and this upload writes it anew.
      await store.lockBlobName(tx.db, tx.dbKind, blobId);
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
      await store.insertLink(tx.db, {
        blob_id: blobId,
        conversation_id: query.conversationId,
        account_id: auth.account.id,
        content_type: query.contentType,
        created_at: uploadedAt,
        confirmed_at: pending ? null : uploadedAt,
      });
      await recordAudit(
        tx,
        auditEvent(tx, actor, 'attachment.uploaded', 'C', {
          entity: { type: 'attachment', id: blobId },
          detail: { conversationId: query.conversationId, size: stored.size, contentType: query.contentType, created: inserted, pending },
        }),
      );
      return inserted;
    });
  } finally {
    await staged.discard();
  }
  return { blobId, conversationId: query.conversationId, size: stored.size, created, uploadedAt, ...(pending && { confirmBy: iso(confirmDeadline(deps, now)) }) };
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
 * Unlinks blobs from a conversation and deletes the rows of those no conversation links any more;
 * it returns their ids as `released`, whose files the caller removes with removeReleasedBlobs once
 * the transaction has committed (the row goes first: a crash in between leaves a file without a row,
 * which the sweep removes, never a row without its file). A blob is content-addressed, so one file
 * may serve several conversations: it goes only with its last link. Each blob's row is locked before
 * its link is touched, in id order, the same order an upload takes (blob row, then link, then the
 * audit log): call this before recording the audit entry of the transaction, so the two never wait
 * on each other. With `pendingBefore`, only links still pending and uploaded before then go.
 */
export async function unlinkBlobs(tx: Deps, conversationId: string, blobIds: readonly string[], pendingBefore?: string): Promise<{ unlinked: number; released: string[] }> {
  let unlinked = 0;
  const released: string[] = [];
  for (const blobId of [...new Set(blobIds)].sort()) {
    if (!(await store.lockBlob(tx.db, tx.dbKind, blobId))) continue;
    if (!(await store.deleteLink(tx.db, blobId, conversationId, pendingBefore))) continue;
    unlinked += 1;
    if ((await store.countLinks(tx.db, blobId)) > 0) continue;
    await store.deleteBlobRow(tx.db, blobId);
    released.push(blobId);
  }
  return { unlinked, released };
}

/**
 * Removes the files of blobs whose rows are gone (committed): each under the blob's name lock, and
 * only if no row is there by then, so an upload of the same content that linked it again in the
 * meantime (and found the file in place) keeps it. Call outside any transaction. A file that cannot
 * be removed now stays for the sweep of files without rows (sweep.ts). Returns how many went.
 */
export async function removeReleasedBlobs(deps: Deps, blobIds: readonly string[]): Promise<number> {
  if (deps.db.isTransaction) throw new Error('removeReleasedBlobs runs after the transaction that deleted the rows has committed');
  let removed = 0;
  for (const blobId of [...new Set(blobIds)].sort()) {
    try {
      const gone = await inTransaction(deps, async (tx) => {
        await store.lockBlobName(tx.db, tx.dbKind, blobId);
        if (await store.getBlob(tx.db, blobId)) return false;
        return removeBlob(blobDirOf(tx.config), blobId);
      });
      if (gone) removed += 1;
    } catch {
      // Left for the sweep of files without rows, which tries again within the hour.
    }
  }
  return removed;
}
