import type { Kysely } from 'kysely';

/** Patient cases, on-call rosters and durable paging (escalation timers live in the database). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('patient_case')
    .addColumn('id', 'text', (c) => c.primaryKey().references('conversation.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('department_id', 'text', (c) => c.notNull().references('department.id'))
    .addColumn('urgency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('opened_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('answered_at', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('closed_by', 'text')
    .addColumn('purge_after', 'text')
    .addColumn('purged_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('patient_case_org').on('patient_case').columns(['organisation_id', 'status']).execute();

  await db.schema
    .createTable('oncall_entry')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('department_id', 'text', (c) => c.notNull().references('department.id'))
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('starts_at', 'text')
    .addColumn('ends_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oncall_entry_department').on('oncall_entry').columns(['department_id', 'step']).execute();

  await db.schema
    .createTable('case_page')
    .addColumn('case_id', 'text', (c) => c.primaryKey().references('patient_case.id'))
    .addColumn('organisation_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('step_count', 'integer', (c) => c.notNull())
    .addColumn('step_started_at', 'text', (c) => c.notNull())
    .addColumn('next_action_at', 'text')
    .addColumn('notifications', 'integer', (c) => c.notNull())
    .addColumn('accepted_by', 'text')
    .addColumn('accepted_at', 'text')
    // Every change bumps it; an update names the version it read, so a timer firing on two nodes
    // (or racing an accept) changes the page once.
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('case_page_due').on('case_page').columns(['state', 'next_action_at']).execute();

  // The escalation chain as it stood when the case was opened: a roster edit mid-page does not
  // change who is responsible for a consult already under way.
  await db.schema
    .createTable('case_page_target')
    .addColumn('case_id', 'text', (c) => c.notNull().references('case_page.case_id'))
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('notified_at', 'text')
    .addColumn('declined_at', 'text')
    .addPrimaryKeyConstraint('case_page_target_pk', ['case_id', 'step', 'account_id'])
    .execute();

  await db.schema
    .createTable('case_policy')
    .addColumn('organisation_id', 'text', (c) => c.primaryKey().references('organisation.id'))
    .addColumn('urgent_step_seconds', 'integer', (c) => c.notNull())
    .addColumn('emergency_step_seconds', 'integer', (c) => c.notNull())
    .addColumn('renotify_seconds', 'integer', (c) => c.notNull())
    .addColumn('urgent_per_hour', 'integer', (c) => c.notNull())
    .addColumn('retention_days_after_close', 'integer')
    .addColumn('message_expiry_days', 'integer')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // Patient invitations: a one-time link (token hash) and a code given in person (its MAC).
  await db.schema
    .createTable('patient_invite')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('code_mac', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('failed_attempts', 'integer', (c) => c.notNull())
    .addColumn('accepted_at', 'text')
    .addColumn('accepted_by', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('patient_invite_creator').on('patient_invite').column('created_by').execute();

  // Disappearing messages: per conversation, in seconds; expired ciphertext is deleted.
  await db.schema.alterTable('conversation').addColumn('expiry_seconds', 'integer').execute();
  await db.schema.createIndex('mls_message_created').on('mls_message').columns(['conversation_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('mls_message_created').execute();
  await db.schema.alterTable('conversation').dropColumn('expiry_seconds').execute();
  for (const t of ['patient_invite', 'case_policy', 'case_page_target', 'case_page', 'oncall_entry', 'patient_case']) await db.schema.dropTable(t).execute();
}
