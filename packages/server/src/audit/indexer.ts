import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { AuditSearchTable } from '../db/schema/audit.js';
import { decodeLeaf } from './leaf.js';
import { headSize, indexedSize, leafRange } from './store.js';
import { startPeriodic } from '../periodic.js';

/**
 * The audit search index (audit_search, migration 015-audit-compact): each entry's searchable
 * fields, derived from its leaf after the append has committed. Appends write only the record of
 * truth (the leaf), so an action's transaction carries no secondary-index writes; the index follows
 * within a tick of the indexer and every search first brings it up to date (catchUpIndex), so a
 * search never misses an entry that was committed before it began.
 *
 * The index is derived data: it can be rebuilt from the leaves, and `audit verify --index` checks
 * it against them. A search returns leaves, never the indexed fields.
 */

/** Entries indexed per transaction. */
const CHUNK = 5_000;
const SQLITE_ROWS_PER_INSERT = 1_000;
const SEARCH_COLUMNS = ['log_id', 'idx', 'at', 'event_type', 'outcome', 'actor_account_id', 'case_id'] as const;

/**
 * A row already there for an entry the index has not reached was not written by the indexer (it
 * was slipped in behind its back): the entry's own fields replace it.
 */
const UPSERT = SEARCH_COLUMNS.slice(2).map((c) => `${c} = excluded.${c}`).join(', ');

type DbKind = 'sqlite' | 'postgres';

/** The search row of one entry, from its leaf. */
export function searchRowOf(logId: string, idx: number, leaf: string): AuditSearchTable {
  const e = decodeLeaf(leaf);
  return { log_id: logId, idx, at: e.at, event_type: e.type, outcome: e.outcome, actor_account_id: e.actor?.accountId ?? null, case_id: e.caseId ?? null };
}

async function insertSearchRows(db: Db, dbKind: DbKind, rows: AuditSearchTable[]): Promise<void> {
  if (rows.length === 0) return;
  if (dbKind === 'postgres') {
    await sql`insert into audit_search (log_id, idx, at, event_type, outcome, actor_account_id, case_id)
      select log_id, idx, at, event_type, outcome, actor_account_id, case_id
      from json_to_recordset(${JSON.stringify(rows)}::json)
        as x(log_id text, idx integer, at text, event_type text, outcome text, actor_account_id text, case_id text)
      on conflict (log_id, idx) do update set ${sql.raw(UPSERT)}`.execute(db);
    return;
  }
  for (let i = 0; i < rows.length; i += SQLITE_ROWS_PER_INSERT) {
    const chunk = rows.slice(i, i + SQLITE_ROWS_PER_INSERT);
    const params: unknown[] = [];
    for (const r of chunk) for (const c of SEARCH_COLUMNS) params.push(r[c]);
    const tuple = `(${SEARCH_COLUMNS.map(() => '?').join(', ')})`;
    const text = `insert into audit_search (${SEARCH_COLUMNS.join(', ')}) values ${Array(chunk.length).fill(tuple).join(', ')} on conflict (log_id, idx) do update set ${UPSERT}`;
    await db.executeQuery(CompiledQuery.raw(text, params));
  }
}

/**
 * Indexes up to `max` entries of one log past where its index stands, in one transaction that
 * holds the log's index head (so two server nodes never index the same entries). Returns how many
 * it indexed; 0 when the index is up to date.
 */
export async function indexLog(db: Db, dbKind: DbKind, logId: string, max = CHUNK): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('audit_index_head').values({ log_id: logId, indexed_size: 0 }).onConflict((oc) => oc.column('log_id').doNothing()).execute();
    let q = trx.selectFrom('audit_index_head').select('indexed_size').where('log_id', '=', logId);
    if (dbKind === 'postgres') q = q.forUpdate();
    const from = Number((await q.executeTakeFirstOrThrow()).indexed_size);
    const to = Math.min(await headSize(trx, logId), from + max);
    if (to <= from) return 0;
    const leaves = await leafRange(trx, logId, from, to, to - from);
    const rows: AuditSearchTable[] = [];
    for (const r of leaves) {
      try {
        rows.push(searchRowOf(logId, Number(r.idx), r.leaf));
      } catch {
        // A leaf that is not JSON was altered behind the log's back: verify reports it; the index
        // skips it rather than stop indexing everything after it.
      }
    }
    await insertSearchRows(trx, dbKind, rows);
    await trx.updateTable('audit_index_head').set({ indexed_size: to }).where('log_id', '=', logId).execute();
    return to - from;
  });
}

/**
 * Brings one log's index up to date with its head (as of now): what every search does first. Two
 * reads when it is (the usual case, the indexer runs every 250 ms); a write transaction only when not.
 */
export async function catchUpIndex(db: Db, dbKind: DbKind, logId: string): Promise<void> {
  const [indexed, size] = await Promise.all([indexedSize(db, logId), headSize(db, logId)]);
  if (indexed >= size) return;
  while ((await indexLog(db, dbKind, logId)) > 0);
}

/** Logs whose index is behind their head. */
async function laggingLogs(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('audit_log_head as h')
    .leftJoin('audit_index_head as i', 'i.log_id', 'h.log_id')
    .select('h.log_id')
    .where((eb) => eb('h.size', '>', eb.fn.coalesce('i.indexed_size', sql.lit(0))))
    .execute();
  return rows.map((r) => r.log_id);
}

/**
 * Indexes, a chunk per transaction, until every log's index has caught up with its head (or
 * `betweenChunks` answers false). Returns how many entries it indexed.
 */
export async function indexAllLogs(db: Db, dbKind: DbKind, betweenChunks: () => Promise<boolean> = async () => true): Promise<number> {
  let total = 0;
  for (let logs = await laggingLogs(db); logs.length > 0; logs = await laggingLogs(db)) {
    for (const logId of logs) {
      total += await indexLog(db, dbKind, logId);
      if (!(await betweenChunks())) return total;
    }
  }
  return total;
}

/**
 * Runs the indexer every `everyMs` while the server runs; between chunks it gives the event loop a
 * turn, so requests are served while a backlog is indexed.
 */
export function startIndexer(db: Db, dbKind: DbKind, onError: (err: unknown) => void, everyMs = 250) {
  return startPeriodic((stopping) => indexAllLogs(db, dbKind, () => new Promise((resolve) => setImmediate(() => resolve(!stopping())))), everyMs, onError);
}
