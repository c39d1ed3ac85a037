import { randomUUID } from 'node:crypto';
import { INVITE_TTL_HOURS, type AcceptInviteBody, type CreateInviteBody, type CreatedInvite, type Invite, type InvitePreview } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { Client } from '../sessions/service.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import { getAccountByEmail } from '../accounts/store.js';
import { createAccount } from '../accounts/service.js';
import { getDepartmentInOrg, getOrganisation } from '../orgs/store.js';
import type { InviteTable } from '../db/schema/invite.js';
import * as store from './store.js';

function toInvite(row: InviteTable): Invite {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    departmentId: row.department_id,
    invitedBy: row.invited_by,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}

export async function createInvite(deps: Deps, actor: Actor, body: CreateInviteBody): Promise<CreatedInvite> {
  const organisationId = actor.organisationId ?? '';
  if (await getAccountByEmail(deps.db, body.email)) throw new ConsiliumError('EMAIL_TAKEN', 'an account with this e-mail exists');
  const departmentId = body.departmentId ?? null;
  if (departmentId && !(await getDepartmentInOrg(deps.db, organisationId, departmentId))) throw notFound('department');
  const token = newToken();
  const now = deps.now();
  const row: InviteTable = {
    id: randomUUID(),
    organisation_id: organisationId,
    email: body.email,
    role: body.role,
    department_id: departmentId,
    token_hash: hashToken(token),
    invited_by: actor.accountId ?? '',
    expires_at: iso(addSeconds(now, INVITE_TTL_HOURS * 3600)),
    accepted_at: null,
    revoked_at: null,
    created_at: iso(now),
  };
  await inTransaction(deps, async (tx) => {
    await store.insertInvite(tx.db, row);
    await recordAudit(tx, auditEvent(tx, actor, 'invite.created', 'C', { entity: { type: 'invite', id: row.id }, detail: { role: row.role } }));
  });
  // The token travels in the fragment, which browsers never send to a server or put in logs.
  const inviteUrl = `${new URL(deps.config.publicUrl).origin}/#/invite/${token}`;
  return { invite: toInvite(row), inviteUrl, token };
}

export async function listInvites(deps: Deps, organisationId: string): Promise<Invite[]> {
  return (await store.listInvites(deps.db, organisationId)).map(toInvite);
}

export async function revokeInvite(deps: Deps, actor: Actor, id: string): Promise<void> {
  await inTransaction(deps, async (tx) => {
    if (!(await store.revokeInvite(tx.db, actor.organisationId ?? '', id, iso(tx.now())))) throw notFound('open invite');
    await recordAudit(tx, auditEvent(tx, actor, 'invite.revoked', 'U', { entity: { type: 'invite', id } }));
  });
}

async function openInvite(deps: Deps, token: string): Promise<InviteTable> {
  const row = await store.getInviteByTokenHash(deps.db, hashToken(token));
  if (!row || row.accepted_at || row.revoked_at || row.expires_at <= iso(deps.now())) {
    throw new ConsiliumError('INVITE_INVALID', 'this invitation is not valid any more; ask your administrator for a new one');
  }
  return row;
}

export async function previewInvite(deps: Deps, token: string): Promise<InvitePreview> {
  const row = await openInvite(deps, token);
  const org = await getOrganisation(deps.db, row.organisation_id);
  return { organisationName: org?.name ?? '', email: row.email, role: row.role, expiresAt: row.expires_at };
}

export async function acceptInvite(deps: Deps, token: string, body: AcceptInviteBody, client: Client): Promise<void> {
  const row = await openInvite(deps, token);
  await inTransaction(deps, async (tx) => {
    if (!(await store.acceptInvite(tx.db, row.id, iso(tx.now())))) {
      throw new ConsiliumError('INVITE_INVALID', 'this invitation has just been used');
    }
    const invitee: Actor = { accountId: null, role: row.role, organisationId: row.organisation_id, ip: client.ip, email: row.email };
    const account = await createAccount(tx, invitee, {
      organisationId: row.organisation_id,
      email: row.email,
      displayName: body.displayName,
      role: row.role,
      departmentId: row.department_id,
      password: body.password,
    });
    await recordAudit(tx, auditEvent(tx, { ...invitee, accountId: account.id, email: null }, 'invite.accepted', 'U', { entity: { type: 'invite', id: row.id } }));
  });
}
