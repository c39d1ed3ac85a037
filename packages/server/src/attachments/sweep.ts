import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor } from '../audit/record.js';
import { blobDirOf, blobFilesModifiedBefore, removeStaleIncoming } from './blob-store.js';
import { removeReleasedBlobs, unlinkBlobs } from './service.js';
import * as store from './store.js';

/** Pending links one sweep looks at; more wait for the next sweep (every minute). */
export const PENDING_SWEEP_BATCH = 500;
/**
 * How old a file without a row must be before the sweep removes it: well past any upload in
 * flight (an upload places its file and commits its row in one short transaction, under the
 * blob's name lock, which the removal takes too; the age only keeps the sweep off fresh files).
 */
export const ORPHAN_FILE_MIN_AGE_SECONDS = 3600;
/** Files without rows one sweep removes at most (it reads every shard's listing to find them). */
export const ORPHAN_SWEEP_BATCH = 1000;

/**
 * Deletes uploads that stayed pending longer than attachmentPendingHours: uploaded with
 * confirm=on-send, and no message naming them was ever sent (the client crashed or the user
 * cancelled). Links go first (only if still pending: a send confirming one at the same moment
 * wins), then the rows of blobs no conversation links any more, then, after the commit, their
 * files. One transaction and one `attachment.discarded` audit entry per conversation, at most
 * `limit` links per call. Returns the links and files that went.
 */
export async function sweepPendingAttachments(deps: Deps, limit = PENDING_SWEEP_BATCH): Promise<{ links: number; files: number }> {
  const pendingBefore = iso(addSeconds(deps.now(), -deps.config.attachmentPendingHours * 3600));
  const due = await store.pendingLinksBefore(deps.db, pendingBefore, limit);
  const byConversation = new Map<string, { organisationId: string; kind: string; blobIds: string[] }>();
  for (const l of due) {
    let c = byConversation.get(l.conversation_id);
    if (!c) byConversation.set(l.conversation_id, (c = { organisationId: l.organisation_id, kind: l.kind, blobIds: [] }));
    c.blobIds.push(l.blob_id);
  }
  let links = 0;
  let files = 0;
  for (const [conversationId, c] of [...byConversation].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const released = await inTransaction(deps, async (tx) => {
      const blobs = await unlinkBlobs(tx, conversationId, c.blobIds, pendingBefore);
      if (blobs.unlinked === 0) return [];
      links += blobs.unlinked;
      await recordAudit(
        tx,
        auditEvent(tx, systemActor(c.organisationId), 'attachment.discarded', 'D', {
          entity: { type: 'conversation', id: conversationId },
          caseId: c.kind === 'case' ? conversationId : null,
          detail: { attachments: blobs.unlinked, deletedBlobs: blobs.released.length, pendingBefore },
        }),
      );
      return blobs.released;
    });
    files += await removeReleasedBlobs(deps, released);
  }
  return { links, files };
}

/**
 * Removes blob files that have no row and were last written over an hour ago: left by a crash
 * after the row's deletion committed and before its file was removed (or an upload whose
 * transaction failed after placing its file). Each goes under the blob's name lock after the row
 * is checked again (removeReleasedBlobs), so a concurrent upload that just linked the same
 * content again keeps its file. Also removes upload temporaries a crash left in `incoming/`.
 */
export async function sweepOrphanBlobFiles(deps: Deps, limit = ORPHAN_SWEEP_BATCH): Promise<{ files: number; incoming: number }> {
  const dir = blobDirOf(deps.config);
  const beforeMs = deps.now().getTime() - ORPHAN_FILE_MIN_AGE_SECONDS * 1000;
  const orphans: string[] = [];
  for await (const names of blobFilesModifiedBefore(dir, beforeMs)) {
    for (let i = 0; i < names.length && orphans.length < limit; i += 500) {
      const chunk = names.slice(i, i + 500);
      const withRows = await store.existingBlobIds(deps.db, chunk);
      orphans.push(...chunk.filter((id) => !withRows.has(id)).slice(0, limit - orphans.length));
    }
    if (orphans.length >= limit) break;
  }
  const files = await removeReleasedBlobs(deps, orphans);
  const incoming = await removeStaleIncoming(dir, beforeMs);
  return { files, incoming };
}
