import { randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  PATIENT_CODE_ATTEMPTS,
  PATIENT_INVITE_TTL_HOURS,
  type AcceptPatientInviteBody,
  type CreatedPatientInvite,
  type CreatePatientInviteBody,
  type PatientInvite,
  type PatientInvitePreview,
} from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AuthenticatedSession, Client } from '../sessions/service.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import { getAccount, getAccountByEmail } from '../accounts/store.js';
import { createAccount, mayJoinPatientConversations } from '../accounts/service.js';
import { getOrganisation } from '../orgs/store.js';
import { sessionDevice } from '../devices/service.js';
import * as conversations from '../conversations/store.js';
import { defaultExpirySeconds } from '../retention/expiry.js';
import type { PatientInviteTable } from '../db/schema/cases.js';

const CODE_CONTEXT = 'consilium:patient-invite-code:v1';
const codeMac = (deps: Deps, inviteId: string, code: string) => deps.serverKey.mac(`${inviteId}:${code}`, CODE_CONTEXT);

function toInvite(row: PatientInviteTable): PatientInvite {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * A verified clinician opens a patient conversation and invites the patient into it. The link goes
 * to the patient (its token rides in the URL fragment, never sent to a server or logged); the code is
 * said in person, so a link forwarded or intercepted alone does not let anyone in.
 */
export async function createPatientInvite(deps: Deps, auth: AuthenticatedSession, actor: Actor, body: CreatePatientInviteBody): Promise<CreatedPatientInvite> {
  if (!mayJoinPatientConversations(auth.account)) throw new ConsiliumError('NOT_VERIFIED', 'only verified professionals can invite patients');
  const device = await sessionDevice(deps, auth);
  const now = deps.now();
  const token = newToken();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const row: PatientInviteTable = {
    id: randomUUID(),
    organisation_id: auth.organisation.id,
    conversation_id: randomUUID(),
    label: body.label,
    token_hash: hashToken(token),
    code_mac: '',
    created_by: auth.account.id,
    created_at: iso(now),
    expires_at: iso(addSeconds(now, PATIENT_INVITE_TTL_HOURS * 3600)),
    failed_attempts: 0,
    accepted_at: null,
    accepted_by: null,
    revoked_at: null,
  };
  row.code_mac = codeMac(deps, row.id, code);
  await inTransaction(deps, async (tx) => {
    await conversations.insertConversation(tx.db, {
      id: row.conversation_id,
      organisation_id: row.organisation_id,
      kind: 'patient',
      direct_key: null,
      created_by: auth.account.id,
      created_at: row.created_at,
      epoch: 0,
      min_send_epoch: 0,
      last_seq: 0,
      expiry_seconds: await defaultExpirySeconds(tx.db, row.organisation_id),
    });
    await conversations.insertMembers(tx.db, [{ conversation_id: row.conversation_id, account_id: auth.account.id, role: 'admin', added_at: row.created_at, removed_at: null }]);
    await conversations.upsertDevices(tx.db, [{ conversation_id: row.conversation_id, device_id: device.id, account_id: auth.account.id, joined_seq: 0, removed_seq: null }]);
    await tx.db.insertInto('patient_invite').values(row).execute();
    await recordAudit(tx, auditEvent(tx, actor, 'patient.invited', 'C', { entity: { type: 'conversation', id: row.conversation_id }, purposeOfUse: 'TREAT', detail: { inviteId: row.id } }));
  });
  const inviteUrl = `${new URL(deps.config.publicUrl).origin}/#/patient/${token}`;
  return { invite: toInvite(row), inviteUrl, code };
}

export async function listPatientInvites(deps: Deps, auth: AuthenticatedSession): Promise<PatientInvite[]> {
  const rows = await deps.db.selectFrom('patient_invite').selectAll().where('created_by', '=', auth.account.id).orderBy('created_at', 'desc').limit(200).execute();
  return rows.map(toInvite);
}

async function openInvite(deps: Deps, token: string): Promise<PatientInviteTable> {
  const row = await deps.db.selectFrom('patient_invite').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
  if (!row || row.accepted_at || row.revoked_at || row.expires_at <= iso(deps.now())) {
    throw new ConsiliumError('INVITE_INVALID', 'this invitation is not valid any more; ask your care team for a new one');
  }
  return row;
}

export async function previewPatientInvite(deps: Deps, token: string): Promise<PatientInvitePreview> {
  const row = await openInvite(deps, token);
  const [org, inviter] = await Promise.all([getOrganisation(deps.db, row.organisation_id), getAccount(deps.db, row.created_by)]);
  return { organisationName: org?.name ?? '', invitedBy: inviter?.display_name ?? '', expiresAt: row.expires_at };
}

/**
 * The patient accepts with the code they were given: a patient account is made and joins the one
 * conversation. Wrong codes count; at the fifth the invitation ends, so six digits cannot be guessed.
 * The patient then signs in as anyone does (and sets up a second factor if the organisation asks).
 */
export async function acceptPatientInvite(deps: Deps, token: string, body: AcceptPatientInviteBody, client: Client): Promise<void> {
  const row = await openInvite(deps, token);
  const expected = Buffer.from(row.code_mac);
  const given = Buffer.from(codeMac(deps, row.id, body.code));
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    const attempts = Number(row.failed_attempts) + 1;
    const spent = attempts >= PATIENT_CODE_ATTEMPTS;
    await inTransaction(deps, async (tx) => {
      await tx.db
        .updateTable('patient_invite')
        .set({ failed_attempts: attempts, ...(spent && { revoked_at: iso(tx.now()) }) })
        .where('id', '=', row.id)
        .execute();
      const visitor: Actor = { accountId: null, role: null, organisationId: row.organisation_id, ip: client.ip };
      await recordAudit(tx, auditEvent(tx, visitor, 'patient.invite_failed', 'E', { outcome: 'failure', entity: { type: 'patient_invite', id: row.id }, detail: { attempts, revoked: spent } }));
    });
    throw new ConsiliumError('INVITE_CODE_INVALID', spent ? 'the code was wrong too often; ask your care team for a new invitation' : 'that code is not right; check the code you were given');
  }
  if (await getAccountByEmail(deps.db, body.email)) throw new ConsiliumError('EMAIL_TAKEN', 'an account with this e-mail exists');
  await inTransaction(deps, async (tx) => {
    const claimed = await tx.db
      .updateTable('patient_invite')
      .set({ accepted_at: iso(tx.now()) })
      .where('id', '=', row.id)
      .where('accepted_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new ConsiliumError('INVITE_INVALID', 'this invitation has just been used');
    const invitee: Actor = { accountId: null, role: 'patient', organisationId: row.organisation_id, ip: client.ip, email: body.email };
    const account = await createAccount(tx, invitee, {
      organisationId: row.organisation_id,
      email: body.email,
      displayName: body.displayName,
      role: 'patient',
      departmentId: null,
      password: body.password,
    });
    await tx.db.updateTable('patient_invite').set({ accepted_by: account.id }).where('id', '=', row.id).execute();
    await conversations.insertMembers(tx.db, [{ conversation_id: row.conversation_id, account_id: account.id, role: 'member', added_at: iso(tx.now()), removed_at: null }]);
    await recordAudit(
      tx,
      auditEvent(tx, { ...invitee, accountId: account.id, email: null }, 'patient.joined', 'U', { entity: { type: 'conversation', id: row.conversation_id }, purposeOfUse: 'PATRQT', detail: { inviteId: row.id } }),
    );
  });
}
