import { CompiledQuery, sql, type Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditCheckpointTable, AuditEntryTable, AuditTileTable, AuditVerifyJobTable } from '../db/schema/audit.js';

/**
 * Reads the log head for update, creating it on a log's first append. On PostgreSQL the row lock
 * serialises appends to one log across connections; SQLite transactions are serialised already
 * (one writer). One query on the hot path: the insert runs only when the head is missing.
 */
export async function lockHead(db: Db, dbKind: 'sqlite' | 'postgres', logId: string) {
  const read = () => {
    let q = db.selectFrom('audit_log_head').selectAll().where('log_id', '=', logId);
    if (dbKind === 'postgres') q = q.forUpdate();
    return q.executeTakeFirst();
  };
  const head = await read();
  if (head) return head;
  await db
    .insertInto('audit_log_head')
    .values({ log_id: logId, size: 0, compact_hashes: '[]', checkpointed_size: 0 })
    .onConflict((oc) => oc.column('log_id').doNothing())
    .execute();
  const created = await read();
  if (!created) throw new Error(`audit log head ${logId} vanished`);
  return created;
}

export async function writeHead(db: Db, logId: string, size: number, compactHashes: string): Promise<void> {
  await db.updateTable('audit_log_head').set({ size, compact_hashes: compactHashes }).where('log_id', '=', logId).execute();
}

const ENTRY_COLUMNS = ['log_id', 'idx', 'at', 'event_type', 'outcome', 'organisation_id', 'actor_account_id', 'case_id', 'leaf', 'leaf_hash'] as const;
/** Rows per SQLite INSERT: 10 parameters each stays under its 32,766 bound parameters. */
const INSERT_CHUNK = 500;
const sqliteInserts = new Map<number, string>();
function sqliteInsertSql(rows: number): string {
  let text = sqliteInserts.get(rows);
  if (!text) {
    const tuple = `(${ENTRY_COLUMNS.map(() => '?').join(', ')})`;
    text = `insert into "audit_entry" (${ENTRY_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${Array(rows).fill(tuple).join(', ')}`;
    sqliteInserts.set(rows, text);
  }
  return text;
}

/**
 * Appends entry rows. The SQL text is fixed per row count (a cached string, not a query built per
 * call); PostgreSQL takes one column array per column through unnest, so a batch of any size is one
 * statement with ten parameters.
 */
export async function insertEntries(db: Db, dbKind: 'sqlite' | 'postgres', rows: Insertable<AuditEntryTable>[]): Promise<void> {
  if (rows.length === 0) return;
  if (dbKind === 'postgres') {
    const column = <K extends (typeof ENTRY_COLUMNS)[number]>(k: K) => rows.map((r) => r[k] ?? null);
    await sql`insert into audit_entry (log_id, idx, at, event_type, outcome, organisation_id, actor_account_id, case_id, leaf, leaf_hash)
      select * from unnest(${column('log_id')}::text[], ${column('idx')}::integer[], ${column('at')}::text[], ${column('event_type')}::text[],
        ${column('outcome')}::text[], ${column('organisation_id')}::text[], ${column('actor_account_id')}::text[], ${column('case_id')}::text[],
        ${column('leaf')}::text[], ${column('leaf_hash')}::text[])`.execute(db);
    return;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const params: unknown[] = [];
    for (const r of chunk) for (const c of ENTRY_COLUMNS) params.push(r[c] ?? null);
    await db.executeQuery(CompiledQuery.raw(sqliteInsertSql(chunk.length), params));
  }
}

/** Full tiles written by an append (in its transaction). */
export async function insertTiles(db: Db, rows: AuditTileTable[]): Promise<void> {
  if (rows.length) await db.insertInto('audit_tile').values(rows).execute();
}

/** Stored full tiles of one level, by tile index. */
export function tilesAt(db: Db, logId: string, level: number, indices: number[]) {
  return db.selectFrom('audit_tile').select(['idx', 'hashes']).where('log_id', '=', logId).where('level', '=', level).where('idx', 'in', indices).execute();
}

/** Roots of the stored full tiles of one level with index in [start, end). */
export function tileRoots(db: Db, logId: string, level: number, start: number, end: number) {
  return db
    .selectFrom('audit_tile')
    .select(['idx', 'root'])
    .where('log_id', '=', logId)
    .where('level', '=', level)
    .where('idx', '>=', start)
    .where('idx', '<', end)
    .orderBy('idx')
    .execute();
}

export function getHead(db: Db, logId: string) {
  return db.selectFrom('audit_log_head').selectAll().where('log_id', '=', logId).executeTakeFirst();
}

export async function headSize(db: Db, logId: string): Promise<number> {
  const row = await db.selectFrom('audit_log_head').select('size').where('log_id', '=', logId).executeTakeFirst();
  return Number(row?.size ?? 0);
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

/** What verification reads of each entry, in index order, for indices in [start, end). */
export function verifyRows(db: Db, logId: string, start: number, end: number, limit: number) {
  return db
    .selectFrom('audit_entry')
    .select(['idx', 'leaf', 'leaf_hash', 'at', 'event_type', 'outcome', 'organisation_id', 'actor_account_id', 'case_id'])
    .where('log_id', '=', logId)
    .where('idx', '>=', start)
    .where('idx', '<', end)
    .orderBy('idx')
    .limit(limit)
    .execute();
}

export function insertVerifyJob(db: Db, row: AuditVerifyJobTable) {
  return db.insertInto('audit_verify_job').values(row).execute();
}

export function runningVerifyJob(db: Db, logId: string) {
  return db.selectFrom('audit_verify_job').selectAll().where('log_id', '=', logId).where('state', '=', 'running').executeTakeFirst();
}

export function verifyJob(db: Db, logId: string, id: string) {
  return db.selectFrom('audit_verify_job').selectAll().where('log_id', '=', logId).where('id', '=', id).executeTakeFirst();
}

export function latestVerifyJob(db: Db, logId: string) {
  return db.selectFrom('audit_verify_job').selectAll().where('log_id', '=', logId).orderBy('started_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export async function beatVerifyJob(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('audit_verify_job').set({ heartbeat_at: at }).where('id', '=', id).where('state', '=', 'running').execute();
}

export async function finishVerifyJob(db: Db, id: string, fields: Pick<AuditVerifyJobTable, 'state' | 'finished_at' | 'report' | 'error'>): Promise<void> {
  await db.updateTable('audit_verify_job').set(fields).where('id', '=', id).where('state', '=', 'running').execute();
}

/** Running jobs of a log whose heartbeat is older than `before`: lost with the server that ran them. */
export async function abandonStaleVerifyJobs(db: Db, logId: string, before: string, now: string): Promise<void> {
  await db
    .updateTable('audit_verify_job')
    .set({ state: 'failed', finished_at: now, error: 'the server running this verification stopped before it finished' })
    .where('log_id', '=', logId)
    .where('state', '=', 'running')
    .where('heartbeat_at', '<', before)
    .execute();
}
