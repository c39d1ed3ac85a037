import { eventId } from './event-id.js';
import { addSeconds, iso, type Deps } from '../deps.js';
import type { MailSender, OutgoingMail } from '../mail/transport.js';
import { getDepartmentInOrg, getOrganisation } from '../orgs/store.js';
import * as store from './store.js';
import { templateOfRow } from './campaigns.js';
import { merge } from './templates.js';

/** A claim older than this belongs to a sender that died mid-send; the mail is retried. */
const STALE_CLAIM_SECONDS = 10 * 60;
/** Recipients one sendDue call takes on; the runner calls again at once while batches come back full. */
export const SEND_BATCH = 100;

export const trackingUrls = (publicUrl: string, token: string) => {
  const base = publicUrl.replace(/\/+$/, '');
  return { link: `${base}/t/c/${token}`, pixel: `${base}/t/o/${token}.gif`, moment: `${base}/t/m/${token}` };
};

/** VERP (variable envelope return path): "bounces@d" becomes "bounces+<trackingId>@d", so a bounce names its recipient. */
export const bounceAddressFor = (bounceAddress: string, token: string): string => {
  const at = bounceAddress.lastIndexOf('@');
  return `${bounceAddress.slice(0, at)}+${token}@${bounceAddress.slice(at + 1)}`;
};

/** Backoff after the n-th failed attempt: 1, 2, 4, 8 ... minutes, at most an hour. */
export const retryDelaySeconds = (attempts: number): number => Math.min(3600, 60 * 2 ** Math.max(0, attempts - 1));

/** Names looked up while composing, kept for one batch (a batch mostly shares them). */
export type NameCache = Map<string, Promise<string>>;

