import type { CasePolicy, UpdateCasePolicyBody, Urgency } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import type { Db } from '../db/database.js';
import * as store from './store.js';

/** Field defaults (TigerConnect, Teams): urgent 15 min per step, emergency 5 min, re-notify every 2 min. */
export const DEFAULT_CASE_POLICY: CasePolicy = {
  urgentStepSeconds: 15 * 60,
  emergencyStepSeconds: 5 * 60,
  renotifySeconds: 2 * 60,
  urgentPerHour: 10,
  retentionDaysAfterClose: null,
  messageExpiryDays: null,
};

export async function casePolicy(db: Db, organisationId: string): Promise<CasePolicy> {
  const row = await store.getPolicy(db, organisationId);
  if (!row) return DEFAULT_CASE_POLICY;
  return {
    urgentStepSeconds: Number(row.urgent_step_seconds),
    emergencyStepSeconds: Number(row.emergency_step_seconds),
    renotifySeconds: Number(row.renotify_seconds),
    urgentPerHour: Number(row.urgent_per_hour),
    retentionDaysAfterClose: row.retention_days_after_close === null ? null : Number(row.retention_days_after_close),
    messageExpiryDays: row.message_expiry_days === null ? null : Number(row.message_expiry_days),
  };
}

export function stepSeconds(policy: CasePolicy, urgency: Urgency): number {
  return urgency === 'emergency' ? policy.emergencyStepSeconds : policy.urgentStepSeconds;
}

export async function updateCasePolicy(deps: Deps, actor: Actor, organisationId: string, changes: UpdateCasePolicyBody): Promise<CasePolicy> {
  return inTransaction(deps, async (tx) => {
    const next = { ...(await casePolicy(tx.db, organisationId)), ...changes };
    await store.upsertPolicy(tx.db, {
      organisation_id: organisationId,
      urgent_step_seconds: next.urgentStepSeconds,
      emergency_step_seconds: next.emergencyStepSeconds,
      renotify_seconds: next.renotifySeconds,
      urgent_per_hour: next.urgentPerHour,
      retention_days_after_close: next.retentionDaysAfterClose,
      message_expiry_days: next.messageExpiryDays,
      updated_at: iso(tx.now()),
    });
    const detail = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v ?? null]));
    await recordAudit(tx, auditEvent(tx, actor, 'case.policy_changed', 'U', { entity: { type: 'organisation', id: organisationId }, purposeOfUse: 'HSYSADMIN', detail }));
    return next;
  });
}
