import { sql, type Kysely } from 'kysely';

// Phishing campaigns shared between admins and security officers with a role each: owner (the
// creator; shares and revokes), author (launches and cancels), viewer (reads results only).
// A campaign is visible only to its members. Also: custom templates, and each campaign's frozen
// copy of its template.

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
  // Custom templates (the whole template as JSON, HTML already sanitised, difficulty computed).
  await db.schema
    .createTable('phishing_template')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('phishing_template_org').on('phishing_template').column('organisation_id').execute();
  // The template a campaign was created with, frozen: editing a template never changes a campaign.
  await db.schema.alterTable('phishing_campaign').addColumn('template_snapshot', 'text').execute();
  // Campaigns made before sharing existed belong to whoever created them.
  await sql`insert into phishing_campaign_member (campaign_id, account_id, role, granted_by, granted_at)
    select id, created_by, 'owner', created_by, created_at from phishing_campaign`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('phishing_campaign').dropColumn('template_snapshot').execute();
  await db.schema.dropTable('phishing_template').execute();
  await db.schema.dropTable('phishing_campaign_member').execute();
}
