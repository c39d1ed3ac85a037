/** The record of truth: one row per log entry (see migration 015-audit-compact). */
export interface AuditEntryTable {
  /** Which log: an organisation id, "keys/<organisation id>", or "deployment" for events outside any organisation. */
  log_id: string;
  idx: number;
  /** The exact bytes (UTF-8 JSON) that were hashed into the tree. */
  leaf: string;
  /** RFC 9162 leaf hash of `leaf`, 32 bytes. */
  leaf_hash: Uint8Array;
}
/** An entry's searchable fields, derived from its leaf by the indexer (audit/indexer.ts). */
export interface AuditSearchTable {
  log_id: string;
  idx: number;
  at: string;
  event_type: string;
  outcome: string;
  actor_account_id: string | null;
  case_id: string | null;
}
/** How far the indexer has gone: entries [0, indexed_size) of the log have their audit_search row. */
export interface AuditIndexHeadTable {
  log_id: string;
  indexed_size: number;
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
/** A full tile of the Merkle tree (C2SP tlog-tiles, height 8): see migration 008-audit-perf. */
export interface AuditTileTable {
  log_id: string;
  /** Tile level: its hashes are the nodes at height 8 * level. */
  level: number;
  /** Tile index: its hashes are the nodes [256 * idx, 256 * idx + 256) of that height. */
  idx: number;
  /** 256 hashes of 32 bytes, concatenated. */
  hashes: Uint8Array;
  /** The node at height 8 * (level + 1) above them. */
  root: Uint8Array;
  /**
   * The 254 interior nodes between them and the root (heights 8 * level + 1 to 8 * level + 7, each
   * height left to right, lowest first), or null for tiles written before migration 019.
   */
  nodes: Uint8Array | null;
}
export interface AuditVerifyJobTable {
  id: string;
  log_id: string;
  requested_by: string | null;
  state: 'running' | 'done' | 'failed';
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  /** VerifyReport JSON. */
  report: string | null;
  error: string | null;
}
export type PartialDB = {
  audit_entry: AuditEntryTable;
  audit_search: AuditSearchTable;
  audit_index_head: AuditIndexHeadTable;
  audit_log_head: AuditLogHeadTable;
  audit_checkpoint: AuditCheckpointTable;
  audit_tile: AuditTileTable;
  audit_verify_job: AuditVerifyJobTable;
};
