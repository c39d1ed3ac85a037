import { randomBytes, randomUUID } from 'node:crypto';
import type { BusinessHours, Campaign, CreateCampaignBody, PhishingSettings, PhishTemplate, PhishTemplateSummary } from '@consilium/protocol';
import { MAX_CAMPAIGN_WINDOW_DAYS } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import { ConsiliumError, notFound } from '../errors.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import { listAccountsInOrg } from '../accounts/store.js';
import * as store from './store.js';
import { requireCampaignRole } from './sharing.js';
import { findTemplate, unknownMergeFields } from './templates.js';
import { allTemplates, resolveTemplate } from './custom-templates.js';
import { isValidTimeZone, shuffle, spreadSendTimes } from './schedule.js';

export const DEFAULT_SETTINGS: PhishingSettings = { privacyMode: true, minGroupSize: 5, retentionDays: 90, repeatClickerThreshold: 2 };

/** A tracking id: 128 random bits, base64url (22 characters). Unguessable, so ids cannot be enumerated. */
export const newTrackingToken = (): string => randomBytes(16).toString('base64url');

export function templateSummary(t: PhishTemplate): PhishTemplateSummary {
  return { id: t.id, name: t.name, theme: t.theme, subject: t.subject, fromName: t.fromName, cueCount: t.cueCount, cueBand: t.cueBand, premiseBand: t.premiseBand, difficulty: t.difficulty, custom: t.custom };
}

/** The built-in library and the organisation's own templates. */
export async function listTemplates(deps: Deps, organisationId: string): Promise<PhishTemplateSummary[]> {
  return (await allTemplates(deps, organisationId)).map(templateSummary);
}

export async function getTemplate(deps: Deps, organisationId: string, id: string): Promise<PhishTemplate> {
  const t = await resolveTemplate(deps, organisationId, id);
  if (!t) throw notFound('template');
  return t;
}

/** The template a campaign was created with (its frozen copy; older campaigns: the library's). */
export function templateOfRow(row: Pick<store.CampaignRow, 'template_id' | 'template_snapshot'>): PhishTemplate {
  const t = row.template_snapshot ? (JSON.parse(row.template_snapshot) as PhishTemplate) : findTemplate(row.template_id);
  if (!t) throw notFound('template');
  return t;
}

export async function getSettings(deps: Deps, organisationId: string): Promise<PhishingSettings> {
  const row = await store.getSettings(deps.db, organisationId);
  if (!row) return DEFAULT_SETTINGS;
  return { privacyMode: row.privacy_mode === 1, minGroupSize: row.min_group_size, retentionDays: row.retention_days, repeatClickerThreshold: row.repeat_clicker_threshold };
}

export async function updateSettings(deps: Deps, actor: Actor, organisationId: string, settings: PhishingSettings): Promise<PhishingSettings> {
  await inTransaction(deps, async (tx) => {
    await store.upsertSettings(tx.db, {
      organisation_id: organisationId,
      privacy_mode: settings.privacyMode ? 1 : 0,
      min_group_size: settings.minGroupSize,
      retention_days: settings.retentionDays,
      repeat_clicker_threshold: settings.repeatClickerThreshold,
      updated_at: iso(tx.now()),
    });
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.settings_changed', 'U', { entity: { type: 'organisation', id: organisationId }, detail: { ...settings } }));
  });
  return settings;
}

function toCampaign(row: store.CampaignRow, recipientCount: number, myRole: Campaign['myRole']): Campaign {
  const t = templateOfRow(row);
  return {
    id: row.id,
    name: row.name,
    templateId: row.template_id,
    templateName: t.name,
    difficulty: t.difficulty,
    status: row.status as Campaign['status'],
    windowStart: row.window_start,
    windowEnd: row.window_end,
    senderDomain: row.sender_domain,
    recipientCount,
    createdBy: row.created_by,
    createdAt: row.created_at,
    launchedAt: row.launched_at,
    myRole,
  };
}

/** The campaigns shared with this account (see sharing.ts), each with the account's role. */
export async function listCampaigns(deps: Deps, organisationId: string, accountId: string): Promise<Campaign[]> {
  const rows = await store.listCampaignsOfMember(deps.db, organisationId, accountId);
  const counts = await store.countRecipients(
    deps.db,
    rows.map((r) => r.id),
  );
  return rows.map(({ member_role, ...r }) => toCampaign(r, counts.get(r.id) ?? 0, member_role as Campaign['myRole']));
}

export async function campaignRow(deps: Deps, organisationId: string, id: string): Promise<store.CampaignRow> {
  const row = await store.getCampaignInOrg(deps.db, organisationId, id);
  if (!row) throw notFound('campaign');
  return row;
}

export async function getCampaign(deps: Deps, organisationId: string, accountId: string, id: string): Promise<Campaign> {
  const { campaign: row, role } = await requireCampaignRole(deps, organisationId, accountId, id, 'viewer');
  const counts = await store.countRecipients(deps.db, [id]);
  return toCampaign(row, counts.get(id) ?? 0, role);
}

