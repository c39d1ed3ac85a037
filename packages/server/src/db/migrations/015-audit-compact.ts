import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Audit log storage split in two (issue 4, performance):
 * - audit_entry keeps only the record of truth: (log_id, idx) → the leaf text and its RFC 9162 leaf
 *   hash (32 raw bytes, no longer base64). No secondary index: an append writes one row at the end
 *   of one B-tree. On SQLite the table is WITHOUT ROWID, so the rows are stored in key order and a
 *   verification reads them in one sequential scan (the old table went through a separate primary
 *   key index to a row ~1,200 bytes wide: 11-15 µs a row; this one: ~2.5 µs).
 * - audit_search is what the admin search, exports and the key-transparency lookups query: the
 *   leaf's searchable fields, derived from the leaf by the indexer (audit/indexer.ts) after the
 *   append commits, and brought up to date before every search. audit_index_head records how far
 *   each log is indexed; it is a row of its own so that indexing never locks the log head that
 *   appends take.
 * Existing rows are copied across, indexed.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Kysely runs migrations in a transaction only where DDL is transactional by its account, which
  // leaves SQLite out; SQLite's DDL is transactional too. Without one, a failure after the old
  // table is dropped (a full disk, a killed process) left the new layout with this migration
  // unrecorded, so every later start re-ran it and failed: one transaction, all or nothing.
  // Kysely records the migration after that transaction commits: a crash in between leaves it done
  // but unrecorded. The new layout's table is then there (all or nothing), and this one is done.
  if ((await db.introspection.getTables()).some((t) => t.name === 'audit_search')) return;
  if (db.getExecutor().adapter instanceof PostgresAdapter) await compact(db, true);
  else await db.transaction().execute((trx) => compact(trx, false));
}

async function compact(db: Kysely<any>, postgres: boolean): Promise<void> {
  const bytes = postgres ? 'bytea' : 'blob';

  await db.schema
    .createTable('audit_entry_v2')
    .addColumn('log_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    /** The exact leaf text (UTF-8 JSON) hashed into the tree. */
    .addColumn('leaf', 'text', (c) => c.notNull())
    /** SHA-256(0x00 || leaf), 32 bytes. */
    .addColumn('leaf_hash', sql.raw(bytes), (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_entry_v2_pk', ['log_id', 'idx'])
    .$call((t) => (postgres ? t : t.modifyEnd(sql`without rowid`)))
    .execute();

  await db.schema
    .createTable('audit_search')
    .addColumn('log_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('actor_account_id', 'text')
    .addColumn('case_id', 'text')
    .addPrimaryKeyConstraint('audit_search_pk', ['log_id', 'idx'])
    .$call((t) => (postgres ? t : t.modifyEnd(sql`without rowid`)))
    .execute();

  await db.schema
    .createTable('audit_index_head')
    .addColumn('log_id', 'text', (c) => c.primaryKey())
    /** Entries [0, indexed_size) of the log have their audit_search row. */
    .addColumn('indexed_size', 'integer', (c) => c.notNull())
    .execute();

  if (postgres) {
    await sql`insert into audit_entry_v2 (log_id, idx, leaf, leaf_hash) select log_id, idx, leaf, decode(leaf_hash, 'base64') from audit_entry`.execute(db);
    await sql`insert into audit_search (log_id, idx, at, event_type, outcome, actor_account_id, case_id)
      select log_id, idx, at, event_type, outcome, actor_account_id, case_id from audit_entry`.execute(db);
  } else {
    // SQLite has no base64 decoding in SQL: the hashes are converted here, a page at a time.
    await sql`insert into audit_search (log_id, idx, at, event_type, outcome, actor_account_id, case_id)
      select log_id, idx, at, event_type, outcome, actor_account_id, case_id from audit_entry`.execute(db);
    for (let after: { log_id: string; idx: number } | null = { log_id: '', idx: -1 }; after; ) {
      const rows: { log_id: string; idx: number; leaf: string; leaf_hash: string }[] = await db
        .selectFrom('audit_entry')
        .select(['log_id', 'idx', 'leaf', 'leaf_hash'])
        .where((eb) => eb.or([eb('log_id', '>', after!.log_id), eb.and([eb('log_id', '=', after!.log_id), eb('idx', '>', after!.idx)])]))
        .orderBy('log_id')
        .orderBy('idx')
        .limit(2_000)
        .execute();
      for (let i = 0; i < rows.length; i += 200) {
        await db
          .insertInto('audit_entry_v2')
          .values(rows.slice(i, i + 200).map((r) => ({ log_id: r.log_id, idx: r.idx, leaf: r.leaf, leaf_hash: Buffer.from(r.leaf_hash, 'base64') })))
          .execute();
      }
      const last = rows.at(-1);
      after = last ? { log_id: last.log_id, idx: Number(last.idx) } : null;
    }
  }
  await sql`insert into audit_index_head (log_id, indexed_size) select log_id, size from audit_log_head`.execute(db);

  await db.schema.dropTable('audit_entry').execute();
  await db.schema.alterTable('audit_entry_v2').renameTo('audit_entry').execute();
  // The key keeps the table's name (on SQLite a constraint name is only text in the table's DDL).
  if (postgres) await sql`alter table audit_entry rename constraint audit_entry_v2_pk to audit_entry_pk`.execute(db);

  await db.schema.createIndex('audit_search_at').on('audit_search').columns(['log_id', 'at']).execute();
  await db.schema.createIndex('audit_search_type').on('audit_search').columns(['log_id', 'event_type', 'idx']).execute();
  await db.schema
    .createIndex('audit_search_actor')
    .on('audit_search')
    .columns(['log_id', 'actor_account_id', 'idx'])
    .where(sql.ref('actor_account_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('audit_search_case').on('audit_search').columns(['log_id', 'case_id', 'idx']).where(sql.ref('case_id'), 'is not', null).execute();
}

export async function down(): Promise<void> {
  throw new Error('015-audit-compact cannot be undone: restore the backup taken before the upgrade');
}
