import { randomUUID } from 'node:crypto';
import type { MailCheckResult, ReportOutcome, ReportPhishingBody, TriageItem } from '@consilium/protocol';
import type { ParsedMail } from 'mailparser';
import { inTransaction, iso, type Deps } from '../deps.js';
import { ConsiliumError, notFound } from '../errors.js';
import { auditEvent, recordAudit, systemActor, type Actor } from '../audit/record.js';
import { getAccountByEmail, listAccountsInOrg } from '../accounts/store.js';
import * as store from './store.js';
import { analyse, parseMail } from './mail-check.js';
import { recordReported } from './tracking.js';
import { deliveryStatusOf, recordDeliveryStatus } from './bounces.js';

const TOKEN_IN_LINK = /\/t\/[com]\/([A-Za-z0-9_-]{22})/g;
const TOKEN_IN_ID = /<([A-Za-z0-9_-]{22})@/g;

/** Tracking ids found in a mail: in its links (even quoted-printable or forwarded inside another mail) and its Message-ID / References. */
export async function trackingTokensIn(raw: string, parsed: ParsedMail, depth = 0): Promise<string[]> {
  const found = new Set<string>();
  const scan = (s: string | undefined | null, re: RegExp) => {
    if (s) for (const m of s.matchAll(re)) found.add(m[1]!);
  };
  const unfolded = raw.replace(/=\r?\n/g, '').replace(/=3D/gi, '=');
  scan(unfolded, TOKEN_IN_LINK);
  scan(parsed.text, TOKEN_IN_LINK);
  scan(typeof parsed.html === 'string' ? parsed.html : null, TOKEN_IN_LINK);
  const ids = [parsed.messageId, parsed.inReplyTo, ...(Array.isArray(parsed.references) ? parsed.references : parsed.references ? [parsed.references] : [])].join(' ');
  scan(ids, TOKEN_IN_ID);
  if (depth < 2) {
    for (const a of parsed.attachments) {
      if (a.contentType === 'message/rfc822' || /\.eml$/i.test(a.filename ?? '')) {
        const inner = a.content.toString('utf8');
        for (const t of await trackingTokensIn(inner, await parseMail(inner), depth + 1)) found.add(t);
      }
    }
  }
  return [...found];
}

/** The organisation's own mail domains, from its directory: lookalikes of these are flagged. */
export async function ownDomains(deps: Deps, organisationId: string): Promise<string[]> {
  const accounts = await listAccountsInOrg(deps.db, organisationId);
  return [...new Set(accounts.map((a) => a.email.split('@').pop()!.toLowerCase()))].filter((d) => !d.endsWith('.test') && !d.endsWith('.example'));
}

export async function checkSuspiciousMail(deps: Deps, organisationId: string, raw: string): Promise<MailCheckResult> {
  let parsed: ParsedMail;
  try {
    parsed = await parseMail(raw);
  } catch (err) {
    throw new ConsiliumError('BAD_REQUEST', `this is not a mail we can read: ${(err as Error).message}`);
  }
  const named = new Set(parsed.headerLines.map((h) => h.key));
  if (!['from', 'to', 'subject', 'date', 'received', 'message-id'].some((k) => named.has(k))) throw new ConsiliumError('BAD_REQUEST', 'this is not a mail: it has no headers (save the mail as .eml, or copy its source)');
  return analyse(parsed, { ownDomains: await ownDomains(deps, organisationId) });
}

/**
 * One-click report by a signed-in person. A simulated mail of their own (matched by tracking id)
 * counts as reported for them; anything else goes to the triage queue with the check's findings.
 */
export async function reportPhishing(deps: Deps, actor: Actor, organisationId: string, accountId: string, body: ReportPhishingBody): Promise<ReportOutcome> {
  let parsed: ParsedMail | null = null;
  if (body.eml) {
    try {
      parsed = await parseMail(body.eml);
    } catch (err) {
      throw new ConsiliumError('BAD_REQUEST', `this is not a mail we can read: ${(err as Error).message}`);
    }
  }
  if (!parsed && !body.note) throw new ConsiliumError('VALIDATION_FAILED', 'attach the mail or describe it');
  if (parsed && body.eml) {
    for (const token of await trackingTokensIn(body.eml, parsed)) {
      const r = await store.recipientByToken(deps.db, token);
      if (!r || r.organisation_id !== organisationId || !r.sent_at) continue;
      // Credit goes to the person the mail was sent to; a colleague reporting it gets thanks but no credit for them.
      const own = r.account_id === accountId;
      await inTransaction(deps, async (tx) => {
        const first = own ? await recordReported(tx, r, 'button') : false;
        await recordAudit(
          tx,
          auditEvent(tx, actor, 'phishing.report_received', 'C', { entity: { type: 'phishing_campaign', id: r.campaign_id }, detail: { source: 'button', simulated: true, counted: first } }),
        );
      });
      return { simulated: true, reportId: null, message: 'Well spotted: this was a phishing drill. Your report has been counted.' };
    }
  }
  const check = parsed ? analyse(parsed, { ownDomains: await ownDomains(deps, organisationId) }) : null;
  const id = randomUUID();
  await inTransaction(deps, async (tx) => {
    await store.insertReport(tx.db, {
      id,
      organisation_id: organisationId,
      source: 'button',
      reporter_account_id: accountId,
      reporter_address: null,
      reported_at: iso(tx.now()),
      subject: check?.subject?.slice(0, 500) ?? null,
      from_address: check?.from?.slice(0, 500) ?? null,
      note: body.note ?? null,
      verdict: check?.verdict ?? null,
      signs: JSON.stringify(check?.signs ?? []),
      raw_eml: body.eml ?? null,
      status: 'new',
      decided_by: null,
      decided_at: null,
    });
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.report_received', 'C', { entity: { type: 'phishing_report', id }, detail: { source: 'button', simulated: false, verdict: check?.verdict ?? null } }));
  });
  return { simulated: false, reportId: id, message: 'Thank you. The security team has your report and will look at it.' };
}

