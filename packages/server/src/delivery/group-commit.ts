/**
 * Group commit for the relay: the messages and cursor moves submitted during one event-loop turn
 * (and while the previous batch was committing) are stored in one transaction, so one fsync (one
 * WAL sync on SQLite with synchronous=FULL, one commit flush on PostgreSQL) serves many messages.
 * Each sender hears of its message only after that transaction has committed.
 *
 * Application messages take a few statements per batch, not per message: one UPDATE per
 * conversation reserves its sequence numbers, one INSERT stores every message, one upsert moves
 * every cursor (the senders' own and the receivers' acknowledgements, coalesced per device and
 * conversation), one SELECT finds who to notify. Commits (rare) run one by one as before. If the
 * fast path hits a constraint (a retry that raced its original), the batch is redone message by
 * message, each in its own savepoint, so one bad message never fails the others. A message naming
 * attachments (attachmentIds) confirms their uploads in the same transaction (attachments/confirm.ts).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { SubmitMessageBody as SubmitSchema } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { inTransaction, type Deps } from '../deps.js';
import type { Db } from '../db/database.js';
import { activeDevicesOf } from '../devices/store.js';
import * as conversations from '../conversations/store.js';
import type { MlsMessageTable } from '../db/schema/messaging.js';
import type { DeliveryEvent } from './fan-out.js';
import * as store from './store.js';
import { receiptBoardOf } from '../conversations/receipts.js';
import { confirmAttachments } from '../attachments/confirm.js';

/** Application messages may be sent in the current epoch or the few before it (the clients keep those secrets). */
export const PAST_EPOCHS_ACCEPTED = 3;

/** A submitted message as validated (defaults filled in). */
type SubmitMessageBody = ReturnType<typeof SubmitSchema.parse>;

/** Most messages in one transaction; more wait for the next one. */
const MAX_BATCH_MESSAGES = 2000;

export interface OutgoingMessage {
  conversationId: string;
  body: SubmitMessageBody;
  deviceId: string;
  accountId: string;
  sentAt: string;
}

export interface Accepted {
  seq: number;
  /** The conversation's epoch after this message (one more after a commit). */
  epoch: number;
}

interface PendingMessage extends OutgoingMessage {
  resolve(accepted: Accepted): void;
  reject(err: unknown): void;
}

interface PendingCursor {
  deviceId: string;
  conversationId: string;
  seq: number;
  resolve(): void;
  reject(err: unknown): void;
}

type Outcome = { ok: Accepted } | { err: unknown };

function staleEpoch(state: { epoch: number; min_send_epoch: number }, epoch: number): boolean {
  return epoch > Number(state.epoch) || epoch < Number(state.epoch) - PAST_EPOCHS_ACCEPTED || epoch < Number(state.min_send_epoch);
}
const staleEpochError = (epoch: number) => new ConsiliumError('STALE_EPOCH', `the conversation is at epoch ${epoch}; catch up before sending`);

function messageRow(m: OutgoingMessage, seq: number): MlsMessageTable {
  return {
    conversation_id: m.conversationId,
    seq,
    client_message_id: m.body.clientMessageId,
    sender_device_id: m.deviceId,
    sender_account_id: m.accountId,
    kind: m.body.kind,
    epoch: m.body.epoch,
    body: m.body.body,
    size: Math.floor((m.body.body.length * 3) / 4),
    created_at: m.sentAt,
  };
}

/** What one transaction decided; rebuilt from scratch when the batch falls back to one by one. */
class BatchResult {
  readonly outcomes = new Map<PendingMessage, Outcome>();
  /** Retries that arrived in the same batch as their original: they get the original's answer. */
  readonly copies: Array<[copy: PendingMessage, original: PendingMessage]> = [];
  readonly cursors = new Map<string, { device_id: string; conversation_id: string; acked_seq: number }>();
  /** Accepted messages in the order they were stored. */
  readonly stored: PendingMessage[] = [];

  accept(m: PendingMessage, accepted: Accepted): void {
    this.outcomes.set(m, { ok: accepted });
    this.stored.push(m);
    // The sender has processed its own message; its cursor moves in the same transaction.
    this.moveCursor(m.deviceId, m.conversationId, accepted.seq);
  }

