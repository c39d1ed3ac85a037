import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { conversationForMember } from '../conversations/service.js';
import { removeReleasedBlobs, unlinkBlobs } from '../attachments/service.js';
import { uploaderBlobIds } from '../attachments/store.js';

/**
 * A sender recalls one of their messages: the server deletes its ciphertext, so devices that have
 * not fetched it never will. Devices that already decrypted it delete their copy when they process
 * the sender's MLS-encrypted delete message, which authenticates the request end to end.
 * `attachmentIds` are the blobs the sender says the message carried: the server cannot check that
 * (it never reads messages), so it deletes only the sender's own uploads to this conversation.
 */
export async function recallMessage(deps: Deps, auth: AuthenticatedSession, actor: Actor, conversationId: string, seq: number, attachmentIds: readonly string[] = []): Promise<void> {
  const conversation = await conversationForMember(deps, auth, conversationId);
  const released = await inTransaction(deps, async (tx) => {
    const message = await tx.db
      .selectFrom('mls_message')
      .select(['sender_account_id', 'kind'])
      .where('conversation_id', '=', conversationId)
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!message) throw notFound('message');
    if (message.sender_account_id !== auth.account.id) throw new ConsiliumError('FORBIDDEN', 'only its sender can recall a message');
    if (message.kind !== 'application') throw new ConsiliumError('FORBIDDEN', 'group changes cannot be recalled');
    await tx.db.deleteFrom('mls_message').where('conversation_id', '=', conversationId).where('seq', '=', seq).execute();
    const blobs = await unlinkBlobs(tx, conversationId, await uploaderBlobIds(tx.db, conversationId, auth.account.id, attachmentIds));
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'message.recalled', 'D', {
        entity: { type: 'conversation', id: conversationId },
        caseId: conversation.kind === 'case' ? conversationId : null,
        detail: { seq, attachments: blobs.unlinked },
      }),
    );
    return blobs.released;
  });
  // Files after the commit: their rows are gone first (see unlinkBlobs).
  await removeReleasedBlobs(deps, released);
}
