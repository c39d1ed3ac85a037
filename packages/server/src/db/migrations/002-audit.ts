import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_entry')
    .addColumn('log_id', 'text', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('organisation_id', 'text')
    .addColumn('actor_account_id', 'text')
    .addColumn('case_id', 'text')
    .addColumn('leaf', 'text', (c) => c.notNull())
    .addColumn('leaf_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_entry_pk', ['log_id', 'idx'])
    .execute();
  await db.schema.createIndex('audit_entry_at').on('audit_entry').columns(['log_id', 'at']).execute();
  await db.schema.createIndex('audit_entry_actor').on('audit_entry').columns(['log_id', 'actor_account_id']).execute();
  await db.schema.createIndex('audit_entry_case').on('audit_entry').columns(['log_id', 'case_id']).execute();
  await db.schema.createIndex('audit_entry_type').on('audit_entry').columns(['log_id', 'event_type']).execute();

  await db.schema
    .createTable('audit_log_head')
    .addColumn('log_id', 'text', (c) => c.primaryKey())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('compact_hashes', 'text', (c) => c.notNull())
    .addColumn('checkpointed_size', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_checkpoint')
    .addColumn('log_id', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('root_hash', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoint_pk', ['log_id', 'size'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['audit_checkpoint', 'audit_log_head', 'audit_entry']) await db.schema.dropTable(t).execute();
}