  refuse(m: PendingMessage, err: unknown): void {
    this.outcomes.set(m, { err });
  }

  moveCursor(deviceId: string, conversationId: string, seq: number): void {
    const key = `${deviceId}\u0000${conversationId}`;
    const row = this.cursors.get(key);
    if (!row) this.cursors.set(key, { device_id: deviceId, conversation_id: conversationId, acked_seq: seq });
    else if (row.acked_seq < seq) row.acked_seq = seq;
  }

  outcomeOf(m: PendingMessage): Outcome {
    const own = this.outcomes.get(m);
    if (own) return own;
    const pair = this.copies.find(([copy]) => copy === m);
    const original = pair && this.outcomes.get(pair[1]);
    if (!pair || !original) return { err: new Error('message left undecided by its batch') };
    if (pair[1].deviceId !== m.deviceId) return { err: new ConsiliumError('CONFLICT', 'clientMessageId already used') };
    return original;
  }
}

export class GroupCommit {
  private messages: PendingMessage[] = [];
  private cursors: PendingCursor[] = [];
  private scheduled = false;
  private inFlight = 0;
  /** SQLite has one writer; PostgreSQL overlaps a few batches (they lock conversations in id order). */
  private readonly maxInFlight: number;

  constructor(private readonly deps: Deps) {
    this.maxInFlight = deps.dbKind === 'postgres' ? 4 : 1;
  }

  /** Stores the message; resolves once it is committed (and its recipients notified). */
  submit(message: OutgoingMessage): Promise<Accepted> {
    return new Promise((resolve, reject) => {
      this.messages.push({ ...message, resolve, reject });
      this.schedule();
    });
  }

