import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor } from '../audit/record.js';
import * as store from './store.js';
import { removeReleasedBlobs, unlinkBlobs } from '../attachments/service.js';
import { conversationBlobIds } from '../attachments/store.js';

/**
 * Deletes the stored ciphertext of closed cases whose retention period has run out (organisation
 * policy), with its attachments. The case record and its audit trail stay: NEN 7513 keeps who did what for years, and the
 * content lives on in the hospital record the case was exported to.
 */
export async function purgeExpiredCases(deps: Deps, limit = 50): Promise<number> {
  const due = await store.casesDueForPurge(deps.db, iso(deps.now()), limit);
  for (const c of due) {
    const released = await inTransaction(deps, async (tx) => {
      const messages = await store.deleteCaseCiphertext(tx.db, c.id);
      // The case's attachments go with its messages (their files once no other conversation links them).
      const blobs = await unlinkBlobs(tx, c.id, await conversationBlobIds(tx.db, c.id));
      await store.updateCase(tx.db, c.id, { purged_at: iso(tx.now()) });
      await recordAudit(
        tx,
        auditEvent(tx, systemActor(c.organisation_id), 'case.purged', 'D', { caseId: c.id, entity: { type: 'case', id: c.id }, purposeOfUse: 'HOPERAT', detail: { messages, attachments: blobs.unlinked } }),
      );
      return blobs.released;
    });
    // Files after the commit: their rows are gone first (see unlinkBlobs).
    await removeReleasedBlobs(deps, released);
  }
  return due.length;
}
