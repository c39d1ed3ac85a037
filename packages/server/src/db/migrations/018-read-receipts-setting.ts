import type { Kysely } from 'kysely';

/**
 * Messaging, issue 3 continued: per-account preferences, for now "Send read receipts" (reciprocal,
 * as in Signal and WhatsApp: off, the account's read markers are neither kept nor shown to
 * others, and it sees no one's read state, only delivery). A row exists only once the account
 * chose; no row means the defaults (read receipts on). Booleans as 0/1 (see 001-init).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('account_preference')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('account.id'))
    .addColumn('read_receipts', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('account_preference').execute();
}
