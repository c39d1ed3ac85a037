export interface AuditEntryTable {
  /** Which log: an organisation id, or "deployment" for events outside any organisation. */
  log_id: string;
  idx: number;
  at: string;
  event_type: string;
  outcome: string;
  organisation_id: string | null;
  actor_account_id: string | null;
  case_id: string | null;
  /** The exact bytes (UTF-8 JSON) that were hashed into the tree; the record of truth. */
  leaf: string;
  /** RFC 9162 leaf hash of `leaf`, base64. */
  leaf_hash: string;
}
export interface AuditLogHeadTable {
  log_id: string;
  size: number;
  /** CompactRange hashes (base64 JSON array): the right edge of the tree at `size`. */
  compact_hashes: string;
  checkpointed_size: number;
}
export interface AuditCheckpointTable {
  log_id: string;
  size: number;
  root_hash: string;
  /** The C2SP signed note, as published. */
  note: string;
  created_at: string;
}
export type PartialDB = {
  audit_entry: AuditEntryTable;
  audit_log_head: AuditLogHeadTable;
  audit_checkpoint: AuditCheckpointTable;
};
