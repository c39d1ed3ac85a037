import type { Kysely } from 'kysely';

/**
 * Messaging, issue 3 continued: read_marker, how far each member has read each conversation (a
 * sequence number, per account, never back). With the devices' delivery cursors it gives sent /
 * delivered / read receipts. (Group titles travel inside MLS, not here.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('read_marker')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('read_seq', 'integer', (c) => c.notNull())
    .addColumn('read_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('read_marker_pk', ['conversation_id', 'account_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('read_marker').execute();
}
