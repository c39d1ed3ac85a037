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

/** Rows per SQLite INSERT: 4 parameters each, well under its 32,766 bound parameters. */
const INSERT_CHUNK = 1_000;
const sqliteInserts = new Map<number, string>();
function sqliteInsertSql(rows: number): string {
  let text = sqliteInserts.get(rows);
  if (!text) {
    text = `insert into "audit_entry" ("log_id", "idx", "leaf", "leaf_hash") values ${Array(rows).fill('(?, ?, ?, ?)').join(', ')}`;
    sqliteInserts.set(rows, text);
  }
  return text;
}

/**
 * Appends entry rows. The SQL text is fixed per row count (a cached string, not a query built per
 * call). PostgreSQL takes the leaves as one JSON array parameter (JSON.stringify escapes them in C++,
 * where pg's text[] literal escapes each quote in JavaScript) and the hashes as one bytea of 32-byte
 * slices, so a batch of any size is one statement with four parameters.
 */
export async function insertEntries(db: Db, dbKind: 'sqlite' | 'postgres', rows: Insertable<AuditEntryTable>[]): Promise<void> {
  if (rows.length === 0) return;
  if (rows.some((r, i) => r.log_id !== rows[0]!.log_id || r.idx !== rows[0]!.idx + i)) throw new Error('insertEntries takes consecutive entries of one log');
  if (dbKind === 'postgres') {
    const hashes = Buffer.concat(rows.map((r) => r.leaf_hash));
    await sql`insert into audit_entry (log_id, idx, leaf, leaf_hash)
      select ${rows[0]!.log_id}::text, ${rows[0]!.idx}::integer + (l.n - 1)::integer, l.leaf, substring(${hashes}::bytea from ((l.n - 1) * 32 + 1)::integer for 32)
      from json_array_elements_text(${JSON.stringify(rows.map((r) => r.leaf))}::json) with ordinality as l(leaf, n)`.execute(db);
    return;
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const params: unknown[] = new Array(chunk.length * 4);
    let p = 0;
    for (const r of chunk) {
      params[p++] = r.log_id;
      params[p++] = r.idx;
      params[p++] = r.leaf;
      params[p++] = r.leaf_hash;
    }
    await db.executeQuery(CompiledQuery.raw(sqliteInsertSql(chunk.length), params));
  }
}

/** Full tiles written by an append (in its transaction). */
export async function insertTiles(db: Db, rows: AuditTileTable[]): Promise<void> {
  if (rows.length) await db.insertInto('audit_tile').values(rows).execute();
}

/** Stored full tiles of one level, by tile index. */
export function tilesAt(db: Db, logId: string, level: number, indices: number[]) {
  return db.selectFrom('audit_tile').select(['idx', 'hashes', 'nodes']).where('log_id', '=', logId).where('level', '=', level).where('idx', 'in', indices).execute();
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

/**
 * Entries whose indexed fields match, newest first, with their leaves (the record of truth). Only
 * entries the indexer has reached are found: callers bring the index up to date first
 * (indexer.ts catchUpIndex).
 */
export function searchEntries(db: Db, logId: string, filter: EntryFilter, limit: number, beforeIndex?: number) {
  let q = db
    .selectFrom('audit_search as s')
    .innerJoin('audit_entry as e', (j) => j.onRef('e.log_id', '=', 's.log_id').onRef('e.idx', '=', 's.idx'))
    .select(['e.idx', 'e.leaf'])
    .where('s.log_id', '=', logId);
  if (filter.actorAccountId) q = q.where('s.actor_account_id', '=', filter.actorAccountId);
  if (filter.caseId) q = q.where('s.case_id', '=', filter.caseId);
  if (filter.eventType) q = q.where('s.event_type', '=', filter.eventType);
  if (filter.from) q = q.where('s.at', '>=', filter.from);
  if (filter.to) q = q.where('s.at', '<', filter.to);
  if (beforeIndex !== undefined) q = q.where('s.idx', '<', beforeIndex);
  return q.orderBy('s.idx', 'desc').limit(limit).execute();
}

/** Entries (index, leaf, leaf hash) with index in [start, end), in index order, at most `limit`. */
export function leafRange(db: Db, logId: string, start: number, end: number, limit: number) {
  return db
    .selectFrom('audit_entry')
    .select(['idx', 'leaf', 'leaf_hash'])
    .where('log_id', '=', logId)
    .where('idx', '>=', start)
    .where('idx', '<', end)
    .orderBy('idx')
    .limit(limit)
    .execute();
}

/** Search index rows of a log with index in [start, end), in index order, at most `limit`. */
export function searchRows(db: Db, logId: string, start: number, end: number, limit?: number) {
  let q = db.selectFrom('audit_search').selectAll().where('log_id', '=', logId).where('idx', '>=', start).where('idx', '<', end).orderBy('idx');
  if (limit !== undefined) q = q.limit(limit);
  return q.execute();
}

/** How far the search index of a log reaches: entries [0, n) are indexed. */
export async function indexedSize(db: Db, logId: string): Promise<number> {
  const row = await db.selectFrom('audit_index_head').select('indexed_size').where('log_id', '=', logId).executeTakeFirst();
  return Number(row?.indexed_size ?? 0);
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