/**
 * A mail reaching the report address (polled over IMAP): a bounce of campaign mail, or a forwarded report. The forwarder is identified by the
 * From address of the forwarding mail; a simulated mail counts as reported for its recipient
 * when that recipient forwarded it.
 */
export async function ingestReportedMail(deps: Deps, raw: string): Promise<'simulated' | 'triage' | 'ignored' | 'bounced'> {
  const parsed = await parseMail(raw);
  // A delivery status notification (to our VERP bounce address) is not a report: a permanent
  // failure becomes the recipient's `bounced` event; a delay notice (4.x.x, still retried) changes nothing.
  const dsn = await deliveryStatusOf(raw, parsed);
  if (dsn) return (await recordDeliveryStatus(deps, dsn)) ? 'bounced' : 'ignored';
  const forwarder = parsed.from?.value[0]?.address?.toLowerCase() ?? null;
  for (const token of await trackingTokensIn(raw, parsed)) {
    const r = await store.recipientByToken(deps.db, token);
    if (!r || !r.sent_at) continue;
    const own = forwarder !== null && forwarder === r.email.toLowerCase();
    await inTransaction(deps, async (tx) => {
      const first = own ? await recordReported(tx, r, 'mailbox') : false;
      await recordAudit(
        tx,
        auditEvent(tx, systemActor(r.organisation_id), 'phishing.report_received', 'C', { entity: { type: 'phishing_campaign', id: r.campaign_id }, detail: { source: 'mailbox', simulated: true, counted: first } }),
      );
    });
    return 'simulated';
  }
  const account = forwarder ? await getAccountByEmail(deps.db, forwarder) : undefined;
  if (!account) return 'ignored'; // not from our staff: no organisation to file it under
  // The reported mail is usually attached (message/rfc822); check that one, else the forward itself.
  const inner = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
  const subjectMail = inner ? await parseMail(inner.content) : parsed;
  const check = analyse(subjectMail, { ownDomains: await ownDomains(deps, account.organisation_id) });
  const id = randomUUID();
  await inTransaction(deps, async (tx) => {
    await store.insertReport(tx.db, {
      id,
      organisation_id: account.organisation_id,
      source: 'mailbox',
      reporter_account_id: account.id,
      reporter_address: forwarder,
      reported_at: iso(tx.now()),
      subject: check.subject?.slice(0, 500) ?? null,
      from_address: check.from?.slice(0, 500) ?? null,
      note: null,
      verdict: check.verdict,
      signs: JSON.stringify(check.signs),
      raw_eml: raw.length <= 2 * 1024 * 1024 ? raw : null,
      status: 'new',
      decided_by: null,
      decided_at: null,
    });
    await recordAudit(
      tx,
      auditEvent(tx, systemActor(account.organisation_id), 'phishing.report_received', 'C', { entity: { type: 'phishing_report', id }, detail: { source: 'mailbox', simulated: false, verdict: check.verdict } }),
    );
  });
  return 'triage';
}

function toTriageItem(row: store.ReportRow, reporter: string | null): TriageItem {
  return {
    id: row.id,
    source: row.source as TriageItem['source'],
    reporter,
    reportedAt: row.reported_at,
    subject: row.subject,
    from: row.from_address,
    note: row.note,
    verdict: row.verdict as TriageItem['verdict'],
    signs: JSON.parse(row.signs) as TriageItem['signs'],
    status: row.status as TriageItem['status'],
    decidedAt: row.decided_at,
  };
}

export async function triageQueue(deps: Deps, organisationId: string): Promise<TriageItem[]> {
  const rows = await store.listReports(deps.db, organisationId, 500);
  const names = new Map((await listAccountsInOrg(deps.db, organisationId)).map((a) => [a.id, a.display_name]));
  return rows.map((r) => toTriageItem(r, r.reporter_account_id ? (names.get(r.reporter_account_id) ?? null) : r.reporter_address));
}

export async function decideTriage(deps: Deps, actor: Actor, organisationId: string, id: string, status: 'phishing' | 'spam' | 'benign'): Promise<TriageItem> {
  return inTransaction(deps, async (tx) => {
    const row = await store.getReportInOrg(tx.db, organisationId, id);
    if (!row) throw notFound('report');
    const decidedAt = iso(tx.now());
    await store.updateReport(tx.db, id, { status, decided_by: actor.accountId, decided_at: decidedAt });
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.triage_decided', 'U', { entity: { type: 'phishing_report', id }, detail: { status } }));
    return toTriageItem({ ...row, status, decided_at: decidedAt }, null);
  });
}
