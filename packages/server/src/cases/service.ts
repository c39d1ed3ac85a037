import type { CaseDetail, CaseFilter, CasePage, CaseSummary, OpenCaseBody } from '@consilium/protocol';
import { OpenCaseBody as OpenCaseSchema } from '@consilium/protocol';
import { ConsiliumError, notFound } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { getAccountInOrg } from '../accounts/store.js';
import { mayJoinPatientConversations } from '../accounts/service.js';
import { getDepartmentInOrg } from '../orgs/store.js';
import { sessionDevice } from '../devices/service.js';
import * as conversations from '../conversations/store.js';
import { assertDeviceBudget, conversationForMember, describeConversation } from '../conversations/service.js';
import type { PatientCaseTable } from '../db/schema/cases.js';
import { currentChain } from './oncall.js';
import { casePolicy } from './policy.js';
import { acceptPage, cancelPage, caseAuditFields, declinePage, escalatePage, startPage } from './paging.js';
import { CaseNotices } from './notify.js';
import * as store from './store.js';
import { defaultExpirySeconds } from '../retention/expiry.js';


function assertVerified(account: Parameters<typeof mayJoinPatientConversations>[0] & { display_name: string }, who: 'you' | 'colleague'): void {
  if (mayJoinPatientConversations(account)) return;
  throw new ConsiliumError(
    'NOT_VERIFIED',
    who === 'you' ? 'patient cases are open to verified professionals only; ask your administrator to verify you' : `${account.display_name} is not a verified professional and cannot join a patient case`,
  );
}

/**
 * Opens a consult: a `case` conversation with the requester, the colleagues they chose and the
 * specialty's on-call chain as it stands now; urgent and emergency consults start paging step one.
 * The requester's device then creates the MLS group and adds everyone's devices, and sends the
 * encrypted case header (patient reference, SBAR) as the first message.
 */
export async function openCase(deps: Deps, auth: AuthenticatedSession, actor: Actor, input: OpenCaseBody): Promise<CaseDetail> {
  const body = OpenCaseSchema.parse(input);
  const device = await sessionDevice(deps, auth);
  assertVerified(auth.account, 'you');
  const organisationId = auth.organisation.id;
  const department = await getDepartmentInOrg(deps.db, organisationId, body.departmentId);
  if (!department) throw notFound('department');
  const chosen = [...new Set(body.memberAccountIds)].filter((id) => id !== auth.account.id);
  for (const id of chosen) {
    const account = await getAccountInOrg(deps.db, organisationId, id);
    if (!account || account.status !== 'active') throw notFound(`colleague ${id}`);
    assertVerified(account, 'colleague');
  }
  const now = deps.now();
  // The requester is never paged for their own consult.
  const chain = (await currentChain(deps.db, body.departmentId, now))
    .map((s) => ({ ...s, people: s.people.filter((p) => p.accountId !== auth.account.id) }))
    .filter((s) => s.people.length > 0);
  const paged = body.urgency !== 'routine';
  if (paged && chain.length === 0) throw new ConsiliumError('NO_ONE_ON_CALL', `nobody is on call for ${department.name} now: call the department directly`);
  if (!paged && chain.length === 0 && chosen.length === 0) throw new ConsiliumError('NO_ONE_ON_CALL', `nobody is on call for ${department.name} now: add a colleague to ask`);
  if (paged) {
    const policy = await casePolicy(deps.db, organisationId);
    const since = iso(addSeconds(now, -3600));
    if ((await store.countUrgentOpenedSince(deps.db, auth.account.id, since)) >= policy.urgentPerHour) {
      const oldest = await store.oldestUrgentSince(deps.db, auth.account.id, since);
      const retry = oldest ? Math.max(1, Math.ceil((Date.parse(oldest) + 3600_000 - now.getTime()) / 1000)) : 3600;
      throw new ConsiliumError('RATE_LIMITED', `at most ${policy.urgentPerHour} urgent consults an hour; open this one as routine or call`, { retryAfterSeconds: retry });
    }
  }
  // Routine consults reach whoever is first on call; paged ones bring the whole chain in, so a later
  // step can read the consult the moment it is paged, without waiting for anyone's device.
  const chainPeople = (paged ? chain : chain.slice(0, 1)).flatMap((s) => s.people.map((p) => p.accountId));
  const members = [...new Set([...chosen, ...chainPeople])];
  await assertDeviceBudget(deps, [auth.account.id, ...members]);
  if (await conversations.getConversation(deps.db, body.id)) throw new ConsiliumError('CONFLICT', 'a conversation with this id exists');

  const at = iso(now);
  const caseRow: PatientCaseTable = {
    id: body.id,
    organisation_id: organisationId,
    department_id: department.id,
    urgency: body.urgency,
    status: 'open',
    opened_by: auth.account.id,
    opened_at: at,
    answered_at: null,
    closed_at: null,
    closed_by: null,
    purge_after: null,
    purged_at: null,
    updated_at: at,
  };
  const notices = new CaseNotices(body.id);
  await inTransaction(deps, async (tx) => {
    await conversations.insertConversation(tx.db, {
      id: body.id,
      organisation_id: organisationId,
      kind: 'case',
      direct_key: null,
      created_by: auth.account.id,
      created_at: at,
      epoch: 0,
      min_send_epoch: 0,
      last_seq: 0,
      expiry_seconds: await defaultExpirySeconds(tx.db, organisationId),
    });
    await conversations.insertMembers(tx.db, [
      { conversation_id: body.id, account_id: auth.account.id, role: 'admin', added_at: at, removed_at: null },
      ...members.map((id) => ({ conversation_id: body.id, account_id: id, role: 'member', added_at: at, removed_at: null })),
    ]);
    await conversations.upsertDevices(tx.db, [{ conversation_id: body.id, device_id: device.id, account_id: auth.account.id, joined_seq: 0, removed_seq: null }]);
    await store.insertCase(tx.db, caseRow);
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'case.opened', 'C', {
        ...caseAuditFields(caseRow),
        detail: { urgency: body.urgency, departmentId: department.id, members: members.length + 1 },
      }),
    );
    if (paged) await startPage(tx, caseRow, chain, actor, notices);
    else notices.add(members);
  });
  await notices.publish(deps);
  return caseDetail(deps, auth, body.id);
}

