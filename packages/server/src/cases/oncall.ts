import { randomUUID } from 'node:crypto';
import type { OnCallRoster, SetOnCallBody } from '@consilium/protocol';
import { SetOnCallBody as SetOnCallSchema } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { Db } from '../db/database.js';
import { getDepartmentInOrg } from '../orgs/store.js';
import { getAccountInOrg } from '../accounts/store.js';
import { mayJoinPatientConversations } from '../accounts/service.js';
import * as store from './store.js';

export interface ChainStep {
  step: number;
  people: { accountId: string; displayName: string }[];
}

/**
 * Who would be paged at `at`, step by step: entries inside their shift window, held by active,
 * verified professionals. Empty steps are left out, so paging skips them at once.
 */
export function chainAt(rows: store.RosterRow[], at: Date): ChainStep[] {
  const t = at.getTime();
  const steps = new Map<number, ChainStep>();
  for (const r of rows) {
    if (r.starts_at && Date.parse(r.starts_at) > t) continue;
    if (r.ends_at && Date.parse(r.ends_at) <= t) continue;
    if (!mayJoinPatientConversations({ status: r.status, verification_level: r.verification_level, role: r.role })) continue;
    const step = Number(r.step);
    let s = steps.get(step);
    if (!s) steps.set(step, (s = { step, people: [] }));
    if (!s.people.some((p) => p.accountId === r.account_id)) s.people.push({ accountId: r.account_id, displayName: r.display_name });
  }
  return [...steps.values()].sort((a, b) => a.step - b.step);
}

export async function currentChain(db: Db, departmentId: string, at: Date): Promise<ChainStep[]> {
  return chainAt(await store.rosterOf(db, departmentId), at);
}

async function departmentOf(deps: Deps, organisationId: string, departmentId: string) {
  const department = await getDepartmentInOrg(deps.db, organisationId, departmentId);
  if (!department) throw notFound('department');
  return department;
}

export async function getRoster(deps: Deps, organisationId: string, departmentId: string): Promise<OnCallRoster> {
  const department = await departmentOf(deps, organisationId, departmentId);
  const rows = await store.rosterOf(deps.db, departmentId);
  return {
    departmentId,
    departmentName: department.name,
    entries: rows.map((r) => ({ id: r.id, step: Number(r.step), accountId: r.account_id, displayName: r.display_name, startsAt: r.starts_at, endsAt: r.ends_at })),
    now: chainAt(rows, deps.now()),
  };
}

/** Replaces a department's roster (admins). Everyone on it must be a verified colleague. */
export async function setRoster(deps: Deps, actor: Actor, organisationId: string, departmentId: string, input: SetOnCallBody): Promise<OnCallRoster> {
  const body = SetOnCallSchema.parse(input);
  await departmentOf(deps, organisationId, departmentId);
  for (const e of body.entries) {
    const account = await getAccountInOrg(deps.db, organisationId, e.accountId);
    if (!account) throw notFound(`colleague ${e.accountId}`);
    if (!mayJoinPatientConversations(account)) throw new ConsiliumError('NOT_VERIFIED', `${account.display_name} is not a verified professional and cannot be on call`);
    if (e.startsAt && e.endsAt && Date.parse(e.endsAt) <= Date.parse(e.startsAt)) throw new ConsiliumError('VALIDATION_FAILED', 'a shift ends after it starts');
  }
  const now = iso(deps.now());
  await inTransaction(deps, async (tx) => {
    await store.replaceRoster(
      tx.db,
      departmentId,
      body.entries.map((e) => ({ id: randomUUID(), organisation_id: organisationId, department_id: departmentId, step: e.step, account_id: e.accountId, starts_at: e.startsAt, ends_at: e.endsAt, created_at: now })),
    );
    await recordAudit(tx, auditEvent(tx, actor, 'oncall.changed', 'U', { entity: { type: 'department', id: departmentId }, purposeOfUse: 'HOPERAT', detail: { entries: body.entries.length } }));
  });
  return getRoster(deps, organisationId, departmentId);
}
