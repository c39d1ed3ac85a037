import type { AuditEntry } from './audit.js';

/** The version field of every leaf this encoder writes. */
export const AUDIT_LEAF_VERSION = 1;

/** An entry without its index: what a caller records; the log adds index and log id. */
export type AuditLeafEvent = Omit<AuditEntry, 'index'>;

/**
 * The canonical bytes of an audit entry, hashed into the log as its RFC 9162 leaf input (UTF-8 of
 * this string): JSON with a fixed key order and `detail` keys sorted, naming its own log and
 * index, so the same event always gives the same leaf and a row moved to another position or log
 * no longer matches its leaf. The server writes leaves with it; a client re-encodes the fields it
 * shows and compares, which proves the text on screen is the text the signed tree commits to.
 */
export function encodeAuditLeaf(logId: string, index: number, e: AuditLeafEvent): string {
  const detail = Object.fromEntries(Object.keys(e.detail).sort().map((k) => [k, e.detail[k]]));
  return JSON.stringify({
    v: AUDIT_LEAF_VERSION,
    log: logId,
    index,
    type: e.type,
    action: e.action,
    outcome: e.outcome,
    at: e.at,
    organisationId: e.organisationId,
    actor: { accountId: e.actor.accountId, role: e.actor.role, email: e.actor.email },
    onBehalfOf: e.onBehalfOf,
    caseId: e.caseId,
    entity: e.entity ? { type: e.entity.type, id: e.entity.id } : null,
    purposeOfUse: e.purposeOfUse,
    networkAddress: e.networkAddress,
    emergency: e.emergency,
    detail,
  });
}
