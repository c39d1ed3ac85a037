import type { MemberReceipt, ReceiptList } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import type { Db } from '../db/database.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { recipientsOf } from '../delivery/store.js';
import { conversationForMember } from './service.js';

/**
 * Sent / delivered / read receipts. "Delivered" is derived from the devices' delivery cursors
 * (the highest acknowledged sequence number of any of a member's devices), "read" from a
 * per-account marker the client posts while the thread is on screen. Both only move forward.
 */

/** Every current member's receipt, per conversation, in three queries whatever the number of conversations. */
export async function receiptsOf(db: Db, conversationIds: readonly string[]): Promise<Map<string, MemberReceipt[]>> {
  const result = new Map<string, MemberReceipt[]>();
  if (conversationIds.length === 0) return result;
  const [members, delivered, read] = await Promise.all([
    db
      .selectFrom('conversation_member')
      .select(['conversation_id', 'account_id'])
      .where('conversation_id', 'in', conversationIds)
      .where('removed_at', 'is', null)
      .orderBy('conversation_id')
      .orderBy('account_id')
      .execute(),
    db
      .selectFrom('delivery_cursor')
      .innerJoin('device', 'device.id', 'delivery_cursor.device_id')
      .select((eb) => ['delivery_cursor.conversation_id', 'device.account_id', eb.fn.max('delivery_cursor.acked_seq').as('seq')])
      .where('delivery_cursor.conversation_id', 'in', conversationIds)
      .groupBy(['delivery_cursor.conversation_id', 'device.account_id'])
      .execute(),
    db.selectFrom('read_marker').selectAll().where('conversation_id', 'in', conversationIds).execute(),
  ]);
  const key = (c: string, a: string) => `${c}\u0000${a}`;
  const deliveredSeq = new Map(delivered.map((d) => [key(d.conversation_id, d.account_id), Number(d.seq)]));
  const readRow = new Map(read.map((r) => [key(r.conversation_id, r.account_id), r]));
  for (const id of conversationIds) result.set(id, []);
  for (const m of members) {
    const k = key(m.conversation_id, m.account_id);
    const r = readRow.get(k);
    const readSeq = r ? Number(r.read_seq) : 0;
    // Read implies delivered (a device acknowledged it before showing it; a marker may overtake a lagging cursor write).
    result.get(m.conversation_id)!.push({ accountId: m.account_id, deliveredSeq: Math.max(deliveredSeq.get(k) ?? 0, readSeq), readSeq, readAt: r?.read_at ?? null });
  }
  return result;
}

export async function listReceipts(deps: Deps, auth: AuthenticatedSession, conversationId: string): Promise<ReceiptList> {
  await conversationForMember(deps, auth, conversationId);
  const receipts = await receiptsOf(deps.db, [conversationId]);
  return { conversationId, receipts: receipts.get(conversationId) ?? [] };
}

/**
 * Moves the caller's read marker forward to `seq` (never back; an older seq is accepted and
 * changes nothing, since tabs and devices post out of order) and tells the members.
 */
export async function markRead(deps: Deps, auth: AuthenticatedSession, conversationId: string, seq: number): Promise<void> {
  const row = await conversationForMember(deps, auth, conversationId);
  if (seq > Number(row.last_seq)) throw new ConsiliumError('VALIDATION_FAILED', 'cannot mark beyond the last message as read');
  const now = iso(deps.now());
  const r = await deps.db
    .insertInto('read_marker')
    .values({ conversation_id: conversationId, account_id: auth.account.id, read_seq: seq, read_at: now })
    .onConflict((oc) =>
      oc
        .columns(['conversation_id', 'account_id'])
        .doUpdateSet({ read_seq: seq, read_at: now })
        .where('read_marker.read_seq', '<', seq),
    )
    .executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0n) > 0) receiptBoardOf(deps).touch(conversationId);
}

/** How long receipt changes of a conversation are gathered before one frame tells its members. */
export const RECEIPT_FLUSH_MS = 500;

/**
 * Gathers the conversations whose receipts changed on this node (acknowledgements, read markers)
 * and, at most every RECEIPT_FLUSH_MS, pushes each one's receipts to its member devices in one
 * frame. Acks are the relay's hot path: a 100-device group acknowledging one message costs one
 * frame per device, not one per ack. Receipts are derived state: a frame lost to a closing server
 * or a dropped notice costs freshness only (clients fetch them again when they open a thread).
 */
export class ReceiptBoard {
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: Deps) {}

  touch(conversationId: string): void {
    this.dirty.add(conversationId);
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), RECEIPT_FLUSH_MS);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    this.timer = null;
    const ids = [...this.dirty];
    this.dirty.clear();
    if (ids.length === 0) return;
    try {
      const [receipts, devices] = await Promise.all([receiptsOf(this.deps.db, ids), recipientsOf(this.deps.db, ids)]);
      const byConversation = new Map<string, string[]>();
      for (const d of devices) {
        let list = byConversation.get(d.conversation_id);
        if (!list) byConversation.set(d.conversation_id, (list = []));
        list.push(d.device_id);
      }
      for (const id of ids) {
        const deviceIds = byConversation.get(id);
        if (deviceIds?.length) this.deps.fanOut.publish(deviceIds, { type: 'receipts', conversationId: id, receipts: receipts.get(id) ?? [] });
      }
    } catch {
      // The database closed under us (server stopping) or failed: see the class comment.
    }
  }
}

const boards = new WeakMap<Db, ReceiptBoard>();

export function receiptBoardOf(deps: Deps): ReceiptBoard {
  let board = boards.get(deps.db);
  if (!board) boards.set(deps.db, (board = new ReceiptBoard(deps)));
  return board;
}
