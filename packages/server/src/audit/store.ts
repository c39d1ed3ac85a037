import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditCheckpointTable, AuditEntryTable } from '../db/schema/audit.js';

/**
 * Reads the log head for update. On PostgreSQL the row lock serialises appends to one log
 * across connections; SQLite transactions are serialised already (one writer).
 */
export async function lockHead(db: Db, dbKind: 'sqlite' | 'postgres', logId: string) {
  await db
    .insertInto('audit_log_head')
    .values({ log_id: logId, size: 0, compact_hashes: '[]', checkpointed_size: 0 })
    .onConflict((oc) => oc.column('log_id').doNothing())
    .execute();
  let q = db.selectFrom('audit_log_head').selectAll().where('log_id', '=', logId);
  if (dbKind === 'postgres') q = q.forUpdate();
  return q.executeTakeFirstOrThrow();
}

export async function writeHead(db: Db, logId: string, size: number, compactHashes: string): Promise<void> {
  await db.updateTable('audit_log_head').set({ size, compact_hashes: compactHashes }).where('log_id', '=', logId).execute();
}

/** Rows per INSERT: 10 columns each stays under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 1000;

export async function insertEntries(db: Db, rows: Insertable<AuditEntryTable>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await db.insertInto('audit_entry').values(rows.slice(i, i + INSERT_CHUNK)).execute();
}

export function getHead(db: Db, logId: string) {
  return db.selectFrom('audit_log_head').selectAll().where('log_id', '=', logId).executeTakeFirst();
}

export function headsAwaitingCheckpoint(db: Db) {
  return db.selectFrom('audit_log_head').selectAll().whereRef('size', '>', 'checkpointed_size').execute();
}

export async function insertCheckpoint(db: Db, row: AuditCheckpointTable): Promise<void> {
  await db.insertInto('audit_checkpoint').values(row).onConflict((oc) => oc.columns(['log_id', 'size']).doNothing()).execute();
  await db.updateTable('audit_log_head').set({ checkpointed_size: row.size }).where('log_id', '=', row.log_id).where('checkpointed_size', '<', row.size).execute();
}

export function latestCheckpoint(db: Db, logId: string) {
  return db.selectFrom('audit_checkpoint').selectAll().where('log_id', '=', logId).orderBy('size', 'desc').limit(1).executeTakeFirst();
}

export function listCheckpoints(db: Db, logId: string) {
  return db.selectFrom('audit_checkpoint').selectAll().where('log_id', '=', logId).orderBy('size', 'asc').execute();
}

export function leafHashRange(db: Db, logId: string, start: number, end: number) {
  return db
    .selectFrom('audit_entry')
    .select(['idx', 'leaf_hash'])
    .where('log_id', '=', logId)
    .where('idx', '>=', start)
    .where('idx', '<', end)
    .orderBy('idx')
    .execute();
}

/** Rows in index order from `start`, at most `limit`: what verification walks. */
export function entriesFrom(db: Db, logId: string, start: number, limit: number) {
  return db.selectFrom('audit_entry').selectAll().where('log_id', '=', logId).where('idx', '>=', start).orderBy('idx').limit(limit).execute();
}

export interface EntryFilter {
  actorAccountId?: string;
  caseId?: string;
  eventType?: string;
  from?: string;
  to?: string;
}

export function searchEntries(db: Db, logId: string, filter: EntryFilter, limit: number, beforeIndex?: number) {
  let q = db.selectFrom('audit_entry').selectAll().where('log_id', '=', logId);
  if (filter.actorAccountId) q = q.where('actor_account_id', '=', filter.actorAccountId);
  if (filter.caseId) q = q.where('case_id', '=', filter.caseId);
  if (filter.eventType) q = q.where('event_type', '=', filter.eventType);
  if (filter.from) q = q.where('at', '>=', filter.from);
  if (filter.to) q = q.where('at', '<', filter.to);
  if (beforeIndex !== undefined) q = q.where('idx', '<', beforeIndex);
  return q.orderBy('idx', 'desc').limit(limit).execute();
}
