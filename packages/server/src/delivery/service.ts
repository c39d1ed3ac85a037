import { randomUUID } from 'node:crypto';
import { assertWelcome, isMlsError, readMessageHeader, type MessageHeader } from '@consilium/crypto';
import type { MessagePage, PendingWelcome, SubmitMessageBody, SubmittedMessage } from '@consilium/protocol';
import { SubmitMessageBody as SubmitSchema } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { sessionDevice } from '../devices/service.js';
import { activeDevicesOf } from '../devices/store.js';
import { conversationForMember } from '../conversations/service.js';
import * as conversations from '../conversations/store.js';
import * as store from './store.js';

/** The MLS group id of a conversation: the UTF-8 bytes of its id. */
export const groupIdOf = (conversationId: string) => new TextEncoder().encode(conversationId);

/** Application messages may be sent in the current epoch or the few before it (the clients keep those secrets). */
export const PAST_EPOCHS_ACCEPTED = 3;

const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function readHeader(body: string): MessageHeader {
  try {
    return readMessageHeader(fromB64(body));
  } catch (err) {
    throw new ConsiliumError('INVALID_MLS_MESSAGE', `not an MLS PrivateMessage${isMlsError(err) ? `: ${err.message}` : ''}`);
  }
}

/**
 * Accepts one MLS message for a conversation (the Delivery Service of RFC 9420 §16.10): checks
 * the clear header against the conversation, orders commits (the first commit for an epoch wins;
 * later ones get STALE_EPOCH so their senders rebase), stores the ciphertext with the next
 * sequence number, routes Welcomes, and acknowledges only after the transaction commits.
 */
export async function submitMessage(deps: Deps, auth: AuthenticatedSession, conversationId: string, input: SubmitMessageBody): Promise<SubmittedMessage> {
  const body = SubmitSchema.parse(input);
  const device = await sessionDevice(deps, auth);
  await conversationForMember(deps, auth, conversationId);
  const seat = await conversations.deviceMembership(deps.db, conversationId, device.id);
  if (!seat || seat.removed_seq !== null) throw new ConsiliumError('NOT_A_MEMBER', 'this device is not in the conversation; wait for a Welcome');

  const header = readHeader(body.body);
  if (Buffer.compare(Buffer.from(header.groupId), Buffer.from(groupIdOf(conversationId))) !== 0) throw new ConsiliumError('INVALID_MLS_MESSAGE', 'the message belongs to another group');
  if (header.epoch !== body.epoch) throw new ConsiliumError('INVALID_MLS_MESSAGE', `the message is for epoch ${header.epoch}, not ${body.epoch}`);
  if (header.contentType === 'proposal') throw new ConsiliumError('INVALID_MLS_MESSAGE', 'standalone proposals are not relayed; commit them');
  if (header.contentType !== body.kind) throw new ConsiliumError('INVALID_MLS_MESSAGE', `the message is a ${header.contentType}, not a ${body.kind}`);
  if (body.kind === 'application' && (body.addedDeviceIds.length || body.removedDeviceIds.length || body.welcome)) {
    throw new ConsiliumError('VALIDATION_FAILED', 'only a commit adds or removes devices');
  }
  if (body.addedDeviceIds.length && !body.welcome) throw new ConsiliumError('VALIDATION_FAILED', 'adding devices needs their Welcome');
  if (body.welcome) {
    try {
      assertWelcome(fromB64(body.welcome));
    } catch {
      throw new ConsiliumError('INVALID_MLS_MESSAGE', 'welcome is not an MLS Welcome');
    }
  }

  const answerFor = (previous: { seq: number; epoch: number; kind: string; sender_device_id: string }) => {
    // A retry of a message we already stored (the ack was lost): same answer, no second copy.
    if (previous.sender_device_id !== device.id) throw new ConsiliumError('CONFLICT', 'clientMessageId already used');
    return { seq: Number(previous.seq), epoch: Number(previous.epoch) + (previous.kind === 'commit' ? 1 : 0) };
  };
  const previous = await store.messageByClientId(deps.db, conversationId, body.clientMessageId);
  if (previous) return answerFor(previous);

  const now = iso(deps.now());
  const result = await inTransaction(deps, async (tx) => {
    let seq: number;
    let epoch: number;
    if (body.kind === 'commit') {
      const advanced = await store.advanceEpoch(tx.db, conversationId, body.epoch);
      if (!advanced) throw new ConsiliumError('STALE_EPOCH', 'another commit already moved this conversation past that epoch; process it and retry');
      seq = Number(advanced.last_seq);
      epoch = Number(advanced.epoch);
      await applyMembershipChange(tx, conversationId, body, seq, epoch, now);
    } else {
      const next = await store.nextSeq(tx.db, conversationId);
      seq = Number(next.last_seq);
      epoch = body.epoch;
      if (body.epoch > Number(next.epoch) || body.epoch < Number(next.epoch) - PAST_EPOCHS_ACCEPTED || body.epoch < Number(next.min_send_epoch)) {
        throw new ConsiliumError('STALE_EPOCH', `the conversation is at epoch ${next.epoch}; catch up before sending`);
      }
    }
    await store.insertMessage(tx.db, {
      conversation_id: conversationId,
      seq,
      client_message_id: body.clientMessageId,
      sender_device_id: device.id,
      sender_account_id: auth.account.id,
      kind: body.kind,
      epoch: body.epoch,
      body: body.body,
      size: Math.floor((body.body.length * 3) / 4),
      created_at: now,
    });
    // The sender has processed its own message.
    await store.advanceCursor(tx.db, device.id, conversationId, seq);
    return { seq, epoch };
  }).catch(async (err: unknown) => {
    // Two copies of one message raced (a retry while the original was in flight): the loser
    // hits the unique key or the moved epoch; if the winner is ours, answer as for a retry.
    const stored = await store.messageByClientId(deps.db, conversationId, body.clientMessageId);
    if (stored) return { ...answerFor(stored), duplicate: true as const };
    throw err;
  });
  if ('duplicate' in result) return { seq: result.seq, epoch: result.epoch };

  const recipients = (await conversations.liveDevices(deps.db, conversationId)).filter((d) => d.device_id !== device.id && !d.revoked_at);
  const welcomed = new Set(body.addedDeviceIds);
  deps.fanOut.publish(
    recipients.filter((d) => !welcomed.has(d.device_id)).map((d) => d.device_id),
    {
      type: 'message',
      conversationId,
      seq: result.seq,
      message: { conversationId, seq: result.seq, kind: body.kind, epoch: body.epoch, senderDeviceId: device.id, senderAccountId: auth.account.id, body: body.body, sentAt: now },
    },
  );
  if (welcomed.size) deps.fanOut.publish([...welcomed], { type: 'welcome', conversationId, seq: result.seq });
  return result;
}

