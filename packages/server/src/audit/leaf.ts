import { AUDIT_LEAF_VERSION, encodeAuditLeaf, type AuditEntry } from '@consilium/protocol';

export const LEAF_VERSION = AUDIT_LEAF_VERSION;

/** What a caller records; the log adds index and log id. */
export type AuditEvent = Omit<AuditEntry, 'index'>;

/** The leaf bytes hashed into the tree: the encoder shared with clients (protocol's encodeAuditLeaf). */
export const encodeLeaf = encodeAuditLeaf;

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
