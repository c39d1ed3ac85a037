import type { Conversation, SetExpiryBody } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor, type Actor } from '../audit/record.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import type { Db } from '../db/database.js';
import { casePolicy } from '../cases/policy.js';
import * as conversations from '../conversations/store.js';
import { conversationForMember, describeConversation } from '../conversations/service.js';
import { removeReleasedBlobs, unlinkBlobs } from '../attachments/service.js';
import { conversationBlobIds } from '../attachments/store.js';

/**
 * How much longer than its conversation's expiry an uploaded attachment is kept. The server never
 * learns which message carries a blob's key; the blob is uploaded just before that message is sent,
 * so it would otherwise disappear a moment before the message does, and a device opening the
 * message in that moment would find no photo. Ten minutes covers a slow send.
 */
export const ATTACHMENT_EXPIRY_GRACE_SECONDS = 600;

/** The organisation's default for new conversations and cases (its policy), in seconds. */
export async function defaultExpirySeconds(db: Db, organisationId: string): Promise<number | null> {
  const days = (await casePolicy(db, organisationId)).messageExpiryDays;
  return days === null ? null : days * 86_400;
}

/**
 * Sets how long messages of a conversation live. In a direct conversation either person may; in a
 * group or case, its admins. Devices read the value with the conversation (at start and resync) and
 * delete their own copies; the server deletes its ciphertext on the next sweep (every minute).
 */
export async function setExpiry(deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string, body: SetExpiryBody): Promise<Conversation> {
  const row = await conversationForMember(deps, auth, id);
  const member = await conversations.membership(deps.db, id, auth.account.id);
  if (row.kind !== 'direct' && member?.role !== 'admin') throw new ConsiliumError('FORBIDDEN', 'only admins of this conversation can change how long messages are kept');
  await inTransaction(deps, async (tx) => {
    await tx.db.updateTable('conversation').set({ expiry_seconds: body.expirySeconds }).where('id', '=', id).execute();
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'conversation.expiry_changed', 'U', {
        entity: { type: 'conversation', id },
        caseId: row.kind === 'case' ? id : null,
        detail: { expirySeconds: body.expirySeconds },
      }),
    );
  });
  return describeConversation(deps, (await conversations.getConversation(deps.db, id))!, auth.session.device_id);
}

/**
 * Deletes application messages older than their conversation's expiry, and the attachments uploaded
 * for the conversation before then (plus a grace, see above): their links, and their files once no
 * other conversation links them. Commits stay: they carry no content, and a device that was offline
 * needs them to reach the current epoch. One audit entry per conversation and sweep records how many
 * went. Returns the number of messages deleted.
 */
export async function deleteExpiredMessages(deps: Deps): Promise<number> {
  const now = deps.now();
  const expiring = await deps.db
    .selectFrom('conversation')
    .select(['id', 'organisation_id', 'kind', 'expiry_seconds'])
    .where('expiry_seconds', 'is not', null)
    .execute();
  let total = 0;
  for (const c of expiring) {
    const before = iso(addSeconds(now, -Number(c.expiry_seconds)));
    const blobsBefore = iso(addSeconds(now, -Number(c.expiry_seconds) - ATTACHMENT_EXPIRY_GRACE_SECONDS));
    const released = await inTransaction(deps, async (tx) => {
      const r = await tx.db
        .deleteFrom('mls_message')
        .where('conversation_id', '=', c.id)
        .where('kind', '=', 'application')
        .where('created_at', '<', before)
        .executeTakeFirst();
      const n = Number(r.numDeletedRows);
      const blobs = await unlinkBlobs(tx, c.id, await conversationBlobIds(tx.db, c.id, blobsBefore));
      if (n === 0 && blobs.unlinked === 0) return [];
      total += n;
      await recordAudit(
        tx,
        auditEvent(tx, systemActor(c.organisation_id), 'message.expired', 'D', {
          entity: { type: 'conversation', id: c.id },
          caseId: c.kind === 'case' ? c.id : null,
          detail: { messages: n, attachments: blobs.unlinked, before },
        }),
      );
      return blobs.released;
    });
    // Files after the commit: their rows are gone first (see unlinkBlobs).
    await removeReleasedBlobs(deps, released);
  }
  return total;
}
