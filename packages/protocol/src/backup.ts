import { z } from 'zod';
import { Timestamp } from './common.js';

/** One backup, verify or drill run, as the admin console lists it. */
export const BackupRunSummary = z.strictObject({
  id: z.string(),
  kind: z.enum(['backup', 'verify', 'drill']),
  target: z.string(),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
  outcome: z.enum(['running', 'success', 'failure']),
  snapshotId: z.string().nullable(),
  seq: z.number().int().nullable(),
  bytesWritten: z.number().int().nonnegative(),
  bytesTotal: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
  durationMs: z.number().int().nullable(),
  /** Drills: the time to restore alone. */
  restoreMs: z.number().int().nullable(),
  problems: z.number().int().nonnegative(),
  /** verify: structure, read-data or read-data-subset. */
  mode: z.string().nullable(),
  error: z.string().nullable(),
  /** Drills: each restore check (integrity, row counts, audit verify, blobs) and its result. */
  checks: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), detail: z.string() })).nullable(),
});
export type BackupRunSummary = z.infer<typeof BackupRunSummary>;

export const BackupTargetStatus = z.strictObject({
  name: z.string(),
  type: z.enum(['local', 'sftp']),
  location: z.string(),
  medium: z.string(),
  offsite: z.boolean(),
  immutable: z.boolean(),
  /** Newest snapshot this server recorded on the target. */
  latestSeq: z.number().int().nullable(),
  lastBackupAt: Timestamp.nullable(),
});
export type BackupTargetStatus = z.infer<typeof BackupTargetStatus>;

/** One rule of 3-2-1-1-0: 3 copies, 2 media, 1 off-site, 1 immutable, 0 errors in verification. */
export const BackupRuleCheck = z.strictObject({ have: z.number().int().nonnegative(), need: z.number().int().nonnegative(), ok: z.boolean(), note: z.string() });

export const BackupStatus = z.strictObject({
  /** Cron expression of the server's schedule, or null when scheduled backups are off. */
  schedule: z.string().nullable(),
  /** Cron expression of the server's own restore drill, or null when it does not run here (off, or no drill identity). */
  drillSchedule: z.string().nullable(),
  recipients: z.number().int().nonnegative(),
  /** The Ed25519 verifier key that signs manifests (what offline verifiers pin). */
  verifierKey: z.string(),
  lastBackup: BackupRunSummary.nullable(),
  lastVerify: BackupRunSummary.nullable(),
  lastDrill: BackupRunSummary.nullable(),
  targets: z.array(BackupTargetStatus),
  rule: z.strictObject({ copies: BackupRuleCheck, media: BackupRuleCheck, offsite: BackupRuleCheck, immutable: BackupRuleCheck, errors: BackupRuleCheck }),
  history: z.array(BackupRunSummary),
});
export type BackupStatus = z.infer<typeof BackupStatus>;
