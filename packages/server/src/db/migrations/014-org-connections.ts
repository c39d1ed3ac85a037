import type { Kysely } from 'kysely';

/**
 * Messaging, issue 3: explicit connections between organisations. An admin of `proposer_org_id`
 * proposes, an admin of `target_org_id` accepts; either side may end it. Only an `active` row lets
 * members of the two organisations find (verified colleagues only) and message each other; rows are
 * never deleted, so a connection's history stays readable next to both organisations' audit logs.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('org_connection')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('proposer_org_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('target_org_id', 'text', (c) => c.notNull().references('organisation.id'))
    // proposed | active | ended
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('proposed_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('proposed_at', 'text', (c) => c.notNull())
    .addColumn('accepted_by', 'text', (c) => c.references('account.id'))
    .addColumn('accepted_at', 'text')
    .addColumn('ended_by', 'text', (c) => c.references('account.id'))
    .addColumn('ended_at', 'text')
    .execute();
  await db.schema.createIndex('org_connection_proposer').on('org_connection').columns(['proposer_org_id', 'status']).execute();
  await db.schema.createIndex('org_connection_target').on('org_connection').columns(['target_org_id', 'status']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('org_connection').execute();
}
