import type { AddMembersBody, Conversation, CreateConversationBody } from '@consilium/protocol';
import { MAX_CONVERSATION_DEVICES } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { getAccount } from '../accounts/store.js';
import { activeDevicesOf } from '../devices/store.js';
import { sessionDevice } from '../devices/service.js';
import type { ConversationTable } from '../db/schema/messaging.js';
import * as store from './store.js';
import { defaultExpirySeconds } from '../retention/expiry.js';
import { recipientsOf } from '../delivery/store.js';
import { receiptBoardOf } from './receipts.js';
import { mayMessageAcross } from '../orgs/connections.js';

/**
 * Only professionals of the caller's organisation, or verified ones of an explicitly connected
 * organisation (direct and group conversations only: cases and patient conversations stay within
 * one organisation), can be added. Anyone else reads as absent, the same NOT_FOUND as an id that
 * names nothing, so a search across organisations learns nothing. `otherOrganisations`: those of
 * the conversation's current members, which every newcomer's organisation must be connected to as well.
 */
async function assertColleagues(deps: Deps, auth: AuthenticatedSession, accountIds: string[], kind: string, otherOrganisations: string[] = []): Promise<void> {
  for (const id of accountIds) {
    const account = await getAccount(deps.db, id);
    if (!account || account.status !== 'active' || account.role === 'patient') throw notFound(`colleague ${id}`);
    if (account.organisation_id === auth.organisation.id) continue;
    const crossing = (kind === 'direct' || kind === 'group') && account.verification_level !== 'unverified';
    if (!crossing || !(await mayMessageAcross(deps.db, auth.organisation.id, account.organisation_id))) throw notFound(`colleague ${id}`);
  }
  // Everyone in a conversation reads everyone else's messages: its organisations must be pairwise connected.
  const organisations = new Set(otherOrganisations);
  for (const id of accountIds) organisations.add((await getAccount(deps.db, id))!.organisation_id);
  organisations.add(auth.organisation.id);
  const list = [...organisations];
  for (let i = 0; i < list.length; i++) {
    for (let j = i + 1; j < list.length; j++) {
      if (!(await mayMessageAcross(deps.db, list[i]!, list[j]!))) {
        throw new ConsiliumError('FORBIDDEN', 'the organisations of this conversation are not all connected to each other');
      }
    }
  }
}

/** Organisations of a conversation's current members. */
export async function memberOrganisations(db: Deps['db'], conversationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('conversation_member')
    .innerJoin('account', 'account.id', 'conversation_member.account_id')
    .select('account.organisation_id')
    .distinct()
    .where('conversation_member.conversation_id', '=', conversationId)
    .where('conversation_member.removed_at', 'is', null)
    .execute();
  return rows.map((r) => r.organisation_id);
}

/**
 * New messages (and commits that add devices) cross organisations only while they are connected:
 * once a connection ends, a conversation spanning it can still shed members (a commit removing
 * leaves), but carries nothing new.
 */
export async function assertMayReachMembers(deps: Deps, auth: AuthenticatedSession, conversationId: string): Promise<void> {
  for (const organisationId of await memberOrganisations(deps.db, conversationId)) {
    if (!(await mayMessageAcross(deps.db, auth.organisation.id, organisationId))) {
      throw new ConsiliumError('FORBIDDEN', 'this conversation includes an organisation yours is no longer connected to');
    }
  }
}

export async function assertDeviceBudget(deps: Deps, accountIds: string[]): Promise<void> {
  const devices = await activeDevicesOf(deps.db, accountIds);
  if (devices.length > MAX_CONVERSATION_DEVICES) {
    throw new ConsiliumError('VALIDATION_FAILED', `a conversation holds at most ${MAX_CONVERSATION_DEVICES} devices`);
  }
}

/**
 * Records a new conversation and its members. The creator's device makes the MLS group (epoch 0)
 * and adds everyone else's devices with its first commit.
 */
