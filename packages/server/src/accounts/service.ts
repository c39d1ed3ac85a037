import { randomUUID } from 'node:crypto';
import type { Member, Role, SetVerificationBody, UpdateMemberBody } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { iso, type Deps } from '../deps.js';
import { hashPassword } from '../auth/password.js';
import { getDepartmentInOrg } from '../orgs/store.js';
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

export async function createAccount(deps: Deps, input: NewAccount): Promise<store.AccountRow> {
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
  await store.insertAccount(deps.db, row);
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

export async function updateMember(deps: Deps, organisationId: string, actorId: string, id: string, body: UpdateMemberBody): Promise<Member> {
  const row = await getMember(deps, organisationId, id);
  if (body.departmentId && !(await getDepartmentInOrg(deps.db, organisationId, body.departmentId))) throw notFound('department');
  const losesAdmin = row.role === 'admin' && row.status === 'active' && ((body.role && body.role !== 'admin') || body.status === 'disabled');
  if (losesAdmin && (await store.countActiveAdmins(deps.db, organisationId)) <= 1) {
    throw new ConsiliumError('LAST_ADMIN', 'an organisation keeps at least one active admin');
  }
  if (id === actorId && body.status === 'disabled') throw new ConsiliumError('FORBIDDEN', 'you cannot disable your own account');
  await store.updateAccount(deps.db, id, {
    ...(body.role !== undefined && { role: body.role }),
    ...(body.departmentId !== undefined && { department_id: body.departmentId }),
    ...(body.status !== undefined && { status: body.status }),
    ...(body.displayName !== undefined && { display_name: body.displayName }),
  });
  if (body.status === 'disabled') await endAllSessions(deps.db, id, 'disabled', iso(deps.now()));
  return toMember(deps, (await store.getAccount(deps.db, id))!);
}

/**
 * Records how a professional was verified (register, number, evidence, who, when). Lowering the
 * level clears the licence details so a stale number is never shown as current.
 */
export async function setVerification(deps: Deps, organisationId: string, actorId: string, id: string, body: SetVerificationBody): Promise<Member> {
  await getMember(deps, organisationId, id);
  const at = iso(deps.now());
  const unverified = body.level === 'unverified';
  await store.updateAccount(deps.db, id, {
    verification_level: body.level,
    licence_register: body.level === 'licence_verified' ? (body.register ?? null) : null,
    licence_number: body.level === 'licence_verified' ? (body.licenceNumber ?? null) : null,
    verification_evidence: unverified ? null : (body.evidence ?? null),
    verified_by: unverified ? null : actorId,
    verified_at: unverified ? null : at,
  });
  return toMember(deps, (await store.getAccount(deps.db, id))!);
}

/** The rule later features call before adding someone to a patient conversation or case. */
export function mayJoinPatientConversations(row: Pick<store.AccountRow, 'verification_level' | 'status'>): boolean {
  return row.status === 'active' && row.verification_level !== 'unverified';
}
