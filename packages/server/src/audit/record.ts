import type { AuditAction, AuditEventType, AuditOutcome, PurposeOfUse, Role } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import type { AuditEvent } from './leaf.js';
import { appendAudit, keyLogIdFor } from './log.js';

/** Who did something, from where: built by routes from the session and the request. */
export interface Actor {
  accountId: string | null;
  role: Role | null;
  organisationId: string | null;
  ip: string | null;
  /** Only for failed sign-ins, where no account may exist. */
  email?: string | null;
}

export const systemActor = (organisationId: string | null = null): Actor => ({ accountId: null, role: null, organisationId, ip: null });

export interface EventFields {
  outcome?: AuditOutcome;
  entity?: { type: string; id: string } | null;
  caseId?: string | null;
  onBehalfOf?: string | null;
  purposeOfUse?: PurposeOfUse;
  emergency?: boolean;
  detail?: AuditEvent['detail'];
  /** The log to write to, when not the actor's organisation (e.g. the CLI acting on an organisation). */
  organisationId?: string | null;
}

export function auditEvent(deps: Deps, actor: Actor, type: AuditEventType, action: AuditAction, fields: EventFields = {}): AuditEvent {
  return {
    type,
    action,
    outcome: fields.outcome ?? 'success',
    at: iso(deps.now()),
    organisationId: fields.organisationId !== undefined ? fields.organisationId : actor.organisationId,
    actor: { accountId: actor.accountId, role: actor.role, email: actor.email ?? null },
    onBehalfOf: fields.onBehalfOf ?? null,
    caseId: fields.caseId ?? null,
    entity: fields.entity ?? null,
    purposeOfUse: fields.purposeOfUse ?? 'HOPERAT',
    networkAddress: actor.ip,
    emergency: fields.emergency ?? false,
    detail: fields.detail ?? {},
  };
}

/** Appends events in the caller's transaction (or a new one). */
export async function recordAudit(deps: Deps, ...events: AuditEvent[]): Promise<void> {
  await inTransaction(deps, (tx) => appendAudit(tx.db, tx.dbKind, events));
}

/** Appends a device-key event to the organisation's key-transparency log (in the caller's transaction). */
export async function recordKeyEvent(deps: Deps, organisationId: string, event: AuditEvent): Promise<void> {
  await inTransaction(deps, (tx) => appendAudit(tx.db, tx.dbKind, [event], { logId: keyLogIdFor(organisationId) }));
}
