import type { Insertable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type { CasePageTable, CasePageTargetTable, CasePolicyTable, OnCallEntryTable, PatientCaseTable } from '../db/schema/cases.js';

export async function insertCase(db: Db, row: PatientCaseTable): Promise<void> {
  await db.insertInto('patient_case').values(row).execute();
}

export function getCase(db: Db, id: string) {
  return db.selectFrom('patient_case').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateCase(db: Db, id: string, changes: Updateable<PatientCaseTable>): Promise<void> {
  await db.updateTable('patient_case').set(changes).where('id', '=', id).execute();
}

/** Cases the account currently takes part in, with the names the list shows. */
export function casesOfMember(db: Db, accountId: string) {
  return db
    .selectFrom('patient_case')
    .innerJoin('conversation_member', 'conversation_member.conversation_id', 'patient_case.id')
    .innerJoin('department', 'department.id', 'patient_case.department_id')
    .innerJoin('account as opener', 'opener.id', 'patient_case.opened_by')
    .selectAll('patient_case')
    .select(['department.name as department_name', 'opener.display_name as opened_by_name'])
    .where('conversation_member.account_id', '=', accountId)
    .where('conversation_member.removed_at', 'is', null)
    .orderBy('patient_case.updated_at', 'desc')
    .execute();
}

export function caseWithNames(db: Db, id: string) {
  return db
    .selectFrom('patient_case')
    .innerJoin('department', 'department.id', 'patient_case.department_id')
    .innerJoin('account as opener', 'opener.id', 'patient_case.opened_by')
    .selectAll('patient_case')
    .select(['department.name as department_name', 'opener.display_name as opened_by_name'])
    .where('patient_case.id', '=', id)
    .executeTakeFirst();
}
export type CaseRowWithNames = NonNullable<Awaited<ReturnType<typeof caseWithNames>>>;

export async function countUrgentOpenedSince(db: Db, accountId: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('patient_case')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('opened_by', '=', accountId)
    .where('urgency', 'in', ['urgent', 'emergency'])
    .where('opened_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The oldest urgent consult of this requester inside the window: when the next one is allowed. */
export async function oldestUrgentSince(db: Db, accountId: string, since: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('patient_case')
    .select('opened_at')
    .where('opened_by', '=', accountId)
    .where('urgency', 'in', ['urgent', 'emergency'])
    .where('opened_at', '>=', since)
    .orderBy('opened_at')
    .limit(1)
    .executeTakeFirst();
  return row?.opened_at;
}

// Paging

export async function insertPage(db: Db, row: CasePageTable, targets: CasePageTargetTable[]): Promise<void> {
  await db.insertInto('case_page').values(row).execute();
  if (targets.length) await db.insertInto('case_page_target').values(targets).execute();
}

export function getPage(db: Db, caseId: string) {
  return db.selectFrom('case_page').selectAll().where('case_id', '=', caseId).executeTakeFirst();
}

/** Applies `changes` only if nobody changed the page since `version` was read; says whether it did. */
export async function updatePage(db: Db, caseId: string, version: number, changes: Updateable<CasePageTable>): Promise<boolean> {
  const r = await db
    .updateTable('case_page')
    .set({ ...changes, version: version + 1 })
    .where('case_id', '=', caseId)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export function pageTargets(db: Db, caseId: string) {
  return db
    .selectFrom('case_page_target')
    .innerJoin('account', 'account.id', 'case_page_target.account_id')
    .selectAll('case_page_target')
    .select('account.display_name')
    .where('case_page_target.case_id', '=', caseId)
    .orderBy('case_page_target.step')
    .orderBy('account.display_name')
    .execute();
}

export async function markNotified(db: Db, caseId: string, step: number, at: string): Promise<void> {
  await db.updateTable('case_page_target').set({ notified_at: at }).where('case_id', '=', caseId).where('step', '=', step).where('notified_at', 'is', null).execute();
}

export async function markDeclined(db: Db, caseId: string, step: number, accountId: string, at: string): Promise<void> {
  await db
    .updateTable('case_page_target')
    .set({ declined_at: at })
    .where('case_id', '=', caseId)
    .where('step', '=', step)
    .where('account_id', '=', accountId)
    .execute();
}

/** Pages whose timer is due: the escalation loop's work list. */
export function duePages(db: Db, now: string, limit: number) {
  return db
    .selectFrom('case_page')
    .selectAll()
    .where('state', '=', 'paging')
    .where('next_action_at', '<=', now)
    .orderBy('next_action_at')
    .limit(limit)
    .execute();
}

// On-call rosters

export function rosterOf(db: Db, departmentId: string) {
  return db
    .selectFrom('oncall_entry')
    .innerJoin('account', 'account.id', 'oncall_entry.account_id')
    .selectAll('oncall_entry')
    .select(['account.display_name', 'account.status', 'account.verification_level', 'account.role'])
    .where('oncall_entry.department_id', '=', departmentId)
    .orderBy('oncall_entry.step')
    .orderBy('account.display_name')
    .execute();
}
export type RosterRow = Awaited<ReturnType<typeof rosterOf>>[number];

export async function replaceRoster(db: Db, departmentId: string, rows: Insertable<OnCallEntryTable>[]): Promise<void> {
  await db.deleteFrom('oncall_entry').where('department_id', '=', departmentId).execute();
  if (rows.length) await db.insertInto('oncall_entry').values(rows).execute();
}

// Policy

export function getPolicy(db: Db, organisationId: string) {
  return db.selectFrom('case_policy').selectAll().where('organisation_id', '=', organisationId).executeTakeFirst();
}

export async function upsertPolicy(db: Db, row: CasePolicyTable): Promise<void> {
  const { organisation_id, ...rest } = row;
  await db
    .insertInto('case_policy')
    .values(row)
    .onConflict((oc) => oc.column('organisation_id').doUpdateSet(rest))
    .execute();
}

// Retention

export function casesDueForPurge(db: Db, now: string, limit: number) {
  return db
    .selectFrom('patient_case')
    .select(['id', 'organisation_id'])
    .where('status', '=', 'closed')
    .where('purged_at', 'is', null)
    .where('purge_after', '<=', now)
    .limit(limit)
    .execute();
}

/** Deletes a case's stored ciphertext (messages and unconsumed welcomes); returns how many messages went. */
export async function deleteCaseCiphertext(db: Db, caseId: string): Promise<number> {
  const r = await db.deleteFrom('mls_message').where('conversation_id', '=', caseId).executeTakeFirst();
  await db.deleteFrom('welcome').where('conversation_id', '=', caseId).execute();
  return Number(r.numDeletedRows);
}
