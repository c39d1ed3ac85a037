/**
 * One row per backup, verify or drill run: what the admin console shows, and the server's own
 * record of the manifest chain head (compared with the target's chain to detect a rollback).
 */
export interface BackupRunTable {
  id: string;
  kind: 'backup' | 'verify' | 'drill';
  /** Target name from the configuration. */
  target: string;
  started_at: string;
  finished_at: string | null;
  outcome: 'running' | 'success' | 'failure';
  snapshot_id: string | null;
  seq: number | null;
  /** SHA-256 (hex) of the snapshot's signed manifest. */
  manifest_hash: string | null;
  /** Bytes stored by this run (new objects), and bytes the snapshot covers. */
  bytes_written: number;
  bytes_total: number;
  files: number;
  duration_ms: number | null;
  problems: number;
  /** JSON: mode, restore timings, report path, first problems. */
  detail: string;
}
export type PartialDB = {
  backup_run: BackupRunTable;
};
