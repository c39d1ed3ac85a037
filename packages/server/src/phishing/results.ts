import { createHash } from 'node:crypto';
import type { CampaignRecipients, CampaignResults, Difficulty, OrgPhishingOverview, PhishingSettings, ResultCounts } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { listDepartments } from '../orgs/store.js';
import * as store from './store.js';
import { campaignRow, getSettings } from './campaigns.js';

/** What one recipient did, folded from their events. */
interface Outcome {
  recipient: store.RecipientRow;
  sent: boolean;
  failed: boolean;
  bounced: boolean;
  /** Sent + window with no permanent bounce, once that time has passed; null when bounces cannot be seen. */
  deliveredAt: string | null;
  opened: boolean;
  clickedHuman: boolean;
  clickedAny: boolean;
  submitted: boolean;
  reported: boolean;
  secondsToReport: number | null;
  lesson: boolean;
}

/**
 * "Delivered" cannot be observed directly (SMTP only says the relay took the mail): a mail counts
 * as delivered once it was sent, no permanent bounce came back to the VERP bounce address, and
 * the delivered window has passed. Without a bounce address bounces never reach us, so it is unknown.
 */
interface DeliveryRule {
  now: Date;
  windowSeconds: number | null;
}

const deliveryRule = (deps: Deps): DeliveryRule => ({
  now: deps.now(),
  windowSeconds: deps.config.phishing.bounceAddress ? deps.config.phishing.deliveredAfterMinutes * 60 : null,
});