function toPage(page: NonNullable<Awaited<ReturnType<typeof store.getPage>>>, targets: Awaited<ReturnType<typeof store.pageTargets>>): CasePage {
  return {
    state: page.state as CasePage['state'],
    step: Number(page.step),
    stepCount: Number(page.step_count),
    stepStartedAt: page.step_started_at,
    nextActionAt: page.next_action_at,
    notifications: Number(page.notifications),
    acceptedBy: page.accepted_by,
    acceptedAt: page.accepted_at,
    targets: targets.map((t) => ({ accountId: t.account_id, displayName: t.display_name, step: Number(t.step), notifiedAt: t.notified_at, declinedAt: t.declined_at })),
  };
}

async function summarise(deps: Deps, accountId: string, row: store.CaseRowWithNames): Promise<CaseSummary> {
  const page = await store.getPage(deps.db, row.id);
  const targets = page ? await store.pageTargets(deps.db, row.id) : [];
  const awaiting =
    page?.state === 'paging' && targets.some((t) => t.account_id === accountId && Number(t.step) === Number(page.step) && !t.declined_at);
  return {
    id: row.id,
    departmentId: row.department_id,
    departmentName: row.department_name,
    urgency: row.urgency as CaseSummary['urgency'],
    status: row.status as CaseSummary['status'],
    openedBy: row.opened_by,
    openedByName: row.opened_by_name,
    openedAt: row.opened_at,
    answeredAt: row.answered_at,
    closedAt: row.closed_at,
    updatedAt: row.updated_at,
    page: page ? toPage(page, targets) : null,
    awaitingMyResponse: awaiting,
  };
}

export async function listCases(deps: Deps, auth: AuthenticatedSession, filter: CaseFilter): Promise<CaseSummary[]> {
  const rows = await store.casesOfMember(deps.db, auth.account.id);
  const summaries = await Promise.all(rows.map((r) => summarise(deps, auth.account.id, r)));
  const keep: Record<CaseFilter, (c: CaseSummary) => boolean> = {
    all: () => true,
    mine: (c) => c.openedBy === auth.account.id,
    department: (c) => auth.account.department_id !== null && c.departmentId === auth.account.department_id,
    open: (c) => c.status !== 'closed',
    urgent: (c) => c.urgency !== 'routine' && c.status !== 'closed',
    awaiting: (c) => c.awaitingMyResponse,
  };
  // Consults waiting for the caller come first, then by urgency, then newest activity.
  const rank = (c: CaseSummary) => (c.awaitingMyResponse ? 0 : 1) * 10 + (c.status === 'closed' ? 5 : 0) + { emergency: 0, urgent: 1, routine: 2 }[c.urgency];
  return summaries.filter(keep[filter]).sort((a, b) => rank(a) - rank(b) || b.updatedAt.localeCompare(a.updatedAt));
}