export async function composeMail(deps: Deps, r: store.RecipientRow, campaign: store.CampaignRow, names: NameCache = new Map()): Promise<OutgoingMail> {
  const t = templateOfRow(campaign);
  const once = (key: string, look: () => Promise<string>) => {
    if (!names.has(key)) names.set(key, look());
    return names.get(key)!;
  };
  const orgName = await once(`o:${campaign.organisation_id}`, async () => (await getOrganisation(deps.db, campaign.organisation_id))?.name ?? '');
  const deptName = r.department_id ? await once(`d:${r.department_id}`, async () => (await getDepartmentInOrg(deps.db, campaign.organisation_id, r.department_id!))?.name ?? '') : '';
  const urls = trackingUrls(deps.config.publicUrl, r.token);
  const values = {
    firstName: r.display_name.split(/\s+/)[0] ?? r.display_name,
    name: r.display_name,
    email: r.email,
    orgName,
    department: deptName,
    date: new Date(r.scheduled_at).toUTCString(),
    link: urls.link,
    pixel: urls.pixel,
  };
  const fromName = t.fromName.replace(/["\\]/g, '');
  return {
    from: `"${fromName}" <${t.fromLocalPart}@${campaign.sender_domain}>`,
    to: `"${r.display_name.replace(/["\\]/g, '')}" <${r.email}>`,
    subject: merge(t.subject, values, false),
    text: merge(t.text, values, false),
    html: merge(t.html, values, true),
    // The tracking id in the Message-ID lets a forwarded report be matched even if links were rewritten.
    messageId: `<${r.token}@${campaign.sender_domain}>`,
    ...(deps.config.phishing.bounceAddress ? { envelopeFrom: bounceAddressFor(deps.config.phishing.bounceAddress, r.token) } : {}),
  };
}

export interface SendReport {
  sent: number;
  failed: number;
  retrying: number;
}

/** Mails in flight at once: SMTP round trips overlap (the transport's pool bounds connections). */
const SEND_CONCURRENCY = 4;

type Outcome = { r: store.RecipientRow; attempts: number; at: Date } & ({ ok: true; messageId: string } | { ok: false; error: string });

/**
 * Sends every mail that is due by the injected clock. Each recipient is claimed with a
 * compare-and-set on its row, so two schedulers (or two nodes) never send the same mail twice;
 * a claim left by a crash is taken over after STALE_CLAIM_SECONDS (that mail may then go twice,
 * which we prefer to never). A batch is claimed in one transaction and its results recorded in
 * another (two commits per batch instead of two per mail); a crash between sending and
 * recording leaves at most that batch to be sent again after the stale-claim delay.
 */
export async function sendDue(deps: Deps, mailer: MailSender): Promise<SendReport> {
  const report: SendReport = { sent: 0, failed: 0, retrying: 0 };
  const now = deps.now();
  // Rows in id order, so two nodes claiming overlapping batches lock them in the same order.
  const due = (await store.dueRecipients(deps.db, iso(now), iso(addSeconds(now, -STALE_CLAIM_SECONDS)), SEND_BATCH)).sort((a, b) => (a.id < b.id ? -1 : 1));
  const touched = new Set<string>();
  const claimed = await deps.db.transaction().execute(async (trx) => {
    const campaigns = new Map<string, store.CampaignRow | undefined>();
    const out: { r: store.RecipientRow; campaign: store.CampaignRow }[] = [];
    for (const r of due) {
      if (!campaigns.has(r.campaign_id)) campaigns.set(r.campaign_id, await store.getCampaign(trx, r.campaign_id));
      const campaign = campaigns.get(r.campaign_id);
      if (!campaign || campaign.status === 'cancelled' || campaign.status === 'draft') continue;
      if (!(await store.claimRecipient(trx, r, iso(now)))) continue;
      touched.add(campaign.id);
      if (campaign.status === 'scheduled') {
        await store.moveCampaign(trx, campaign.id, ['scheduled'], { status: 'sending' });
        campaigns.set(campaign.id, { ...campaign, status: 'sending' });
      }
      out.push({ r, campaign });
    }
    return out;
  });

  const outcomes: Outcome[] = [];
  const names: NameCache = new Map();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SEND_CONCURRENCY, claimed.length) }, async () => {
      while (next < claimed.length) {
        const { r, campaign } = claimed[next++]!;
        const attempts = r.attempts + 1;
        try {
          const mail = await composeMail(deps, r, campaign, names);
          await mailer.send(mail);
          outcomes.push({ r, attempts, at: deps.now(), ok: true, messageId: mail.messageId });
        } catch (err) {
          outcomes.push({ r, attempts, at: deps.now(), ok: false, error: (err instanceof Error ? err.message : String(err)).slice(0, 500) });
        }
      }
    }),
  );

  if (outcomes.length) {
    await deps.db.transaction().execute(async (trx) => {
      for (const o of outcomes) {
        const { r, attempts } = o;
        const at = iso(o.at);
        if (o.ok) {
          await store.updateRecipient(trx, r.id, { status: 'sent', attempts, sent_at: at, message_id: o.messageId, claimed_at: null, last_error: null });
          await store.appendEvent(trx, { id: eventId(), recipient_id: r.id, campaign_id: r.campaign_id, kind: 'sent', at, bot: 0, reason: null, fields_filled: null });
          report.sent++;
        } else if (attempts >= deps.config.phishing.maxSendAttempts) {
          await store.updateRecipient(trx, r.id, { status: 'failed', attempts, claimed_at: null, last_error: o.error });
          await store.appendEvent(trx, { id: eventId(), recipient_id: r.id, campaign_id: r.campaign_id, kind: 'send_failed', at, bot: 0, reason: o.error, fields_filled: null });
          report.failed++;
        } else {
          await store.updateRecipient(trx, r.id, { status: 'retrying', attempts, claimed_at: null, last_error: o.error, next_attempt_at: iso(addSeconds(o.at, retryDelaySeconds(attempts))) });
          report.retrying++;
        }
      }
    });
  }
  for (const id of touched) {
    if ((await store.pendingCount(deps.db, id)) === 0) await store.moveCampaign(deps.db, id, ['scheduled', 'sending'], { status: 'completed', completed_at: iso(deps.now()) });
  }
  return report;
}
