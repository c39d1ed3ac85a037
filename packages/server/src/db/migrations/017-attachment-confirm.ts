import { sql, type Kysely } from 'kysely';

/**
 * Attachments: an upload stays pending until a sent message names it (SubmitMessageBody
 * `attachmentIds`); the sweep deletes links left pending for longer than `attachmentPendingHours`.
 * `confirmed_at` is null while pending. Links that exist already were made by clients that never
 * confirm: they count as confirmed when they were uploaded, as they always did.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('attachment_link').addColumn('confirmed_at', 'text').execute();
  await sql`UPDATE attachment_link SET confirmed_at = created_at`.execute(db);
  // The sweep's query: pending links by age. Partial, so confirmed links (nearly all) cost nothing.
  await db.schema
    .createIndex('attachment_link_pending')
    .on('attachment_link')
    .column('created_at')
    .where(sql.ref('confirmed_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('attachment_link_pending').execute();
  await db.schema.alterTable('attachment_link').dropColumn('confirmed_at').execute();
}