export async function createConversation(deps: Deps, auth: AuthenticatedSession, actor: Actor, body: CreateConversationBody): Promise<Conversation> {
  const device = await sessionDevice(deps, auth);
  const others = [...new Set(body.memberAccountIds)].filter((id) => id !== auth.account.id);
  await assertColleagues(deps, auth, others, body.kind);
  if (body.kind === 'direct' && others.length !== 1) throw new ConsiliumError('VALIDATION_FAILED', 'a direct conversation has exactly one other person');
  await assertDeviceBudget(deps, [auth.account.id, ...others]);
  const directKey = body.kind === 'direct' ? [auth.account.id, others[0]!].sort().join(':') : null;
  if (directKey && (await store.getDirectConversation(deps.db, directKey))) throw new ConsiliumError('CONFLICT', 'you already have a direct conversation with this person');
  if (await store.getConversation(deps.db, body.id)) throw new ConsiliumError('CONFLICT', 'a conversation with this id exists');
  const now = iso(deps.now());
  const row: ConversationTable = {
    id: body.id,
    organisation_id: auth.organisation.id,
    kind: body.kind,
    direct_key: directKey,
    created_by: auth.account.id,
    created_at: now,
    epoch: 0,
    min_send_epoch: 0,
    last_seq: 0,
    expiry_seconds: await defaultExpirySeconds(deps.db, auth.organisation.id),
  };
  await inTransaction(deps, async (tx) => {
    await store.insertConversation(tx.db, row);
    await store.insertMembers(tx.db, [
      { conversation_id: row.id, account_id: auth.account.id, role: 'admin', added_at: now, removed_at: null },
      ...others.map((id) => ({ conversation_id: row.id, account_id: id, role: body.kind === 'direct' ? 'admin' : 'member', added_at: now, removed_at: null })),
    ]);
    await store.upsertDevices(tx.db, [{ conversation_id: row.id, device_id: device.id, account_id: auth.account.id, joined_seq: 0, removed_seq: null }]);
    await recordAudit(tx, auditEvent(tx, actor, 'conversation.created', 'C', { entity: { type: 'conversation', id: row.id }, detail: { kind: row.kind, members: others.length + 1 } }));
  });
  return describeConversation(deps, row, device.id);
}

export async function describeConversation(deps: Deps, row: ConversationTable, deviceId: string | null): Promise<Conversation> {
  const [members, devices, cursor] = await Promise.all([
    store.currentMembers(deps.db, row.id),
    activeDevicesOfConversation(deps, row.id),
    deviceId
      ? deps.db.selectFrom('delivery_cursor').select('acked_seq').where('device_id', '=', deviceId).where('conversation_id', '=', row.id).executeTakeFirst()
      : undefined,
  ]);
  return {
    id: row.id,
    kind: row.kind as Conversation['kind'],
    createdBy: row.created_by,
    createdAt: row.created_at,
    epoch: Number(row.epoch),
    lastSeq: Number(row.last_seq),
    ackedSeq: Number(cursor?.acked_seq ?? 0),
    expirySeconds: row.expiry_seconds === null || row.expiry_seconds === undefined ? null : Number(row.expiry_seconds),
    members: members.map((m) => ({
      accountId: m.account_id,
      displayName: m.display_name,
      role: m.role as 'admin' | 'member',
      // Every active device of a member: a client adds those not yet in the group, and removes
      // leaves whose device is not listed (revoked).
      devices: devices.filter((d) => d.account_id === m.account_id).map((d) => ({ deviceId: d.id, signaturePublicKey: d.signature_public_key })),
    })),
  };
}

async function activeDevicesOfConversation(deps: Deps, conversationId: string) {
  const members = await store.currentMembers(deps.db, conversationId);
  return activeDevicesOf(deps.db, members.map((m) => m.account_id));
}

/** The conversation, if the caller is a current member; otherwise it does not exist for them. */
export async function conversationForMember(deps: Deps, auth: AuthenticatedSession, id: string): Promise<ConversationTable> {
  const row = await store.getConversation(deps.db, id);
  const member = row && (await store.membership(deps.db, id, auth.account.id));
  if (!row || !member || member.removed_at) throw notFound('conversation');
  return row;
}

