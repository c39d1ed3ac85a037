/**
 * Durable paging of urgent and emergency consults (the PagerDuty/Opsgenie model the field uses):
 * the people on the current step are notified and re-notified until one accepts; a step times out
 * into the next non-empty one; when every step has timed out the consult is `unanswered` and the
 * requester is told. Timers are rows (`next_action_at`), not in-memory timeouts: a server killed
 * mid-escalation fires the next step when it is back, late by at most a tick. Every change names the
 * page version it read, so a timer racing an accept, or two nodes ticking at once, change it once.
 */
import type { Urgency } from '@consilium/protocol';
import { ConsiliumError } from '../errors.js';
import { addSeconds, inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, systemActor, type Actor } from '../audit/record.js';
import type { CasePageTable, PatientCaseTable } from '../db/schema/cases.js';
import { casePolicy, stepSeconds } from './policy.js';
import type { ChainStep } from './oncall.js';
import { CaseNotices } from './notify.js';
import * as store from './store.js';

type Page = CasePageTable;

/**
 * The audit fields every case event carries: the pseudonymous case id, and the case's organisation
 * (the timer loop acts as the system, which has none of its own).
 */
export function caseAuditFields(caseRow: Pick<PatientCaseTable, 'id' | 'organisation_id'>) {
  return { organisationId: caseRow.organisation_id, caseId: caseRow.id, entity: { type: 'case', id: caseRow.id }, purposeOfUse: 'TREAT' as const };
}

/** Starts paging step one of `chain` (inside the transaction that opens the case). */
export async function startPage(tx: Deps, caseRow: PatientCaseTable, chain: ChainStep[], actor: Actor, notices: CaseNotices): Promise<void> {
  const now = tx.now();
  const policy = await casePolicy(tx.db, caseRow.organisation_id);
  const first = chain[0]!;
  await store.insertPage(
    tx.db,
    {
      case_id: caseRow.id,
      organisation_id: caseRow.organisation_id,
      state: 'paging',
      step: first.step,
      step_count: chain.length,
      step_started_at: iso(now),
      next_action_at: iso(nextActionAt(now, now, stepSeconds(policy, caseRow.urgency as Urgency), policy.renotifySeconds)),
      notifications: 1,
      accepted_by: null,
      accepted_at: null,
      version: 0,
    },
    chain.flatMap((s) => s.people.map((p) => ({ case_id: caseRow.id, step: s.step, account_id: p.accountId, notified_at: null, declined_at: null }))),
  );
  await notifyStep(tx, caseRow, first.step, actor, 'case.paged', notices);
}

function nextActionAt(stepStarted: Date, lastNotified: Date, stepSecs: number, renotifySecs: number): Date {
  const timeout = addSeconds(stepStarted, stepSecs);
  const renotify = addSeconds(lastNotified, renotifySecs);
  return renotify < timeout ? renotify : timeout;
}

async function notifyStep(tx: Deps, caseRow: PatientCaseTable, step: number, actor: Actor, type: 'case.paged' | 'case.renotified', notices: CaseNotices): Promise<void> {
  const at = iso(tx.now());
  await store.markNotified(tx.db, caseRow.id, step, at);
  const targets = (await store.pageTargets(tx.db, caseRow.id)).filter((t) => Number(t.step) === step && !t.declined_at);
  await recordAudit(
    tx,
    auditEvent(tx, actor, type, 'E', {
      ...caseAuditFields(caseRow),
      detail: { step, urgency: caseRow.urgency, notified: targets.map((t) => t.account_id).join(',') },
    }),
  );
  notices.add(targets.map((t) => t.account_id));
}

/** The next step after `from` that still has someone who has not declined; null when none is left. */
async function nextStep(tx: Deps, caseId: string, from: number): Promise<number | null> {
  const targets = await store.pageTargets(tx.db, caseId);
  const steps = [...new Set(targets.filter((t) => Number(t.step) > from && !t.declined_at).map((t) => Number(t.step)))].sort((a, b) => a - b);
  return steps[0] ?? null;
}

/**
 * Moves the page on to `toStep` (or the next non-empty step); with none left it is `unanswered` and
 * the requester is told. Returns false when the page changed under us (someone else acted first).
 */
