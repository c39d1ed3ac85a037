import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type { OrganisationTable } from '../db/schema/organisation.js';
import type { DepartmentTable } from '../db/schema/department.js';

export function getOrganisation(db: Db, id: string) {
  return db.selectFrom('organisation').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Serialises changes to one organisation's membership rules (PostgreSQL row lock; SQLite
 * transactions are serialised already). Call inside a transaction.
 */
export async function lockOrganisation(deps: { db: Db; dbKind: 'sqlite' | 'postgres' }, id: string): Promise<void> {
  if (deps.dbKind === 'postgres') await deps.db.selectFrom('organisation').select('id').where('id', '=', id).forUpdate().execute();
}

export function getOrganisationBySlug(db: Db, slug: string) {
  return db.selectFrom('organisation').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export function listOrganisations(db: Db) {
  return db.selectFrom('organisation').selectAll().orderBy('name').execute();
}

export async function insertOrganisation(db: Db, row: Insertable<OrganisationTable>): Promise<void> {
  await db.insertInto('organisation').values(row).execute();
}

export async function updateOrganisation(db: Db, id: string, changes: Updateable<OrganisationTable>): Promise<void> {
  await db.updateTable('organisation').set(changes).where('id', '=', id).execute();
}

export function listDepartments(db: Db, organisationId: string) {
  return db.selectFrom('department').selectAll().where('organisation_id', '=', organisationId).orderBy('name').execute();
}

export function getDepartmentInOrg(db: Db, organisationId: string, id: string) {
  return db
    .selectFrom('department')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function getDepartmentByName(db: Db, organisationId: string, name: string) {
  return db
    .selectFrom('department')
    .selectAll()
    .where('organisation_id', '=', organisationId)
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function insertDepartment(db: Db, row: Insertable<DepartmentTable>): Promise<void> {
  await db.insertInto('department').values(row).execute();
}
