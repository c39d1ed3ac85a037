import type { MemberReceipt, ReceiptList } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import type { Db } from '../db/database.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { conversationForMember } from './service.js';
import { recipientsOf } from '../delivery/store.js';

/**
 * Sent / delivered / read receipts. "Delivered" is derived from the devices' delivery cursors
 * (the highest acknowledged sequence number of any of a member's devices), "read" from a
 * per-account marker the client posts while the thread is on screen. Both only move forward.
 *
 * "Send read receipts" (account_preference, default on) is reciprocal, as in Signal and WhatsApp:
 * an account that turned it off has no read marker kept (its clients count unread messages on
 * the device, not from the marker), shows others none it had, and is shown no one's read state,
 * only delivery. The server applies this to every answer and frame, per viewer.
 */

/** One member's receipt as it stands, before it is cut to what a viewer may see. */
interface MemberState {
  receipt: MemberReceipt;
  /** Delivery from the devices' cursors alone: what is shown when the read state is not. */
  cursorSeq: number;
  /** Whether the member sends read receipts (and so may see others'). */
  sharesRead: boolean;
}

/** Every current member's state, per conversation, in three queries whatever the number of conversations. */
async function memberStatesOf(db: Db, conversationIds: readonly string[]): Promise<Map<string, MemberState[]>> {
  const result = new Map<string, MemberState[]>();
  if (conversationIds.length === 0) return result;
  const [members, delivered, read] = await Promise.all([
    db
      .selectFrom('conversation_member')
      .leftJoin('account_preference', 'account_preference.account_id', 'conversation_member.account_id')
      .select(['conversation_member.conversation_id', 'conversation_member.account_id', 'account_preference.read_receipts'])
      .where('conversation_member.conversation_id', 'in', conversationIds)
      .where('conversation_member.removed_at', 'is', null)
      .orderBy('conversation_member.conversation_id')
      .orderBy('conversation_member.account_id')
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
    const cursorSeq = deliveredSeq.get(k) ?? 0;
    result.get(m.conversation_id)!.push({
      // Read implies delivered (a device acknowledged it before showing it; a marker may overtake a lagging cursor write).
      receipt: { accountId: m.account_id, deliveredSeq: Math.max(cursorSeq, readSeq), readSeq, readAt: r?.read_at ?? null },
      cursorSeq,
      sharesRead: m.read_receipts === null || Number(m.read_receipts) === 1,
    });
  }
  return result;
}

/** A member's receipt without its read state; delivery from the cursors only, so the marker leaks into nothing. */
const withoutRead = (s: MemberState): MemberReceipt => ({ accountId: s.receipt.accountId, deliveredSeq: s.cursorSeq, readSeq: 0, readAt: null });

/**
 * The receipts of one conversation as each viewer may see them: their own in full; others' read
 * state only when both they and the viewer send read receipts. Two shared lists serve everyone
 * (a group's frame costs no list per member); only a viewer who opted out gets its own copy.
 */
export class ReceiptViews {
  private readonly states: ReadonlyMap<string, MemberState>;
  private shared: MemberReceipt[] | undefined;
  private hidden: MemberReceipt[] | undefined;

  constructor(private readonly list: readonly MemberState[]) {
    this.states = new Map(list.map((s) => [s.receipt.accountId, s]));
  }

  /** Whether this member sends read receipts (a former member, unknown here, counts as not). */
  sharesRead(accountId: string): boolean {
    return this.states.get(accountId)?.sharesRead ?? false;
  }

  seenBy(viewerId: string): MemberReceipt[] {
    const viewer = this.states.get(viewerId);
    if (viewer?.sharesRead) return (this.shared ??= this.list.map((s) => (s.sharesRead ? s.receipt : withoutRead(s))));
    this.hidden ??= this.list.map(withoutRead);
    return viewer ? this.hidden.map((r) => (r.accountId === viewerId ? viewer.receipt : r)) : this.hidden;
  }
}

/** Every current member's receipts, per conversation, ready to be cut per viewer. */
export async function receiptViewsOf(db: Db, conversationIds: readonly string[]): Promise<Map<string, ReceiptViews>> {
  const states = await memberStatesOf(db, conversationIds);
  return new Map([...states].map(([id, list]) => [id, new ReceiptViews(list)]));
}

export async function listReceipts(deps: Deps, auth: AuthenticatedSession, conversationId: string): Promise<ReceiptList> {
  await conversationForMember(deps, auth, conversationId);
  const views = await receiptViewsOf(deps.db, [conversationId]);
  return { conversationId, receipts: views.get(conversationId)?.seenBy(auth.account.id) ?? [] };
}

/** Whether the account sends read receipts (no preference row: the default, on). */
export async function sendsReadReceipts(db: Db, accountId: string): Promise<boolean> {
  const row = await db.selectFrom('account_preference').select('read_receipts').where('account_id', '=', accountId).executeTakeFirst();
  return row === undefined || Number(row.read_receipts) === 1;
}

/**
 * Moves the caller's read marker forward to `seq` (never back; an older seq is accepted and
 * changes nothing, since tabs and devices post out of order) and tells the members who may see
 * it. An account that does not send read receipts is answered the same and nothing is kept.
 */
export async function markRead(deps: Deps, auth: AuthenticatedSession, conversationId: string, seq: number): Promise<void> {
  const row = await conversationForMember(deps, auth, conversationId);
  if (seq > Number(row.last_seq)) throw new ConsiliumError('VALIDATION_FAILED', 'cannot mark beyond the last message as read');
  if (!(await sendsReadReceipts(deps.db, auth.account.id))) return;
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
  if (Number(r.numInsertedOrUpdatedRows ?? 0n) > 0) receiptBoardOf(deps).touch(conversationId, 'read');
}

/** How long receipt changes of a conversation are gathered before one frame tells its members. */
export const RECEIPT_FLUSH_MS = 500;

/**
 * What changed in a conversation's receipts: `read`, only a read marker of someone who sends read
 * receipts (news only to members who see read state); `all`, delivery or membership or a
 * member's read receipts setting (news to everyone).
 */
export type ReceiptChange = 'read' | 'all';

/**
 * Gathers the conversations whose receipts changed on this node (acknowledgements, read markers)
 * and, at most every RECEIPT_FLUSH_MS, pushes each one's receipts to its member devices in one
 * frame each, cut to what the device's account may see (ReceiptViews). Acks are the relay's hot
 * path: a 100-device group acknowledging one message costs one frame per device, not one per ack.
 * Receipts are derived state: a frame lost to a closing server or a dropped notice costs
 * freshness only (clients fetch them again when they open a thread).
 */
export class ReceiptBoard {
  private readonly dirty = new Map<string, ReceiptChange>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: Deps) {}

  touch(conversationId: string, change: ReceiptChange = 'all'): void {
    if (this.dirty.get(conversationId) !== 'all') this.dirty.set(conversationId, change);
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), RECEIPT_FLUSH_MS);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    this.timer = null;
    const changes = new Map(this.dirty);
    this.dirty.clear();
    if (changes.size === 0) return;
    const ids = [...changes.keys()];
    try {
      const [views, devices] = await Promise.all([receiptViewsOf(this.deps.db, ids), recipientsOf(this.deps.db, ids)]);
      // Per conversation, per account: the devices to tell.
      const seated = new Map<string, Map<string, string[]>>();
      for (const d of devices) {
        let accounts = seated.get(d.conversation_id);
        if (!accounts) seated.set(d.conversation_id, (accounts = new Map()));
        let list = accounts.get(d.account_id);
        if (!list) accounts.set(d.account_id, (list = []));
        list.push(d.device_id);
      }
      for (const [id, change] of changes) {
        const view = views.get(id);
        if (!view) continue;
        // Same list, same frame: accounts that see the shared list share one publish.
        const byList = new Map<MemberReceipt[], string[]>();
        for (const [accountId, deviceIds] of seated.get(id) ?? []) {
          if (change === 'read' && !view.sharesRead(accountId)) continue;
          const receipts = view.seenBy(accountId);
          const list = byList.get(receipts);
          if (list) list.push(...deviceIds);
          else byList.set(receipts, [...deviceIds]);
        }
        for (const [receipts, deviceIds] of byList) this.deps.fanOut.publish(deviceIds, { type: 'receipts', conversationId: id, receipts });
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