async function applyMembershipChange(tx: Deps, conversationId: string, body: ReturnType<typeof SubmitSchema.parse>, seq: number, epoch: number, now: string) {
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

/** Messages for this device after `after`, in order; a device sees only what was sent while it was in. */
export async function fetchMessages(deps: Deps, auth: AuthenticatedSession, conversationId: string, after: number, limit: number): Promise<MessagePage> {
  const device = await sessionDevice(deps, auth);
  const row = await conversationForMember(deps, auth, conversationId);
  const seat = await conversations.deviceMembership(deps.db, conversationId, device.id);
  if (!seat) throw new ConsiliumError('NOT_A_MEMBER', 'this device is not in the conversation; wait for a Welcome');
  const rows = await store.messagesAfter(deps.db, conversationId, Math.max(after, Number(seat.joined_seq)), seat.removed_seq === null ? null : Number(seat.removed_seq), limit);
  return {
    lastSeq: Number(row.last_seq),
    messages: rows.map((m) => ({
      conversationId,
      seq: Number(m.seq),
      kind: m.kind as 'commit' | 'application',
      epoch: Number(m.epoch),
      senderDeviceId: m.sender_device_id,
      senderAccountId: m.sender_account_id,
      body: m.body,
      sentAt: m.created_at,
    })),
  };
}

export async function acknowledge(deps: Deps, auth: AuthenticatedSession, conversationId: string, seq: number): Promise<void> {
  const device = await sessionDevice(deps, auth);
  const row = await conversationForMember(deps, auth, conversationId);
  if (seq > Number(row.last_seq)) throw new ConsiliumError('VALIDATION_FAILED', 'cannot acknowledge beyond the last message');
  await store.advanceCursor(deps.db, device.id, conversationId, seq);
}

export async function pendingWelcomes(deps: Deps, auth: AuthenticatedSession): Promise<PendingWelcome[]> {
  const device = await sessionDevice(deps, auth);
  const rows = await store.pendingWelcomes(deps.db, device.id);
  return rows.map((w) => ({ id: w.id, conversationId: w.conversation_id, seq: Number(w.seq), epoch: Number(w.epoch), body: w.body }));
}

export async function consumeWelcome(deps: Deps, auth: AuthenticatedSession, id: string): Promise<void> {
  const device = await sessionDevice(deps, auth);
  if (!(await store.consumeWelcome(deps.db, device.id, id, iso(deps.now())))) throw notFound('welcome');
}