async function escalate(tx: Deps, page: Page, caseRow: PatientCaseTable, actor: Actor, notices: CaseNotices, reason: 'timeout' | 'declined' | 'manual', toStep?: number): Promise<boolean> {
  const now = tx.now();
  const policy = await casePolicy(tx.db, caseRow.organisation_id);
  const target = toStep ?? (await nextStep(tx, caseRow.id, Number(page.step)));
  const base = caseAuditFields(caseRow);
  if (target === null) {
    const ok = await store.updatePage(tx.db, caseRow.id, Number(page.version), { state: 'unanswered', next_action_at: null });
    if (!ok) return false;
    await recordAudit(tx, auditEvent(tx, actor, 'case.unanswered', 'E', { ...base, outcome: 'failure', detail: { step: Number(page.step), reason } }));
    notices.add([caseRow.opened_by]);
    return true;
  }
  const ok = await store.updatePage(tx.db, caseRow.id, Number(page.version), {
    step: target,
    step_started_at: iso(now),
    next_action_at: iso(nextActionAt(now, now, stepSeconds(policy, caseRow.urgency as Urgency), policy.renotifySeconds)),
    notifications: Number(page.notifications) + 1,
  });
  if (!ok) return false;
  await recordAudit(tx, auditEvent(tx, actor, 'case.escalated', 'E', { ...base, detail: { from: Number(page.step), to: target, reason } }));
  await notifyStep(tx, caseRow, target, actor, 'case.paged', notices);
  notices.add([caseRow.opened_by]);
  return true;
}

/** One due page: re-notify the current step, or escalate when the step has timed out. */
async function fire(deps: Deps, due: Page): Promise<void> {
  const notices = new CaseNotices(due.case_id);
  await inTransaction(deps, async (tx) => {
    const page = await store.getPage(tx.db, due.case_id);
    // Someone acted since the list was read (accept, decline, another node's tick): nothing to do.
    if (!page || page.state !== 'paging' || Number(page.version) !== Number(due.version)) return;
    const caseRow = (await store.getCase(tx.db, page.case_id))!;
    const policy = await casePolicy(tx.db, caseRow.organisation_id);
    const now = tx.now();
    const actor = systemActor(caseRow.organisation_id);
    const timeout = addSeconds(new Date(page.step_started_at), stepSeconds(policy, caseRow.urgency as Urgency));
    if (now >= timeout) {
      await escalate(tx, page, caseRow, actor, notices, 'timeout');
      return;
    }
    const ok = await store.updatePage(tx.db, page.case_id, Number(page.version), {
      notifications: Number(page.notifications) + 1,
      next_action_at: iso(nextActionAt(new Date(page.step_started_at), now, stepSeconds(policy, caseRow.urgency as Urgency), policy.renotifySeconds)),
    });
    if (ok) await notifyStep(tx, caseRow, Number(page.step), actor, 'case.renotified', notices);
  });
  await notices.publish(deps);
}

/** Fires every page whose timer is due (called by the timer loop; safe to run on several nodes). */
export async function firePagesDue(deps: Deps, limit = 100): Promise<number> {
  const due = await store.duePages(deps.db, iso(deps.now()), limit);
  for (const page of due) await fire(deps, page);
  return due.length;
}

async function livePage(tx: Deps, caseId: string): Promise<Page> {
  const page = await store.getPage(tx.db, caseId);
  if (!page) throw new ConsiliumError('CONFLICT', 'this consult is routine: nobody is paged');
  return page;
}


