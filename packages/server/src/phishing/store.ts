import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../db/database.js';
import type {
  PhishingCampaignMemberTable,
  PhishingCampaignTable,
  PhishingEventTable,
  PhishingLessonProgressTable,
  PhishingRecipientTable,
  PhishingReportTable,
  PhishingSettingsTable,
} from '../db/schema/phishing.js';

export type CampaignRow = Selectable<PhishingCampaignTable>;
export type RecipientRow = Selectable<PhishingRecipientTable>;
export type EventRow = Selectable<PhishingEventTable>;
export type ReportRow = Selectable<PhishingReportTable>;

export function getSettings(db: Db, organisationId: string) {
  return db.selectFrom('phishing_settings').selectAll().where('organisation_id', '=', organisationId).executeTakeFirst();
}

export async function upsertSettings(db: Db, row: Insertable<PhishingSettingsTable>): Promise<void> {
  await db
    .insertInto('phishing_settings')
    .values(row)
    .onConflict((oc) => oc.column('organisation_id').doUpdateSet({ ...row }))
    .execute();
}

export async function insertCampaign(db: Db, row: Insertable<PhishingCampaignTable>): Promise<void> {
  await db.insertInto('phishing_campaign').values(row).execute();
}

export function getCampaignInOrg(db: Db, organisationId: string, id: string) {
  return db.selectFrom('phishing_campaign').selectAll().where('organisation_id', '=', organisationId).where('id', '=', id).executeTakeFirst();
}

export function getCampaign(db: Db, id: string) {
  return db.selectFrom('phishing_campaign').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listCampaigns(db: Db, organisationId: string) {
  return db.selectFrom('phishing_campaign').selectAll().where('organisation_id', '=', organisationId).orderBy('created_at', 'desc').orderBy('id').execute();
}

/** Moves a campaign between states only from the state the caller saw; returns whether it moved. */
export async function moveCampaign(db: Db, id: string, from: string[], changes: Updateable<PhishingCampaignTable>): Promise<boolean> {
  const r = await db.updateTable('phishing_campaign').set(changes).where('id', '=', id).where('status', 'in', from).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function insertRecipients(db: Db, rows: Insertable<PhishingRecipientTable>[]): Promise<void> {
  // Chunks keep SQLite under its bound-parameter limit.
  for (let i = 0; i < rows.length; i += 200) await db.insertInto('phishing_recipient').values(rows.slice(i, i + 200)).execute();
}

export async function countRecipients(db: Db, campaignIds: string[]): Promise<Map<string, number>> {
  if (!campaignIds.length) return new Map();
  const rows = await db
    .selectFrom('phishing_recipient')
    .select(['campaign_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', 'in', campaignIds)
    .groupBy('campaign_id')
    .execute();
  return new Map(rows.map((r) => [r.campaign_id, Number(r.n)]));
}

export function listRecipients(db: Db, campaignId: string) {
  return db.selectFrom('phishing_recipient').selectAll().where('campaign_id', '=', campaignId).orderBy('scheduled_at').orderBy('id').execute();
}

export function recipientByToken(db: Db, token: string) {
  return db.selectFrom('phishing_recipient').selectAll().where('token', '=', token).executeTakeFirst();
}

/** Recipients whose mail is due: scheduled or retrying and due, or claimed by a sender that died. */
export function dueRecipients(db: Db, now: string, staleClaimBefore: string, limit: number) {
  return db
    .selectFrom('phishing_recipient')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('status', 'in', ['scheduled', 'retrying']), eb('next_attempt_at', '<=', now)]),
        eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', staleClaimBefore)]),
      ]),
    )
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Takes a recipient for sending if nobody else has since; returns whether this caller won. */
export async function claimRecipient(db: Db, row: RecipientRow, now: string): Promise<boolean> {
  let q = db.updateTable('phishing_recipient').set({ status: 'sending', claimed_at: now }).where('id', '=', row.id).where('status', '=', row.status);
  q = row.claimed_at === null ? q.where('claimed_at', 'is', null) : q.where('claimed_at', '=', row.claimed_at);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function updateRecipient(db: Db, id: string, changes: Updateable<PhishingRecipientTable>): Promise<void> {
  await db.updateTable('phishing_recipient').set(changes).where('id', '=', id).execute();
}

export async function cancelPendingRecipients(db: Db, campaignId: string): Promise<void> {
  await db
    .updateTable('phishing_recipient')
    .set({ status: 'cancelled', claimed_at: null })
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['scheduled', 'retrying'])
    .execute();
}

