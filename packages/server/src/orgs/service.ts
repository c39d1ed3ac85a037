import { randomUUID } from 'node:crypto';
import type { Department, Organisation, UpdateOrgSettingsBody } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor, type Actor } from '../audit/record.js';
import type { OrganisationTable } from '../db/schema/organisation.js';
import * as store from './store.js';

export function toOrganisation(row: OrganisationTable): Organisation {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    settings: { requireMfa: row.require_mfa === 1, idleTimeoutMinutes: row.idle_timeout_minutes },
    createdAt: row.created_at,
  };
}

export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}

export async function createOrganisation(
  deps: Deps,
  name: string,
  settings: { requireMfa?: boolean; idleTimeoutMinutes?: number } = {},
  actor: Actor = systemActor(),
) {
  const slug = slugify(name);
  if (!slug) throw new ConsiliumError('VALIDATION_FAILED', 'organisation name needs letters or digits');
  if (await store.getOrganisationBySlug(deps.db, slug)) throw new ConsiliumError('CONFLICT', `an organisation "${slug}" exists`);
  const row: OrganisationTable = {
    id: randomUUID(),
    name,
    slug,
    require_mfa: settings.requireMfa === false ? 0 : 1,
    idle_timeout_minutes: settings.idleTimeoutMinutes ?? 15,
    created_at: iso(deps.now()),
  };
  await inTransaction(deps, async (tx) => {
    await store.insertOrganisation(tx.db, row);
    await recordAudit(tx, auditEvent(tx, actor, 'org.created', 'C', { organisationId: row.id, entity: { type: 'organisation', id: row.id }, detail: { name } }));
  });
  return row;
}

export async function getOrganisation(deps: Deps, id: string): Promise<Organisation> {
  const row = await store.getOrganisation(deps.db, id);
  if (!row) throw notFound('organisation');
  return toOrganisation(row);
}

export async function updateSettings(deps: Deps, actor: Actor, body: UpdateOrgSettingsBody): Promise<Organisation> {
  const id = actor.organisationId ?? '';
  await inTransaction(deps, async (tx) => {
    await store.updateOrganisation(tx.db, id, {
      ...(body.requireMfa !== undefined && { require_mfa: body.requireMfa ? 1 : 0 }),
      ...(body.idleTimeoutMinutes !== undefined && { idle_timeout_minutes: body.idleTimeoutMinutes }),
    });
    await recordAudit(tx, auditEvent(tx, actor, 'org.settings_changed', 'U', { entity: { type: 'organisation', id }, detail: { ...body } }));
  });
  return getOrganisation(deps, id);
}

export async function listDepartments(deps: Deps, organisationId: string): Promise<Department[]> {
  const rows = await store.listDepartments(deps.db, organisationId);
  return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
}

export async function createDepartment(deps: Deps, actor: Actor, name: string): Promise<Department> {
  const organisationId = actor.organisationId ?? '';
  if (await store.getDepartmentByName(deps.db, organisationId, name)) throw new ConsiliumError('CONFLICT', 'a department with this name exists');
  const row = { id: randomUUID(), organisation_id: organisationId, name, created_at: iso(deps.now()) };
  await inTransaction(deps, async (tx) => {
    await store.insertDepartment(tx.db, row);
    await recordAudit(tx, auditEvent(tx, actor, 'org.department_created', 'C', { entity: { type: 'department', id: row.id }, detail: { name } }));
  });
  return { id: row.id, name: row.name, createdAt: row.created_at };
}