/** Only an explicit accept stops paging (reading the consult does not). Anyone on the chain may accept. */
export async function acceptPage(tx: Deps, caseRow: PatientCaseTable, actor: Actor, notices: CaseNotices): Promise<void> {
  const page = await livePage(tx, caseRow.id);
  if (page.state === 'accepted') throw new ConsiliumError('CONFLICT', 'this consult was already accepted');
  if (page.state === 'cancelled') throw new ConsiliumError('CASE_CLOSED', 'this consult was closed');
  const targets = await store.pageTargets(tx.db, caseRow.id);
  if (!targets.some((t) => t.account_id === actor.accountId)) throw new ConsiliumError('FORBIDDEN', 'only someone on the on-call chain of this consult can accept it');
  const at = iso(tx.now());
  if (!(await store.updatePage(tx.db, caseRow.id, Number(page.version), { state: 'accepted', accepted_by: actor.accountId, accepted_at: at, next_action_at: null }))) {
    throw new ConsiliumError('CONFLICT', 'the consult changed meanwhile; look again');
  }
  await recordAudit(tx, auditEvent(tx, actor, 'case.accepted', 'U', { ...caseAuditFields(caseRow), detail: { step: Number(page.step), late: page.state === 'unanswered' } }));
  // Every device of everyone involved stops alerting, and the requester sees who took it.
  notices.add([caseRow.opened_by, ...targets.map((t) => t.account_id)]);
}

/** Declining moves on at once when everyone on the current step has declined. */
export async function declinePage(tx: Deps, caseRow: PatientCaseTable, actor: Actor, notices: CaseNotices): Promise<void> {
  const page = await livePage(tx, caseRow.id);
  if (page.state !== 'paging') throw new ConsiliumError('CONFLICT', `this consult is ${page.state}, not paging`);
  const targets = await store.pageTargets(tx.db, caseRow.id);
  const onStep = targets.filter((t) => Number(t.step) === Number(page.step));
  const mine = onStep.find((t) => t.account_id === actor.accountId);
  if (!mine) throw new ConsiliumError('FORBIDDEN', 'you are not being paged for this consult now');
  if (mine.declined_at) throw new ConsiliumError('CONFLICT', 'you already declined');
  await store.markDeclined(tx.db, caseRow.id, Number(page.step), actor.accountId!, iso(tx.now()));
  await recordAudit(tx, auditEvent(tx, actor, 'case.declined', 'U', { ...caseAuditFields(caseRow), detail: { step: Number(page.step) } }));
  if (onStep.every((t) => t.account_id === actor.accountId || t.declined_at)) {
    if (!(await escalate(tx, page, caseRow, actor, notices, 'declined'))) throw new ConsiliumError('CONFLICT', 'the consult changed meanwhile; look again');
  } else {
    notices.add([caseRow.opened_by]);
  }
}

/**
 * Anyone on the case escalates by hand: to a chosen step, or to the next one. An unanswered consult
 * escalated by hand pages again (from step one, unless a step is chosen).
 */
export async function escalatePage(tx: Deps, caseRow: PatientCaseTable, actor: Actor, notices: CaseNotices, toStep?: number): Promise<void> {
  let page = await livePage(tx, caseRow.id);
  if (page.state !== 'paging' && page.state !== 'unanswered') throw new ConsiliumError('CONFLICT', `this consult is ${page.state}`);
  const targets = await store.pageTargets(tx.db, caseRow.id);
  let target: number | null | undefined = toStep;
  if (target !== undefined && !targets.some((t) => Number(t.step) === target)) throw new ConsiliumError('VALIDATION_FAILED', `step ${target} has nobody on it`);
  if (page.state === 'unanswered') {
    target ??= Math.min(...targets.map((t) => Number(t.step)));
    if (!(await store.updatePage(tx.db, caseRow.id, Number(page.version), { state: 'paging' }))) throw new ConsiliumError('CONFLICT', 'the consult changed meanwhile; look again');
    page = { ...page, state: 'paging', version: Number(page.version) + 1 };
  } else if (target === undefined && (await nextStep(tx, caseRow.id, Number(page.step))) === null) {
    throw new ConsiliumError('CONFLICT', 'there is no further step to escalate to');
  }
  if (!(await escalate(tx, page, caseRow, actor, notices, 'manual', target))) throw new ConsiliumError('CONFLICT', 'the consult changed meanwhile; look again');
}

/** Closing a case ends its paging. */
export async function cancelPage(tx: Deps, caseId: string): Promise<void> {
  const page = await store.getPage(tx.db, caseId);
  if (page && (page.state === 'paging' || page.state === 'unanswered')) await store.updatePage(tx.db, caseId, Number(page.version), { state: 'cancelled', next_action_at: null });
}
