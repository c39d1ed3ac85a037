import { assertWelcome, isMlsError, readMessageHeader, type MessageHeader } from '@consilium/crypto';
import type { MessagePage, PendingWelcome, SubmitMessageBody, SubmittedMessage } from '@consilium/protocol';
import { SubmitMessageBody as SubmitSchema, TYPING_RELAY_MS } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { sessionDevice } from '../devices/service.js';
import { groupCommitOf } from './group-commit.js';
import * as store from './store.js';
import { assertMayReachMembers } from '../conversations/service.js';

export { PAST_EPOCHS_ACCEPTED } from './group-commit.js';

/** The MLS group id of a conversation: the UTF-8 bytes of its id. */
export const groupIdOf = (conversationId: string) => new TextEncoder().encode(conversationId);

const fromB64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function readHeader(body: string): MessageHeader {
  try {
    return readMessageHeader(fromB64(body));
  } catch (err) {
    throw new ConsiliumError('INVALID_MLS_MESSAGE', `not an MLS PrivateMessage${isMlsError(err) ? `: ${err.message}` : ''}`);
  }
}

/** The device behind the session, or the typed error for why it cannot act (no device, revoked). */
function sessionDeviceId(auth: AuthenticatedSession): string {
  const id = auth.session.device_id;
  if (!id) throw new ConsiliumError('DEVICE_REQUIRED', 'register or attach this browser as a device first');
  return id;
}

/**
 * The checks every send, fetch and acknowledgement makes, from one query: the device is there and
 * not revoked, the account is a current member of the conversation (otherwise it does not exist
 * for them), and (`needSeat`) the device holds a seat in the MLS group.
 */
async function seatOf(deps: Deps, auth: AuthenticatedSession, conversationId: string, clientMessageId: string | null, needSeat: 'live' | 'any' | 'none') {
  const deviceId = sessionDeviceId(auth);
  const row = await store.deviceSeat(deps.db, deviceId, auth.account.id, conversationId, clientMessageId);
  if (!row) throw new ConsiliumError('DEVICE_REQUIRED', 'register or attach this browser as a device first');
  if (row.revoked_at) throw new ConsiliumError('FORBIDDEN', 'this device was revoked');
  if (!row.conversation_id || !row.member_account_id || row.member_removed_at) throw notFound('conversation');
  if (needSeat !== 'none' && (!row.seat_device_id || (needSeat === 'live' && row.removed_seq !== null))) {
    throw new ConsiliumError('NOT_A_MEMBER', 'this device is not in the conversation; wait for a Welcome');
  }
  return { deviceId, ...row };
}

/**
 * Accepts one MLS message for a conversation (the Delivery Service of RFC 9420 §16.10): checks
 * the clear header against the conversation, orders commits (the first commit for an epoch wins;
 * later ones get STALE_EPOCH so their senders rebase), stores the ciphertext with the next
 * sequence number, routes Welcomes, and acknowledges only after the transaction commits (the
 * group commit stores the messages of one event-loop turn together; see group-commit.ts).
 */
