import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type { BackupRunTable } from '../db/schema/backup.js';
import type { RecordedSnapshot } from './chain.js';

export type BackupRun = Selectable<BackupRunTable>;

export async function insertRun(db: Db, row: Insertable<BackupRunTable>): Promise<void> {
  await db.insertInto('backup_run').values(row).execute();
}

/** Records a run as it starts; its outcome and figures are filled in when it ends. */
export async function insertStartedRun(db: Db, id: string, kind: BackupRunTable['kind'], target: string, startedAt: string): Promise<void> {
  await insertRun(db, {
    id,
    kind,
    target,
    started_at: startedAt,
    finished_at: null,
    outcome: 'running',
    snapshot_id: null,
    seq: null,
    manifest_hash: null,
    bytes_written: 0,
    bytes_total: 0,
    files: 0,
    duration_ms: null,
    problems: 0,
    detail: '{}',
  });
}

export async function updateRun(db: Db, id: string, fields: Updateable<BackupRunTable>): Promise<void> {
  await db.updateTable('backup_run').set(fields).where('id', '=', id).execute();
}

/** Snapshots this server wrote to a target and recorded as successful, oldest first. */
/** The snapshots this deployment wrote to `target` and recorded, as the chain check takes them. */
export async function recordedChain(db: Db, target: string): Promise<RecordedSnapshot[]> {
  return (await recordedSnapshots(db, target)).map((r) => ({ seq: Number(r.seq), snapshotId: r.snapshot_id!, manifestHash: r.manifest_hash! }));
}

export function recordedSnapshots(db: Db, target: string) {
  return db
    .selectFrom('backup_run')
    .select(['seq', 'snapshot_id', 'manifest_hash'])
    .where('kind', '=', 'backup')
    .where('target', '=', target)
    .where('outcome', '=', 'success')
    .orderBy('seq')
    .execute();
}

export function latestRun(db: Db, kind: BackupRunTable['kind'], outcome?: BackupRunTable['outcome']) {
  let q = db.selectFrom('backup_run').selectAll().where('kind', '=', kind);
  if (outcome) q = q.where('outcome', '=', outcome);
  return q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export function listRuns(db: Db, limit: number) {
  return db.selectFrom('backup_run').selectAll().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

export function latestRunForTarget(db: Db, kind: BackupRunTable['kind'], target: string) {
  return db.selectFrom('backup_run').selectAll().where('kind', '=', kind).where('target', '=', target).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

/** Rows per table of the live database, for the tables a snapshot counts. */
export function auditHeads(db: Db) {
  return db.selectFrom('audit_log_head').select(['log_id']).execute();
}

/** Backup runs still marked running when the lock is free were interrupted (kill -9, power loss). */
export async function markInterrupted(db: Db, finishedAt: string): Promise<void> {
  await db
    .updateTable('backup_run')
    .set({ outcome: 'failure', finished_at: finishedAt, problems: 1, detail: JSON.stringify({ error: 'interrupted: the process ended before the run finished; no snapshot was written' }) })
    .where('kind', '=', 'backup')
    .where('outcome', '=', 'running')
    .execute();
}
