import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Audit log at scale (issue 4, performance):
 * - audit_tile: the log's Merkle tree in C2SP tlog-tiles shape (https://c2sp.org/tlog-tiles):
 *   tiles of height 8, each the 256 node hashes of one level of a 256-wide stretch of the tree,
 *   written once full. A proof then reads O(log n / 8) tiles instead of rehashing leaves.
 * - The search indexes on columns most entries leave empty (case, actor) become partial: every
 *   index is written on each append, and entries without a case or actor need none there.
 * - audit_verify_job: admin-started verifications run in the background, one at a time per log.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema
    .createTable('audit_tile')
    .addColumn('log_id', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    /** 256 hashes of 32 bytes, left to right: the nodes at height 8 * level. */
    .addColumn('hashes', sql.raw(bytes), (c) => c.notNull())
    /** The root of the tile: the node at height 8 * (level + 1) that the next level up holds. */
    .addColumn('root', sql.raw(bytes), (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_tile_pk', ['log_id', 'level', 'idx'])
    .execute();

  await db.schema.dropIndex('audit_entry_case').execute();
  await db.schema.dropIndex('audit_entry_actor').execute();
  await db.schema.createIndex('audit_entry_case').on('audit_entry').columns(['log_id', 'case_id']).where(sql.ref('case_id'), 'is not', null).execute();
  await db.schema.createIndex('audit_entry_actor').on('audit_entry').columns(['log_id', 'actor_account_id']).where(sql.ref('actor_account_id'), 'is not', null).execute();

  await db.schema
    .createTable('audit_verify_job')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('log_id', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    /** Moved forward while the job runs; a running job whose heartbeat stopped was lost with its server. */
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    /** The VerifyReport as JSON, once finished. */
    .addColumn('report', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('audit_verify_job_log').on('audit_verify_job').columns(['log_id', 'started_at']).execute();
  // At most one running verification per log, whichever server node starts it.
  await db.schema.createIndex('audit_verify_job_running').on('audit_verify_job').column('log_id').unique().where(sql.ref('state'), '=', 'running').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_verify_job').execute();
  await db.schema.dropTable('audit_tile').execute();
  await db.schema.dropIndex('audit_entry_case').execute();
  await db.schema.dropIndex('audit_entry_actor').execute();
  await db.schema.createIndex('audit_entry_actor').on('audit_entry').columns(['log_id', 'actor_account_id']).execute();
  await db.schema.createIndex('audit_entry_case').on('audit_entry').columns(['log_id', 'case_id']).execute();
}
