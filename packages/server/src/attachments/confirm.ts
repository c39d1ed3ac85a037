import type { Deps } from '../deps.js';
import { ConsiliumError } from '../errors.js';
import { confirmLinks } from './store.js';

/**
 * A sent application message names the blobs it carries (SubmitMessageBody `attachmentIds`): in the
 * transaction that stores the message, their links to the conversation are confirmed, so a pending
 * upload is kept exactly when the message that carries its key was stored. Any member sending in the
 * conversation may confirm its links (only those who received the message know a blob's id); a blob
 * not linked to this conversation, whether unknown or uploaded for another one, is refused with
 * NOT_FOUND (upload it for this conversation, then send), and then nothing is confirmed.
 * Returns the refusal rather than throwing it, for the group commit to answer one message with it.
 */
export async function confirmAttachments(tx: Deps, conversationId: string, blobIds: readonly string[], at: string): Promise<ConsiliumError | null> {
  const missing = await confirmLinks(tx.db, tx.dbKind, conversationId, blobIds, at);
  if (missing.length === 0) return null;
  return new ConsiliumError('NOT_FOUND', `attachment ${missing[0]} was not uploaded for this conversation (or was deleted); upload it, then send`);
}
