import { randomUUID } from 'node:crypto';
import type { Member, Role, SetVerificationBody, UpdateMemberBody } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import { hashPassword } from '../auth/password.js';
import { getDepartmentInOrg, lockOrganisation } from '../orgs/store.js';
import { endAllSessions } from '../sessions/store.js';
import { mfaState } from '../mfa/service.js';
import * as store from './store.js';

export interface NewAccount {
  organisationId: string;
  email: string;
  displayName: string;
  role: Role;
  departmentId: string | null;
  password: string;
}

/** Creates an account; `actor` is who did it (an admin, the CLI, or the invitee accepting). */
export async function createAccount(deps: Deps, actor: Actor, input: NewAccount): Promise<store.AccountRow> {
  if (await store.getAccountByEmail(deps.db, input.email)) throw new ConsiliumError('EMAIL_TAKEN', 'an account with this e-mail exists');
  if (input.departmentId && !(await getDepartmentInOrg(deps.db, input.organisationId, input.departmentId))) throw notFound('department');
  const row: store.AccountRow = {
    id: randomUUID(),
    organisation_id: input.organisationId,
    email: input.email,
    display_name: input.displayName,
    role: input.role,
    department_id: input.departmentId,
    status: 'active',
    password_hash: await hashPassword(input.password),
    verification_level: 'unverified',
    licence_register: null,
    licence_number: null,
    verification_evidence: null,
    verified_by: null,
    verified_at: null,
    created_at: iso(deps.now()),
  };
  await inTransaction(deps, async (tx) => {
    await store.insertAccount(tx.db, row);
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'member.created', 'C', {
        organisationId: input.organisationId,
        entity: { type: 'account', id: row.id },
        detail: { role: row.role },
      }),
    );
  });
  return row;
}

export async function toMember(deps: Deps, row: store.AccountRow): Promise<Member> {
  const mfa = await mfaState(deps, row.id);
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    departmentId: row.department_id,
    status: row.status,
    verification: {
      level: row.verification_level,
      register: row.licence_register,
      licenceNumber: row.licence_number,
      evidence: row.verification_evidence,
      verifiedBy: row.verified_by,
      verifiedAt: row.verified_at,
    },
    mfaEnrolled: mfa.totp || mfa.passkeys > 0,
    createdAt: row.created_at,
  };
}

export async function listMembers(deps: Deps, organisationId: string): Promise<Member[]> {
  const rows = await store.listAccountsInOrg(deps.db, organisationId);
  return Promise.all(rows.map((r) => toMember(deps, r)));
}

export async function getMember(deps: Deps, organisationId: string, id: string): Promise<store.AccountRow> {
  const row = await store.getAccountInOrg(deps.db, organisationId, id);
  if (!row) throw notFound('member');
  return row;
}

export async function updateMember(deps: Deps, actor: Actor, id: string, body: UpdateMemberBody): Promise<Member> {
  const organisationId = actor.organisationId ?? '';
  await getMember(deps, organisationId, id);
  if (body.departmentId && !(await getDepartmentInOrg(deps.db, organisationId, body.departmentId))) throw notFound('department');
  const entity = { type: 'account', id };
  await inTransaction(deps, async (tx) => {
    // Lock the organisation, then re-read and count inside the transaction, so two admins
    // demoting each other at once cannot both pass the last-admin check.
    await lockOrganisation(tx, organisationId);
    const current = await getMember(tx, organisationId, id);
    const losesAdmin =
      current.role === 'admin' && current.status === 'active' && ((body.role && body.role !== 'admin') || body.status === 'disabled');
    if (losesAdmin && (await store.countActiveAdmins(tx.db, organisationId)) <= 1) {
      throw new ConsiliumError('LAST_ADMIN', 'an organisation keeps at least one active admin');
    }
    if (id === actor.accountId && body.status === 'disabled') throw new ConsiliumError('FORBIDDEN', 'you cannot disable your own account');
    if (current.role === 'patient' && body.role !== undefined) {
      throw new ConsiliumError('FORBIDDEN', 'a patient account stays a patient account; invite staff as staff');
    }
    await store.updateAccount(tx.db, id, {
      ...(body.role !== undefined && { role: body.role }),
      ...(body.departmentId !== undefined && { department_id: body.departmentId }),
      ...(body.status !== undefined && { status: body.status }),
      ...(body.displayName !== undefined && { display_name: body.displayName }),
    });
    if (body.status === 'disabled') await endAllSessions(tx.db, id, 'disabled', iso(tx.now()));
    const events = [];
    if (body.role !== undefined && body.role !== current.role) events.push(auditEvent(tx, actor, 'member.role_changed', 'U', { entity, detail: { from: current.role, to: body.role } }));
    if (body.status !== undefined && body.status !== current.status) events.push(auditEvent(tx, actor, 'member.status_changed', 'U', { entity, detail: { from: current.status, to: body.status } }));
    if (body.departmentId !== undefined || body.displayName !== undefined) {
      events.push(auditEvent(tx, actor, 'member.updated', 'U', { entity, detail: { departmentId: body.departmentId ?? current.department_id, displayNameChanged: body.displayName !== undefined } }));
    }
    await recordAudit(tx, ...events);
  });
  return toMember(deps, (await store.getAccount(deps.db, id))!);
}

export async function revokeMemberSessions(deps: Deps, actor: Actor, id: string): Promise<void> {
  const member = await getMember(deps, actor.organisationId ?? '', id);
  await inTransaction(deps, async (tx) => {
    const ended = await endAllSessions(tx.db, member.id, 'revoked', iso(tx.now()));
    await recordAudit(tx, auditEvent(tx, actor, 'member.sessions_revoked', 'U', { entity: { type: 'account', id }, detail: { sessions: ended } }));
  });
}

/**
 * Records how a professional was verified (register, number, evidence, who, when). Lowering the
 * level clears the licence details so a stale number is never shown as current.
 */
export async function setVerification(deps: Deps, actor: Actor, id: string, body: SetVerificationBody): Promise<Member> {
  const before = await getMember(deps, actor.organisationId ?? '', id);
  const at = iso(deps.now());
  const unverified = body.level === 'unverified';
  const register = body.level === 'licence_verified' ? (body.register ?? null) : null;
  await inTransaction(deps, async (tx) => {
    await store.updateAccount(tx.db, id, {
      verification_level: body.level,
      licence_register: register,
      licence_number: body.level === 'licence_verified' ? (body.licenceNumber ?? null) : null,
      verification_evidence: unverified ? null : (body.evidence ?? null),
      verified_by: unverified ? null : actor.accountId,
      verified_at: unverified ? null : at,
    });
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'member.verification_changed', 'U', {
        entity: { type: 'account', id },
        detail: { from: before.verification_level, to: body.level, register },
      }),
    );
  });
  return toMember(deps, (await store.getAccount(deps.db, id))!);
}

/** Who may take part in patient cases, be on call, or invite a patient: active, verified professionals (never a patient account). */
export function mayJoinPatientConversations(row: Pick<store.AccountRow, 'verification_level' | 'status' | 'role'>): boolean {
  return row.status === 'active' && row.role !== 'patient' && row.verification_level !== 'unverified';
}