  /** Moves a device's cursor forward; resolves once committed. Moves of one batch are coalesced. */
  advanceCursor(deviceId: string, conversationId: string, seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.cursors.push({ deviceId, conversationId, seq, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    // After the I/O callbacks of this turn: everything they submitted joins the batch.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.inFlight >= this.maxInFlight || (this.messages.length === 0 && this.cursors.length === 0)) return;
    const messages = this.messages.splice(0, MAX_BATCH_MESSAGES);
    const cursors = this.cursors;
    this.cursors = [];
    this.inFlight++;
    void this.write(messages, cursors).finally(() => {
      this.inFlight--;
      if (this.messages.length || this.cursors.length) this.schedule();
    });
  }

  private async write(messages: PendingMessage[], cursors: PendingCursor[]): Promise<void> {
    let result = new BatchResult();
    let notices: Array<{ deviceIds: string[]; event: DeliveryEvent }> = [];
    try {
      await inTransaction(this.deps, async (tx) => {
        result = new BatchResult();
        await sql`SAVEPOINT relay_batch`.execute(tx.db);
        try {
          await this.writeTogether(tx, messages, result);
          await sql`RELEASE SAVEPOINT relay_batch`.execute(tx.db);
        } catch {
          await sql`ROLLBACK TO SAVEPOINT relay_batch`.execute(tx.db);
          await sql`RELEASE SAVEPOINT relay_batch`.execute(tx.db);
          result = new BatchResult();
          for (const m of byConversation(messages).flatMap(([, items]) => items)) await this.writeAlone(tx, m, result);
        }
        for (const c of cursors) result.moveCursor(c.deviceId, c.conversationId, c.seq);
        // Sorted, so concurrent batches (other nodes, or overlapping ones on PostgreSQL) lock rows in one order.
        await store.advanceCursors(tx.db, [...result.cursors.values()].sort((a, b) => cmp(a.device_id, b.device_id) || cmp(a.conversation_id, b.conversation_id)));
        notices = await this.noticesFor(tx.db, result);
      });
    } catch (err) {
      for (const m of messages) m.reject(err);
      for (const c of cursors) c.reject(err);
      return;
    }
    // Committed: now, and only now, tell the recipients and then the senders.
    for (const n of notices) this.deps.fanOut.publish(n.deviceIds, n.event);
    for (const m of messages) {
      const outcome = result.outcomeOf(m);
      if ('ok' in outcome) m.resolve(outcome.ok);
      else m.reject(outcome.err);
    }
    for (const c of cursors) c.resolve();
    // Acknowledgements move "delivered": the members hear of it in the next receipts frame.
    if (cursors.length) {
      const board = receiptBoardOf(this.deps);
      for (const c of cursors) board.touch(c.conversationId);
    }
  }

  /** The fast path: a few statements for the whole batch. Throws (to fall back) on any database error. */
  private async writeTogether(tx: Deps, messages: PendingMessage[], result: BatchResult): Promise<void> {
    const rows: MlsMessageTable[] = [];
    for (const [conversationId, items] of byConversation(messages)) {
      if (items.some((m) => m.body.kind === 'commit')) {
        for (const m of items) await this.writeAlone(tx, m, result);
        continue;
      }
      const firsts = new Map<string, PendingMessage>();
      for (const m of items) {
        const original = firsts.get(m.body.clientMessageId);
        if (original) result.copies.push([m, original]);
        else firsts.set(m.body.clientMessageId, m);
      }
      const unique = [...firsts.values()];
      const state = await store.reserveSeqs(tx.db, conversationId, unique.length);
      const reservedTo = Number(state.last_seq);
      let seq = reservedTo - unique.length;
      for (const m of unique) {
        if (staleEpoch(state, m.body.epoch)) {
          result.refuse(m, staleEpochError(Number(state.epoch)));
          continue;
        }
        // The blobs it names are confirmed with it, or it is refused (NOT_FOUND) and nothing is.
        const refusal = await confirmAttachments(tx, conversationId, m.body.attachmentIds, m.sentAt);
        if (refusal) {
          result.refuse(m, refusal);
          continue;
        }
        seq++;
        rows.push(messageRow(m, seq));
        result.accept(m, { seq, epoch: m.body.epoch });
      }
      if (seq !== reservedTo) await store.setLastSeq(tx.db, conversationId, seq);
    }
    await store.insertMessages(tx.db, rows);
  }

  /** One message in its own savepoint: its failure is its own answer and leaves the batch intact. */
  private async writeAlone(tx: Deps, m: PendingMessage, result: BatchResult): Promise<void> {
    await sql`SAVEPOINT relay_message`.execute(tx.db);
    try {
      const accepted = await storeMessage(tx, m);
      await sql`RELEASE SAVEPOINT relay_message`.execute(tx.db);
      result.accept(m, accepted);
    } catch (err) {
      await sql`ROLLBACK TO SAVEPOINT relay_message`.execute(tx.db);
      await sql`RELEASE SAVEPOINT relay_message`.execute(tx.db);
      result.refuse(m, err);
    }
  }

  /** Who hears of each stored message, read in the same transaction (membership as of the commit). */
  private async noticesFor(db: Db, result: BatchResult) {
    const notices: Array<{ deviceIds: string[]; event: DeliveryEvent }> = [];
    if (result.stored.length === 0) return notices;
    const seated = new Map<string, string[]>();
    for (const r of await store.recipientsOf(db, [...new Set(result.stored.map((m) => m.conversationId))])) {
      let list = seated.get(r.conversation_id);
      if (!list) seated.set(r.conversation_id, (list = []));
      list.push(r.device_id);
    }
    for (const m of result.stored) {
      const outcome = result.outcomes.get(m) as { ok: Accepted };
      const seq = outcome.ok.seq;
      const welcomed = new Set(m.body.addedDeviceIds);
      const deviceIds = (seated.get(m.conversationId) ?? []).filter((id) => id !== m.deviceId && !welcomed.has(id));
      notices.push({
        deviceIds,
        event: {
          type: 'message',
          conversationId: m.conversationId,
          seq,
          message: { conversationId: m.conversationId, seq, kind: m.body.kind, epoch: m.body.epoch, senderDeviceId: m.deviceId, senderAccountId: m.accountId, body: m.body.body, sentAt: m.sentAt },
        },
      });
      if (welcomed.size) notices.push({ deviceIds: [...welcomed], event: { type: 'welcome', conversationId: m.conversationId, seq } });
    }
    return notices;
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Messages grouped by conversation, conversations in id order, messages in arrival order. */
function byConversation(messages: PendingMessage[]): Array<[string, PendingMessage[]]> {
  const groups = new Map<string, PendingMessage[]>();
  for (const m of messages) {
    let list = groups.get(m.conversationId);
    if (!list) groups.set(m.conversationId, (list = []));
    list.push(m);
  }
  return [...groups].sort(([a], [b]) => cmp(a, b));
}

/**
 * One message, statement by statement: a commit takes the next epoch only if the conversation is
 * still at its epoch (the first commit for an epoch wins; later ones get STALE_EPOCH so their
 * senders rebase) and applies its membership change.
 */
async function storeMessage(tx: Deps, m: OutgoingMessage): Promise<Accepted> {
  const { body, conversationId } = m;
  let seq: number;
  let epoch: number;
  if (body.kind === 'commit') {
    const advanced = await store.advanceEpoch(tx.db, conversationId, body.epoch);
    if (!advanced) throw new ConsiliumError('STALE_EPOCH', 'another commit already moved this conversation past that epoch; process it and retry');
    seq = Number(advanced.last_seq);
    epoch = Number(advanced.epoch);
    await applyMembershipChange(tx, conversationId, body, seq, epoch, m.sentAt);
  } else {
    const next = await store.nextSeq(tx.db, conversationId);
    seq = Number(next.last_seq);
    epoch = body.epoch;
    if (staleEpoch(next, body.epoch)) throw staleEpochError(Number(next.epoch));
    const refusal = await confirmAttachments(tx, conversationId, body.attachmentIds, m.sentAt);
    if (refusal) throw refusal;
  }
  await store.insertMessage(tx.db, messageRow(m, seq));
  return { seq, epoch };
}

async function applyMembershipChange(tx: Deps, conversationId: string, body: SubmitMessageBody, seq: number, epoch: number, now: string) {
  const live = await conversations.liveDevices(tx.db, conversationId);
  const liveIds = new Set(live.map((d) => d.device_id));
  if (body.addedDeviceIds.length) {
    const members = (await conversations.currentMembers(tx.db, conversationId)).map((m) => m.account_id);
    const eligible = new Map((await activeDevicesOf(tx.db, members)).map((d) => [d.id, d]));
    for (const id of body.addedDeviceIds) {
      if (!eligible.has(id)) throw new ConsiliumError('NOT_A_MEMBER', `device ${id} does not belong to a member of this conversation`);
      if (liveIds.has(id)) throw new ConsiliumError('CONFLICT', `device ${id} is already in the conversation`);
    }
    await conversations.upsertDevices(
      tx.db,
      body.addedDeviceIds.map((id) => ({ conversation_id: conversationId, device_id: id, account_id: eligible.get(id)!.account_id, joined_seq: seq, removed_seq: null })),
    );
    await store.insertWelcomes(
      tx.db,
      body.addedDeviceIds.map((id) => ({ id: randomUUID(), conversation_id: conversationId, device_id: id, seq, epoch, body: body.welcome!, created_at: now, consumed_at: null })),
    );
  }
  if (body.removedDeviceIds.length) {
    // Removing a device already cut off (its member left, or it was revoked) is what finishes the job.
    const known = await Promise.all(body.removedDeviceIds.map((id) => conversations.deviceMembership(tx.db, conversationId, id)));
    if (known.some((k) => !k)) throw new ConsiliumError('NOT_A_MEMBER', 'a removed device was never in this conversation');
    const members = new Set((await conversations.currentMembers(tx.db, conversationId)).map((m) => m.account_id));
    const revoked = new Set(live.filter((d) => d.revoked_at).map((d) => d.device_id));
    for (const k of known) {
      if (k!.removed_seq === null && members.has(k!.account_id) && !revoked.has(k!.device_id)) {
        throw new ConsiliumError('FORBIDDEN', 'only devices of people who left, or revoked devices, can be removed');
      }
    }
    await tx.db.updateTable('conversation').set({ min_send_epoch: epoch }).where('id', '=', conversationId).execute();
    await conversations.markDevicesRemoved(tx.db, conversationId, body.removedDeviceIds, seq);
  }
}

const writers = new WeakMap<Db, GroupCommit>();

/** The group commit of this server's database handle. */
export function groupCommitOf(deps: Deps): GroupCommit {
  let writer = writers.get(deps.db);
  if (!writer) writers.set(deps.db, (writer = new GroupCommit(deps)));
  return writer;
}