export async function pendingCount(db: Db, campaignId: string): Promise<number> {
  const r = await db
    .selectFrom('phishing_recipient')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['scheduled', 'retrying', 'sending'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Tracking events are only ever appended. */
export async function appendEvent(db: Db, row: Insertable<PhishingEventTable>): Promise<void> {
  await db.insertInto('phishing_event').values(row).execute();
}

export function eventsOfRecipient(db: Db, recipientId: string) {
  return db.selectFrom('phishing_event').selectAll().where('recipient_id', '=', recipientId).orderBy('at').orderBy('id').execute();
}

export function eventsOfCampaign(db: Db, campaignId: string) {
  return db.selectFrom('phishing_event').selectAll().where('campaign_id', '=', campaignId).orderBy('at').orderBy('id').execute();
}

export function getEvent(db: Db, id: string) {
  return db.selectFrom('phishing_event').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findEvent(db: Db, recipientId: string, kind: string, reason?: string) {
  let q = db.selectFrom('phishing_event').selectAll().where('recipient_id', '=', recipientId).where('kind', '=', kind);
  if (reason !== undefined) q = q.where('reason', '=', reason);
  return q.executeTakeFirst();
}

/** Privacy-mode retention: per-person events of campaigns launched before the cutoff go. */
export async function deleteEventsBefore(db: Db, organisationId: string, before: string): Promise<number> {
  const campaigns = db.selectFrom('phishing_campaign').select('id').where('organisation_id', '=', organisationId).where('launched_at', '<', before);
  const r = await db.deleteFrom('phishing_event').where('campaign_id', 'in', campaigns).where('at', '<', before).executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function insertReport(db: Db, row: Insertable<PhishingReportTable>): Promise<void> {
  await db.insertInto('phishing_report').values(row).execute();
}

export function listReports(db: Db, organisationId: string, limit: number) {
  return db.selectFrom('phishing_report').selectAll().where('organisation_id', '=', organisationId).orderBy('reported_at', 'desc').orderBy('id').limit(limit).execute();
}

export function getReportInOrg(db: Db, organisationId: string, id: string) {
  return db.selectFrom('phishing_report').selectAll().where('organisation_id', '=', organisationId).where('id', '=', id).executeTakeFirst();
}

export async function updateReport(db: Db, id: string, changes: Updateable<PhishingReportTable>): Promise<void> {
  await db.updateTable('phishing_report').set(changes).where('id', '=', id).execute();
}

export function lessonProgress(db: Db, accountId: string) {
  return db.selectFrom('phishing_lesson_progress').selectAll().where('account_id', '=', accountId).execute();
}

export async function saveLessonProgress(db: Db, row: Insertable<PhishingLessonProgressTable>): Promise<void> {
  await db
    .insertInto('phishing_lesson_progress')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'lesson_id']).doUpdateSet({ best_score: row.best_score, completed_at: row.completed_at, updated_at: row.updated_at }))
    .execute();
}

export function mailboxState(db: Db, mailbox: string) {
  return db.selectFrom('phishing_mailbox_state').selectAll().where('mailbox', '=', mailbox).executeTakeFirst();
}

export async function saveMailboxState(db: Db, mailbox: string, uidValidity: string, lastUid: number, now: string): Promise<void> {
  await db
    .insertInto('phishing_mailbox_state')
    .values({ mailbox, uid_validity: uidValidity, last_uid: lastUid, updated_at: now })
    .onConflict((oc) => oc.column('mailbox').doUpdateSet({ uid_validity: uidValidity, last_uid: lastUid, updated_at: now }))
    .execute();
}

// ---- sharing (owner / author / viewer) ----

export async function insertMember(db: Db, row: Insertable<PhishingCampaignMemberTable>): Promise<void> {
  await db.insertInto('phishing_campaign_member').values(row).execute();
}

export function getMember(db: Db, campaignId: string, accountId: string) {
  return db.selectFrom('phishing_campaign_member').selectAll().where('campaign_id', '=', campaignId).where('account_id', '=', accountId).executeTakeFirst();
}

export async function setMemberRole(db: Db, campaignId: string, accountId: string, role: string, grantedBy: string, now: string): Promise<void> {
  await db
    .updateTable('phishing_campaign_member')
    .set({ role, granted_by: grantedBy, granted_at: now })
    .where('campaign_id', '=', campaignId)
    .where('account_id', '=', accountId)
    .execute();
}

export async function deleteMember(db: Db, campaignId: string, accountId: string): Promise<boolean> {
  const r = await db.deleteFrom('phishing_campaign_member').where('campaign_id', '=', campaignId).where('account_id', '=', accountId).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export function listMembers(db: Db, campaignId: string) {
  return db
    .selectFrom('phishing_campaign_member as m')
    .innerJoin('account as a', 'a.id', 'm.account_id')
    .select(['m.account_id', 'm.role', 'm.granted_at', 'a.display_name', 'a.email'])
    .where('m.campaign_id', '=', campaignId)
    .orderBy('a.display_name')
    .execute();
}

/** The campaigns of an organisation shared with one account, with that account's role. */
export function listCampaignsOfMember(db: Db, organisationId: string, accountId: string) {
  return db
    .selectFrom('phishing_campaign as c')
    .innerJoin('phishing_campaign_member as m', 'm.campaign_id', 'c.id')
    .selectAll('c')
    .select('m.role as member_role')
    .where('c.organisation_id', '=', organisationId)
    .where('m.account_id', '=', accountId)
    .orderBy('c.created_at', 'desc')
    .orderBy('c.id')
    .execute();
}