export async function createCampaign(deps: Deps, actor: Actor, organisationId: string, body: CreateCampaignBody): Promise<Campaign> {
  const template = await resolveTemplate(deps, organisationId, body.templateId);
  if (!template) throw new ConsiliumError('VALIDATION_FAILED', `no template ${body.templateId}`);
  const unknown = unknownMergeFields(template.subject, template.text, template.html);
  if (unknown.length) throw new ConsiliumError('UNKNOWN_MERGE_FIELD', `unknown merge field ${unknown.map((f) => `{{${f}}}`).join(', ')}`);
  const start = new Date(body.window.start);
  const end = new Date(body.window.end);
  if (end <= start) throw new ConsiliumError('VALIDATION_FAILED', 'the window must end after it starts');
  if (end.getTime() - start.getTime() > MAX_CAMPAIGN_WINDOW_DAYS * 86_400_000) throw new ConsiliumError('VALIDATION_FAILED', `the window is at most ${MAX_CAMPAIGN_WINDOW_DAYS} days`);
  if (end <= deps.now()) throw new ConsiliumError('VALIDATION_FAILED', 'the window is already over');
  if (!isValidTimeZone(body.businessHours.timeZone)) throw new ConsiliumError('VALIDATION_FAILED', `unknown time zone ${body.businessHours.timeZone}`);
  if (!spreadSendTimes(1, start, end, body.businessHours)) throw new ConsiliumError('VALIDATION_FAILED', 'the window holds no business hours');
  const t = body.target;
  if (!t.everyone && !t.departmentIds.length && !t.roles.length && !t.accountIds.length) throw new ConsiliumError('VALIDATION_FAILED', 'choose whom to send to');
  const row = {
    id: randomUUID(),
    organisation_id: organisationId,
    name: body.name,
    template_id: template.id,
    difficulty: template.difficulty,
    sender_domain: body.senderDomain,
    target: JSON.stringify(body.target),
    window_start: iso(start),
    window_end: iso(end),
    business_hours: JSON.stringify(body.businessHours),
    status: 'draft',
    created_by: actor.accountId ?? '',
    created_at: iso(deps.now()),
    launched_at: null,
    completed_at: null,
    template_snapshot: JSON.stringify(template),
  };
  await inTransaction(deps, async (tx) => {
    await store.insertCampaign(tx.db, row);
    // The creator owns the campaign: only they can share it with other admins (sharing.ts).
    await store.insertMember(tx.db, { campaign_id: row.id, account_id: row.created_by, role: 'owner', granted_by: row.created_by, granted_at: row.created_at });
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'phishing.campaign_created', 'C', { entity: { type: 'phishing_campaign', id: row.id }, detail: { name: row.name, template: template.id, difficulty: template.difficulty } }),
    );
  });
  return toCampaign(row, 0, 'owner');
}

/**
 * Resolves the target group from the directory (active accounts of the organisation), gives each
 * person a tracking id and a send time, and stores it all, so sending survives a restart.
 */
export async function launchCampaign(deps: Deps, actor: Actor, organisationId: string, id: string): Promise<Campaign> {
  return inTransaction(deps, async (tx) => {
    const { campaign: row, role } = await requireCampaignRole(tx, organisationId, actor.accountId ?? '', id, 'author');
    if (row.status !== 'draft') throw new ConsiliumError('CONFLICT', `the campaign is ${row.status}, not a draft`);
    const target = JSON.parse(row.target) as CreateCampaignBody['target'];
    const hours = JSON.parse(row.business_hours) as BusinessHours;
    const accounts = (await listAccountsInOrg(tx.db, organisationId)).filter(
      (a) =>
        a.status === 'active' &&
        // Simulations train staff; patients with accounts are never targeted, whatever the selection.
        (a.role as string) !== 'patient' &&
        (target.everyone ||
          target.accountIds.includes(a.id) ||
          target.roles.includes(a.role) ||
          (a.department_id !== null && target.departmentIds.includes(a.department_id))),
    );
    if (!accounts.length) throw new ConsiliumError('VALIDATION_FAILED', 'nobody in the directory matches the target group');
    const now = tx.now();
    // A campaign launched mid-window spreads over what is left of it.
    const from = new Date(Math.max(now.getTime(), Date.parse(row.window_start)));
    const times = spreadSendTimes(accounts.length, from, new Date(row.window_end), hours);
    if (!times) throw new ConsiliumError('VALIDATION_FAILED', 'what is left of the window holds no business hours');
    const order = shuffle(accounts);
    await store.insertRecipients(
      tx.db,
      order.map((a, i) => ({
        id: randomUUID(),
        campaign_id: row.id,
        organisation_id: organisationId,
        account_id: a.id,
        email: a.email,
        display_name: a.display_name,
        department_id: a.department_id,
        role: a.role,
        token: newTrackingToken(),
        scheduled_at: iso(times[i]!),
        status: 'scheduled',
        attempts: 0,
        next_attempt_at: iso(times[i]!),
        claimed_at: null,
        last_error: null,
        sent_at: null,
        message_id: null,
      })),
    );
    const launchedAt = iso(now);
    await store.moveCampaign(tx.db, row.id, ['draft'], { status: 'scheduled', launched_at: launchedAt });
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'phishing.campaign_launched', 'E', {
        entity: { type: 'phishing_campaign', id: row.id },
        detail: { recipients: accounts.length, firstSend: iso(times[0]!), lastSend: iso(times[times.length - 1]!) },
      }),
    );
    return toCampaign({ ...row, status: 'scheduled', launched_at: launchedAt }, accounts.length, role);
  });
}

export async function cancelCampaign(deps: Deps, actor: Actor, organisationId: string, id: string): Promise<Campaign> {
  return inTransaction(deps, async (tx) => {
    const { campaign: row, role } = await requireCampaignRole(tx, organisationId, actor.accountId ?? '', id, 'author');
    if (!(await store.moveCampaign(tx.db, id, ['draft', 'scheduled', 'sending'], { status: 'cancelled', completed_at: iso(tx.now()) }))) {
      throw new ConsiliumError('CONFLICT', `the campaign is already ${row.status}`);
    }
    await store.cancelPendingRecipients(tx.db, id);
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.campaign_cancelled', 'U', { entity: { type: 'phishing_campaign', id } }));
    const counts = await store.countRecipients(tx.db, [id]);
    return toCampaign({ ...row, status: 'cancelled' }, counts.get(id) ?? 0, role);
  });
}