export async function submitMessage(deps: Deps, auth: AuthenticatedSession, conversationId: string, input: SubmitMessageBody): Promise<SubmittedMessage> {
  const body = SubmitSchema.parse(input);
  const seat = await seatOf(deps, auth, conversationId, body.clientMessageId, 'live');
  const deviceId = seat.deviceId;

  const header = readHeader(body.body);
  if (Buffer.compare(Buffer.from(header.groupId), Buffer.from(groupIdOf(conversationId))) !== 0) throw new ConsiliumError('INVALID_MLS_MESSAGE', 'the message belongs to another group');
  if (header.epoch !== body.epoch) throw new ConsiliumError('INVALID_MLS_MESSAGE', `the message is for epoch ${header.epoch}, not ${body.epoch}`);
  if (header.contentType === 'proposal') throw new ConsiliumError('INVALID_MLS_MESSAGE', 'standalone proposals are not relayed; commit them');
  if (header.contentType !== body.kind) throw new ConsiliumError('INVALID_MLS_MESSAGE', `the message is a ${header.contentType}, not a ${body.kind}`);
  if (body.kind === 'application' && (body.addedDeviceIds.length || body.removedDeviceIds.length || body.welcome)) {
    throw new ConsiliumError('VALIDATION_FAILED', 'only a commit adds or removes devices');
  }
  if (body.kind === 'commit' && body.attachmentIds.length) throw new ConsiliumError('VALIDATION_FAILED', 'only an application message carries attachments');
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
    if (previous.sender_device_id !== deviceId) throw new ConsiliumError('CONFLICT', 'clientMessageId already used');
    return { seq: Number(previous.seq), epoch: Number(previous.epoch) + (previous.kind === 'commit' ? 1 : 0) };
  };
  if (seat.prev_seq !== null) return answerFor({ seq: seat.prev_seq, epoch: seat.prev_epoch!, kind: seat.prev_kind!, sender_device_id: seat.prev_sender_device_id! });
  // Across organisations only while connected; a commit that only removes or updates leaves still passes.
  if (body.kind === 'application' || body.addedDeviceIds.length) await assertMayReachMembers(deps, auth, conversationId);

  return groupCommitOf(deps)
    .submit({ conversationId, body, deviceId, accountId: auth.account.id, sentAt: iso(deps.now()) })
    .catch(async (err: unknown) => {
      // Two copies of one message raced (a retry while the original was in flight): the loser
      // hits the unique key or the moved epoch; if the winner is ours, answer as for a retry.
      const stored = await store.messageByClientId(deps.db, conversationId, body.clientMessageId);
      if (stored) return answerFor(stored);
      throw err;
    });
}

/** Messages for this device after `after`, in order; a device sees only what was sent while it was in. */
export async function fetchMessages(deps: Deps, auth: AuthenticatedSession, conversationId: string, after: number, limit: number): Promise<MessagePage> {
  const seat = await seatOf(deps, auth, conversationId, null, 'any');
  const rows = await store.messagesAfter(deps.db, conversationId, Math.max(after, Number(seat.joined_seq)), seat.removed_seq === null ? null : Number(seat.removed_seq), limit);
  return {
    lastSeq: Number(seat.last_seq),
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
  const seat = await seatOf(deps, auth, conversationId, null, 'none');
  if (seq > Number(seat.last_seq)) throw new ConsiliumError('VALIDATION_FAILED', 'cannot acknowledge beyond the last message');
  // Coalesced with the other cursor moves and messages of this turn; answered once committed.
  await groupCommitOf(deps).advanceCursor(seat.deviceId, conversationId, seq);
}

/** When each device last had a typing notice relayed, per conversation (this node only: a hint, not state). */
const lastTyping = new Map<string, number>();

/**
 * Tells the other member devices that this person is typing. Needs a live seat (a removed device
 * cannot announce itself); at most one relay per device and conversation every TYPING_RELAY_MS.
 */
export async function relayTyping(deps: Deps, auth: AuthenticatedSession, conversationId: string): Promise<void> {
  const seat = await seatOf(deps, auth, conversationId, null, 'live');
  const key = `${seat.deviceId}\u0000${conversationId}`;
  const now = Date.now();
  if (now - (lastTyping.get(key) ?? 0) < TYPING_RELAY_MS) return;
  lastTyping.set(key, now);
  if (lastTyping.size > 10_000) for (const [k, at] of lastTyping) if (now - at >= TYPING_RELAY_MS) lastTyping.delete(k);
  const devices = (await store.recipientsOf(deps.db, [conversationId])).map((d) => d.device_id).filter((id) => id !== seat.deviceId);
  deps.fanOut.publish(devices, { type: 'typing', conversationId, accountId: auth.account.id });
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
