import { sql, type Kysely } from 'kysely';

// Phishing campaigns shared between admins and security officers with a role each: owner (the
// creator; shares and revokes), author (launches and cancels), viewer (reads results only).
// A campaign is visible only to its members.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('phishing_campaign_member')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('phishing_campaign.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('granted_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('granted_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('phishing_campaign_member_pk', ['campaign_id', 'account_id'])
    .execute();
  await db.schema.createIndex('phishing_campaign_member_account').on('phishing_campaign_member').column('account_id').execute();
  // Campaigns made before sharing existed belong to whoever created them.
  await sql`insert into phishing_campaign_member (campaign_id, account_id, role, granted_by, granted_at)
    select id, created_by, 'owner', created_by, created_at from phishing_campaign`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('phishing_campaign_member').execute();
}