function fold(recipients: store.RecipientRow[], events: store.EventRow[], rule: DeliveryRule): Outcome[] {
  const byRecipient = new Map<string, store.EventRow[]>();
  for (const e of events) {
    const list = byRecipient.get(e.recipient_id) ?? [];
    list.push(e);
    byRecipient.set(e.recipient_id, list);
  }
  return recipients.map((r) => {
    const ev = byRecipient.get(r.id) ?? [];
    const has = (kind: string, pred: (e: store.EventRow) => boolean = () => true) => ev.some((e) => e.kind === kind && pred(e));
    const report = ev.find((e) => e.kind === 'reported');
    const bounced = has('bounced');
    const deliveredMs = r.sent_at && rule.windowSeconds !== null && !bounced ? Date.parse(r.sent_at) + rule.windowSeconds * 1000 : null;
    return {
      recipient: r,
      sent: r.sent_at !== null,
      failed: r.status === 'failed',
      bounced,
      deliveredAt: deliveredMs !== null && deliveredMs <= rule.now.getTime() ? new Date(deliveredMs).toISOString() : null,
      opened: has('opened', (e) => e.bot === 0) || has('click_confirmed'),
      // A person's click: confirmed by the landing script, or a script-confirmed submission.
      clickedHuman: has('click_confirmed') || has('submitted', (e) => e.bot === 0),
      clickedAny: has('click'),
      submitted: has('submitted', (e) => e.bot === 0),
      reported: Boolean(report),
      secondsToReport: report && r.sent_at ? Math.max(0, (Date.parse(report.at) - Date.parse(r.sent_at)) / 1000) : null,
      lesson: has('lesson_completed'),
    };
  });
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const rate = (n: number, d: number) => (d ? Math.round((n / d) * 10_000) / 10_000 : 0);

export function countOutcomes(outcomes: Outcome[], rule: DeliveryRule): ResultCounts {
  const sent = outcomes.filter((o) => o.sent).length;
  const clickedHuman = outcomes.filter((o) => o.clickedHuman).length;
  const reported = outcomes.filter((o) => o.reported).length;
  const submitted = outcomes.filter((o) => o.submitted).length;
  return {
    recipients: outcomes.length,
    sent,
    failed: outcomes.filter((o) => o.failed).length,
    bounced: outcomes.filter((o) => o.bounced).length,
    delivered: rule.windowSeconds === null ? null : outcomes.filter((o) => o.deliveredAt !== null).length,
    opened: outcomes.filter((o) => o.opened).length,
    clickedHuman,
    clickedBotOnly: outcomes.filter((o) => o.clickedAny && !o.clickedHuman).length,
    submitted,
    reported,
    lessonsCompleted: outcomes.filter((o) => o.lesson).length,
    clickRate: rate(clickedHuman, sent),
    submitRate: rate(submitted, sent),
    reportRate: rate(reported, sent),
    resilience: clickedHuman ? Math.round((reported / clickedHuman) * 100) / 100 : null,
    medianSecondsToReport: median(outcomes.flatMap((o) => (o.secondsToReport === null ? [] : [o.secondsToReport]))),
  };
}

function groups(outcomes: Outcome[], keyOf: (o: Outcome) => string, labelOf: (key: string) => string, settings: PhishingSettings, rule: DeliveryRule) {
  const map = new Map<string, Outcome[]>();
  for (const o of outcomes) map.set(keyOf(o), [...(map.get(keyOf(o)) ?? []), o]);
  return [...map.entries()]
    .map(([key, list]) => ({
      key,
      label: labelOf(key),
      // Privacy mode: a group too small to hide an individual is shown without numbers.
      counts: settings.privacyMode && list.length < settings.minGroupSize ? null : countOutcomes(list, rule),
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

async function outcomesOf(deps: Deps, campaignId: string, rule: DeliveryRule): Promise<Outcome[]> {
  const [recipients, events] = await Promise.all([store.listRecipients(deps.db, campaignId), store.eventsOfCampaign(deps.db, campaignId)]);
  return fold(recipients, events, rule);
}

export async function campaignResults(deps: Deps, organisationId: string, id: string): Promise<CampaignResults> {
  const row = await campaignRow(deps, organisationId, id);
  const settings = await getSettings(deps, organisationId);
  const rule = deliveryRule(deps);
  const outcomes = await outcomesOf(deps, id, rule);
  const depts = new Map((await listDepartments(deps.db, organisationId)).map((d) => [d.id, d.name]));
  return {
    campaignId: id,
    difficulty: row.difficulty as Difficulty,
    counts: countOutcomes(outcomes, rule),
    byDepartment: groups(outcomes, (o) => o.recipient.department_id ?? 'none', (k) => depts.get(k) ?? 'No department', settings, rule),
    byRole: groups(outcomes, (o) => o.recipient.role, (k) => k, settings, rule),
  };
}

/** A stable pseudonym per person and organisation: the same across campaigns, not reversible by readers. */
export const pseudonym = (organisationId: string, accountId: string | null, email: string) =>
  `Person ${createHash('sha256').update(`${organisationId}:${accountId ?? email}`).digest('hex').slice(0, 8)}`;

export async function campaignRecipients(deps: Deps, organisationId: string, id: string): Promise<CampaignRecipients> {
  await campaignRow(deps, organisationId, id);
  const settings = await getSettings(deps, organisationId);
  const [recipients, events] = await Promise.all([store.listRecipients(deps.db, id), store.eventsOfCampaign(deps.db, id)]);
  const depts = new Map((await listDepartments(deps.db, organisationId)).map((d) => [d.id, d.name]));
  const delivered = new Map(fold(recipients, events, deliveryRule(deps)).map((o) => [o.recipient.id, o.deliveredAt]));
  return {
    privacyMode: settings.privacyMode,
    recipients: recipients.map((r) => ({
      id: r.id,
      label: settings.privacyMode ? pseudonym(organisationId, r.account_id, r.email) : `${r.display_name} <${r.email}>`,
      department: r.department_id ? (depts.get(r.department_id) ?? null) : null,
      role: r.role as CampaignRecipients['recipients'][number]['role'],
      status: r.status as CampaignRecipients['recipients'][number]['status'],
      scheduledAt: r.scheduled_at,
      attempts: r.attempts,
      lastError: r.last_error,
      events: events
        .filter((e) => e.recipient_id === r.id)
        .map((e) => ({
          kind: e.kind as CampaignRecipients['recipients'][number]['events'][number]['kind'],
          at: e.at,
          bot: e.bot === 1,
          reason: e.reason,
          fieldsFilled: e.fields_filled ? (JSON.parse(e.fields_filled) as string[]) : null,
        })),
      deliveredAt: delivered.get(r.id) ?? null,
    })),
  };
}

/** Totals over the launched campaigns shared with this account (any role): nobody sees, even summed, a campaign not shared with them. */
export async function overview(deps: Deps, organisationId: string, accountId: string): Promise<OrgPhishingOverview> {
  const settings = await getSettings(deps, organisationId);
  const campaigns = (await store.listCampaignsOfMember(deps.db, organisationId, accountId)).filter((c) => c.launched_at !== null);
  const rule = deliveryRule(deps);
  const all: { difficulty: Difficulty; outcomes: Outcome[] }[] = [];
  for (const c of campaigns) all.push({ difficulty: c.difficulty as Difficulty, outcomes: await outcomesOf(deps, c.id, rule) });
  const clicksPerPerson = new Map<string, number>();
  for (const { outcomes } of all) {
    for (const o of outcomes) if (o.clickedHuman) clicksPerPerson.set(o.recipient.email, (clicksPerPerson.get(o.recipient.email) ?? 0) + 1);
  }
  return {
    byDifficulty: (['easy', 'medium', 'hard'] as const).map((d) => {
      const outcomes = all.filter((a) => a.difficulty === d).flatMap((a) => a.outcomes);
      return { key: d, label: d, counts: outcomes.length ? countOutcomes(outcomes, rule) : null };
    }),
    campaigns: campaigns.map((c, i) => ({ campaignId: c.id, name: c.name, launchedAt: c.launched_at, difficulty: c.difficulty as Difficulty, counts: countOutcomes(all[i]!.outcomes, rule) })),
    repeatClickers: { threshold: settings.repeatClickerThreshold, count: [...clicksPerPerson.values()].filter((n) => n >= settings.repeatClickerThreshold).length },
  };
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // Leading = + - @ would be run as formulas by spreadsheet programs (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** One row per recipient: what they did and when (pseudonymous in privacy mode). */
export async function campaignCsv(deps: Deps, organisationId: string, id: string): Promise<string> {
  const { recipients } = await campaignRecipients(deps, organisationId, id);
  const header = ['person', 'department', 'role', 'status', 'sent_at', 'delivered_at', 'bounced', 'opened', 'clicked_human', 'clicked_bot', 'submitted', 'fields_filled', 'reported_at', 'lesson_completed'];
  const rows = recipients.map((r) => {
    const first = (kind: string, pred: (e: (typeof r.events)[number]) => boolean = () => true) => r.events.find((e) => e.kind === kind && pred(e))?.at ?? '';
    const sub = r.events.find((e) => e.kind === 'submitted' && !e.bot);
    return [
      r.label,
      r.department ?? '',
      r.role,
      r.status,
      first('sent'),
      r.deliveredAt ?? '',
      r.events.find((e) => e.kind === 'bounced')?.reason ?? '',
      first('opened', (e) => !e.bot),
      first('click_confirmed'),
      first('click', (e) => e.bot),
      sub?.at ?? '',
      sub?.fieldsFilled?.join(' ') ?? '',
      first('reported'),
      first('lesson_completed'),
    ];
  });
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