export async function listConversations(deps: Deps, auth: AuthenticatedSession): Promise<Conversation[]> {
  const rows = await store.conversationsOf(deps.db, auth.account.id);
  return Promise.all(rows.map((r) => describeConversation(deps, r, auth.session.device_id)));
}

async function assertConversationAdmin(deps: Deps, auth: AuthenticatedSession, row: ConversationTable) {
  const member = await store.membership(deps.db, row.id, auth.account.id);
  if (member?.role !== 'admin') throw new ConsiliumError('FORBIDDEN', 'only admins of this conversation can change its members');
  if (row.kind === 'direct') throw new ConsiliumError('FORBIDDEN', 'a direct conversation has fixed members; start a group instead');
}

/** Records new members; the caller's device then adds their devices with a commit. */
export async function addMembers(deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string, body: AddMembersBody): Promise<Conversation> {
  const row = await conversationForMember(deps, auth, id);
  await assertConversationAdmin(deps, auth, row);
  await assertColleagues(deps, auth, body.accountIds, row.kind, await memberOrganisations(deps.db, id));
  const current = (await store.currentMembers(deps.db, id)).map((m) => m.account_id);
  const fresh = body.accountIds.filter((a) => !current.includes(a));
  await assertDeviceBudget(deps, [...current, ...fresh]);
  const now = iso(deps.now());
  await inTransaction(deps, async (tx) => {
    for (const accountId of fresh) {
      if (await store.membership(tx.db, id, accountId)) await store.readdMember(tx.db, id, accountId, now);
      else await store.insertMembers(tx.db, [{ conversation_id: id, account_id: accountId, role: 'member', added_at: now, removed_at: null }]);
      await recordAudit(tx, auditEvent(tx, actor, 'conversation.member_added', 'U', { entity: { type: 'conversation', id }, onBehalfOf: null, detail: { accountId } }));
    }
  });
  await tellMembersToReconcile(deps, id);
  return describeConversation(deps, row, auth.session.device_id);
}

/**
 * Removes a member (an admin removing someone, or anyone leaving). Delivery to their devices stops
 * at once; a remaining member's client removes their leaves with a commit.
 */
export async function removeMember(deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string, accountId: string): Promise<void> {
  const row = await conversationForMember(deps, auth, id);
  if (accountId !== auth.account.id) await assertConversationAdmin(deps, auth, row);
  await inTransaction(deps, async (tx) => {
    const fresh = await store.getConversation(tx.db, id);
    if (!(await store.removeMember(tx.db, id, accountId, iso(tx.now())))) throw notFound('member');
    const devices = (await store.liveDevices(tx.db, id)).filter((d) => d.account_id === accountId).map((d) => d.device_id);
    await store.markDevicesRemoved(tx.db, id, devices, Number(fresh!.last_seq));
    // A group whose last admin left would be frozen: its longest-standing member becomes admin.
    const remaining = await tx.db.selectFrom('conversation_member').select(['account_id', 'role', 'added_at']).where('conversation_id', '=', id).where('removed_at', 'is', null).orderBy('added_at').orderBy('account_id').execute();
    if (remaining.length > 0 && !remaining.some((m) => m.role === 'admin')) {
      await tx.db.updateTable('conversation_member').set({ role: 'admin' }).where('conversation_id', '=', id).where('account_id', '=', remaining[0]!.account_id).execute();
    }
    await recordAudit(tx, auditEvent(tx, actor, 'conversation.member_removed', 'U', { entity: { type: 'conversation', id }, detail: { accountId, left: accountId === auth.account.id } }));
  });
  await tellMembersToReconcile(deps, id);
}

/**
 * Membership changed on the server: the members' clients bring the MLS group in line (an admin's
 * device adds the new person's devices, or removes the leaves of someone who left) and refresh
 * their member lists, without waiting for their periodic check.
 */
async function tellMembersToReconcile(deps: Deps, conversationId: string): Promise<void> {
  const devices = await recipientsOf(deps.db, [conversationId]);
  deps.fanOut.publish(devices.map((d) => d.device_id), { type: 'peers' });
  receiptBoardOf(deps).touch(conversationId);
}
