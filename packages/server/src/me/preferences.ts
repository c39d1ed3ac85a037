import type { Preferences, UpdatePreferencesBody } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import type { Db } from '../db/database.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { receiptBoardOf, sendsReadReceipts } from '../conversations/receipts.js';

/** The account's own choices (account_preference, migration 018); defaults where it chose nothing. */
export async function getPreferences(db: Db, accountId: string): Promise<Preferences> {
  return { readReceipts: await sendsReadReceipts(db, accountId) };
}

/**
 * Changes the account's preferences; a real change is audited (like the account's other settings)
 * and, for read receipts, every conversation of the account gets fresh receipts: its members'
 * screens stop (or start) showing its read state, and its own stop (or start) showing theirs.
 */
export async function updatePreferences(deps: Deps, auth: AuthenticatedSession, actor: Actor, body: UpdatePreferencesBody): Promise<Preferences> {
  const accountId = auth.account.id;
  const { before, after } = await inTransaction(deps, async (tx) => {
    const before = await getPreferences(tx.db, accountId);
    const after: Preferences = { ...before, ...body };
    if (after.readReceipts === before.readReceipts) return { before, after };
    const readReceipts = after.readReceipts ? 1 : 0;
    const now = iso(deps.now());
    await tx.db
      .insertInto('account_preference')
      .values({ account_id: accountId, read_receipts: readReceipts, updated_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ read_receipts: readReceipts, updated_at: now }))
      .execute();
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'account.read_receipts_changed', 'U', { entity: { type: 'account', id: accountId }, detail: { readReceipts: after.readReceipts } }),
    );
    return { before, after };
  });
  if (after.readReceipts !== before.readReceipts) {
    const conversations = await deps.db
      .selectFrom('conversation_member')
      .select('conversation_id')
      .where('account_id', '=', accountId)
      .where('removed_at', 'is', null)
      .execute();
    const board = receiptBoardOf(deps);
    for (const c of conversations) board.touch(c.conversation_id);
  }
  return after;
}