/** A case exists for the caller only if they take part in it (as any conversation). */
async function caseForMember(deps: Deps, auth: AuthenticatedSession, id: string): Promise<PatientCaseTable> {
  await conversationForMember(deps, auth, id);
  const row = await store.getCase(deps.db, id);
  if (!row) throw notFound('case');
  return row;
}

export async function caseDetail(deps: Deps, auth: AuthenticatedSession, id: string): Promise<CaseDetail> {
  const row = await caseForMember(deps, auth, id);
  const named = (await store.caseWithNames(deps.db, row.id))!;
  const conversation = await describeConversation(deps, (await conversations.getConversation(deps.db, id))!, auth.session.device_id);
  return { case: await summarise(deps, auth.account.id, named), conversation };
}

/** Runs a change to a case in one transaction with its audit entry, then tells who must hear of it. */
async function changeCase(
  deps: Deps,
  auth: AuthenticatedSession,
  id: string,
  change: (tx: Deps, row: PatientCaseTable, notices: CaseNotices) => Promise<void>,
): Promise<CaseSummary> {
  const row = await caseForMember(deps, auth, id);
  const notices = new CaseNotices(id);
  await inTransaction(deps, async (tx) => {
    const fresh = (await store.getCase(tx.db, row.id))!;
    if (fresh.status === 'closed') throw new ConsiliumError('CASE_CLOSED', 'this case is closed');
    await change(tx, fresh, notices);
    await store.updateCase(tx.db, id, { updated_at: iso(tx.now()) });
  });
  await notices.publish(deps);
  return summarise(deps, auth.account.id, (await store.caseWithNames(deps.db, id))!);
}

export const accept = (deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string) =>
  changeCase(deps, auth, id, (tx, row, notices) => acceptPage(tx, row, actor, notices));

export const decline = (deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string) =>
  changeCase(deps, auth, id, (tx, row, notices) => declinePage(tx, row, actor, notices));

export const escalate = (deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string, step?: number) =>
  changeCase(deps, auth, id, (tx, row, notices) => escalatePage(tx, row, actor, notices, step));

/** A consultant marks the consult answered (the answer itself went encrypted into the conversation). */
export const markAnswered = (deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string) =>
  changeCase(deps, auth, id, async (tx, row, notices) => {
    if (row.opened_by === auth.account.id) throw new ConsiliumError('FORBIDDEN', 'the requester does not answer their own consult');
    if (row.status === 'answered') return;
    await store.updateCase(tx.db, row.id, { status: 'answered', answered_at: iso(tx.now()) });
    await recordAudit(tx, auditEvent(tx, actor, 'case.answered', 'U', caseAuditFields(row)));
    notices.add([row.opened_by]);
  });

/**
 * Closes a case (its requester, or whoever accepted the consult). The outcome summary is clinical
 * content: the client sends it encrypted into the conversation before it calls this. Paging stops,
 * and the organisation's retention period starts.
 */
export const closeCase = (deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string) =>
  changeCase(deps, auth, id, async (tx, row, notices) => {
    const page = await store.getPage(tx.db, row.id);
    if (row.opened_by !== auth.account.id && page?.accepted_by !== auth.account.id) {
      throw new ConsiliumError('FORBIDDEN', 'only the requester or the consultant who accepted can close a case');
    }
    const policy = await casePolicy(tx.db, row.organisation_id);
    const now = tx.now();
    await cancelPage(tx, row.id);
    await store.updateCase(tx.db, row.id, {
      status: 'closed',
      closed_at: iso(now),
      closed_by: auth.account.id,
      purge_after: policy.retentionDaysAfterClose === null ? null : iso(addSeconds(now, policy.retentionDaysAfterClose * 86400)),
    });
    await recordAudit(tx, auditEvent(tx, actor, 'case.closed', 'U', { ...caseAuditFields(row), detail: { retentionDays: policy.retentionDaysAfterClose } }));
    notices.add((await conversations.currentMembers(tx.db, row.id)).map((m) => m.account_id));
  });

/** Records that a client exported a closed case (the FHIR bundle is built on the device). */
export async function recordExport(deps: Deps, auth: AuthenticatedSession, actor: Actor, id: string, format: string): Promise<void> {
  const row = await caseForMember(deps, auth, id);
  await recordAudit(deps, auditEvent(deps, actor, 'case.exported', 'R', { ...caseAuditFields(row), detail: { format } }));
}
