import type { AuditEntry } from '@consilium/protocol';

export const LEAF_VERSION = 1;

/** What a caller records; the log adds index and log id. */
export type AuditEvent = Omit<AuditEntry, 'index'>;

/**
 * The bytes hashed into the tree: JSON with a fixed key order, so the same event always gives the
 * same leaf, and the leaf names its own log and index (a row moved to another position or log no
 * longer matches its leaf, which verification reports).
 */
export function encodeLeaf(logId: string, index: number, e: AuditEvent): string {
  const detail = Object.fromEntries(Object.keys(e.detail).sort().map((k) => [k, e.detail[k]]));
  return JSON.stringify({
    v: LEAF_VERSION,
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

export interface DecodedLeaf extends AuditEntry {
  v: number;
  log: string;
}

export function decodeLeaf(leaf: string): DecodedLeaf {
  return JSON.parse(leaf) as DecodedLeaf;
}

export function toAuditEntry(leaf: DecodedLeaf): AuditEntry {
  const { v: _v, log: _log, ...entry } = leaf;
  return entry;
}
