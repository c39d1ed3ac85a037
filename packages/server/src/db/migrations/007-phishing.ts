import type { Kysely } from 'kysely';

// Phishing resilience. Sending state lives here so a restart resumes a campaign where it stopped;
// tracking events are append-only (the store has no update or delete for them, except the
// privacy-mode retention sweep). Submitted form values are never stored: only field names.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('phishing_settings')
    .addColumn('organisation_id', 'text', (c) => c.primaryKey().references('organisation.id'))
    .addColumn('privacy_mode', 'integer', (c) => c.notNull())
    .addColumn('min_group_size', 'integer', (c) => c.notNull())
    .addColumn('retention_days', 'integer', (c) => c.notNull())
    .addColumn('repeat_clicker_threshold', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('phishing_campaign')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('difficulty', 'text', (c) => c.notNull())
    .addColumn('sender_domain', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('window_end', 'text', (c) => c.notNull())
    .addColumn('business_hours', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('launched_at', 'text')
    .addColumn('completed_at', 'text')
    .execute();
  await db.schema.createIndex('phishing_campaign_org').on('phishing_campaign').columns(['organisation_id', 'created_at']).execute();

  await db.schema
    .createTable('phishing_recipient')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('phishing_campaign.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.references('account.id'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('department_id', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull().unique())
    .addColumn('scheduled_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('claimed_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('message_id', 'text')
    .execute();
  await db.schema.createIndex('phishing_recipient_due').on('phishing_recipient').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('phishing_recipient_campaign').on('phishing_recipient').column('campaign_id').execute();
  await db.schema.createIndex('phishing_recipient_account').on('phishing_recipient').column('account_id').execute();

  await db.schema
    .createTable('phishing_event')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('recipient_id', 'text', (c) => c.notNull().references('phishing_recipient.id'))
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('bot', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('fields_filled', 'text')
    .execute();
  await db.schema.createIndex('phishing_event_recipient').on('phishing_event').columns(['recipient_id', 'at']).execute();
  await db.schema.createIndex('phishing_event_campaign').on('phishing_event').columns(['campaign_id', 'kind']).execute();

  await db.schema
    .createTable('phishing_report')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('reporter_account_id', 'text', (c) => c.references('account.id'))
    .addColumn('reporter_address', 'text')
    .addColumn('reported_at', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('from_address', 'text')
    .addColumn('note', 'text')
    .addColumn('verdict', 'text')
    .addColumn('signs', 'text', (c) => c.notNull())
    .addColumn('raw_eml', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .execute();
  await db.schema.createIndex('phishing_report_org').on('phishing_report').columns(['organisation_id', 'status', 'reported_at']).execute();

  await db.schema
    .createTable('phishing_lesson_progress')
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('lesson_id', 'text', (c) => c.notNull())
    .addColumn('best_score', 'integer', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('phishing_lesson_progress_pk', ['account_id', 'lesson_id'])
    .execute();

  await db.schema
    .createTable('phishing_mailbox_state')
    .addColumn('mailbox', 'text', (c) => c.primaryKey())
    .addColumn('uid_validity', 'text', (c) => c.notNull())
    .addColumn('last_uid', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['phishing_mailbox_state', 'phishing_lesson_progress', 'phishing_report', 'phishing_event', 'phishing_recipient', 'phishing_campaign', 'phishing_settings']) {
    await db.schema.dropTable(t).execute();
  }
}
