import { simpleParser, type ParsedMail } from 'mailparser';
import { iso, type Deps } from '../deps.js';
import { eventId } from './event-id.js';
import * as store from './store.js';

/** One per-recipient block of a delivery status notification (RFC 3464 §2.3). */
export interface DsnRecipient {
  finalRecipient: string | null;
  /** failed | delayed | delivered | relayed | expanded (RFC 3464 §2.3.3). */
  action: string;
  /** Enhanced status code, class.subject.detail (RFC 3463), e.g. 5.1.1. */
  status: string;
  diagnostic: string | null;
}

export interface DeliveryStatus {
  /** Tracking ids this notice is about: from the VERP envelope address it was sent to, else the returned Message-ID. */
  tokens: string[];
  recipients: DsnRecipient[];
}

const TOKEN_IN_VERP = /\+([A-Za-z0-9_-]{22})@/;
const TOKEN_IN_ID = /<([A-Za-z0-9_-]{22})@/g;

/**
 * Header-style field groups of a message/delivery-status body (RFC 3464 §2.1): groups separated by
 * blank lines, the first per-message, the others per-recipient; continuation lines are folded.
 */
function fieldGroups(body: string): Map<string, string>[] {
  return body
    .replace(/\r\n/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      let last: string | null = null;
      for (const line of block.split('\n')) {
        if (/^[ \t]/.test(line) && last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
        else {
          const m = /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(line);
          if (m) fields.set((last = m[1]!.toLowerCase()), m[2]!.trim());
        }
      }
      return fields;
    })
    .filter((f) => f.size > 0);
}

/** "rfc822; a@b" → "a@b" (address-type; address, RFC 3464 §2.3.2). */
const addressOf = (v: string | undefined) => (v ? v.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim().toLowerCase() || null : null);

/**
 * The delivery status notification in a mail, if it is one: Content-Type multipart/report with
 * report-type=delivery-status (RFC 6522 §3, RFC 3464 §2), whose message/delivery-status part is
 * parsed for each recipient's Action, Status and Final-Recipient. Null for any other mail.
 */
export async function deliveryStatusOf(raw: string, first: ParsedMail): Promise<DeliveryStatus | null> {
  const ct = first.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (ct?.value?.toLowerCase() !== 'multipart/report' || ct.params?.['report-type']?.toLowerCase() !== 'delivery-status') return null;
  // By default mailparser folds the delivery-status part into the text; keepDeliveryStatus keeps it as a part of its own.
  const parsed = await simpleParser(raw, { keepDeliveryStatus: true, skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 2 * 1024 * 1024 });
  const part = parsed.attachments.find((a) => a.contentType === 'message/delivery-status' || a.contentType === 'message/global-delivery-status');
  if (!part) return null;
  const groups = fieldGroups(part.content.toString('utf8'));
  const recipients = groups
    .filter((g) => g.has('action') && g.has('status'))
    .map((g) => ({
      finalRecipient: addressOf(g.get('final-recipient')) ?? addressOf(g.get('original-recipient')),
      action: g.get('action')!.toLowerCase(),
      status: /\d\.\d{1,3}\.\d{1,3}/.exec(g.get('status')!)?.[0] ?? g.get('status')!,
      diagnostic: g.get('diagnostic-code') ?? null,
    }));
  const tokens = new Set<string>();
  // The notice goes to the envelope sender, bounces+<trackingId>@...: the surest link to the recipient.
  const envelopeTo = [parsed.headers.get('delivered-to'), parsed.headers.get('x-original-to'), parsed.to ? (Array.isArray(parsed.to) ? parsed.to : [parsed.to]).map((a) => a.text).join(' ') : undefined];
  for (const v of envelopeTo) {
    // Delivered-To / X-Original-To come back from mailparser as address objects or strings.
    const text = typeof v === 'string' ? v : v && typeof v === 'object' && 'text' in v ? String(v.text) : null;
    const m = text ? TOKEN_IN_VERP.exec(text) : null;
    if (m) tokens.add(m[1]!);
  }
  // Otherwise the returned headers' Message-ID (<trackingId@sender-domain>), as relays that rewrite the envelope still return it.
  if (!tokens.size) {
    for (const a of parsed.attachments) {
      if (a.contentType === 'text/rfc822-headers' || a.contentType === 'message/rfc822' || a.contentType === 'message/rfc822-headers') {
        const head = a.content.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '';
        const id = /^message-id:\s*(.*)$/im.exec(head)?.[1];
        if (id) for (const m of id.matchAll(TOKEN_IN_ID)) tokens.add(m[1]!);
      }
    }
  }
  return { tokens: [...tokens], recipients };
}

/** Permanent non-delivery: Action "failed" or a 5.x.x status (RFC 3464 §2.3.3, RFC 3463 §3.1). "delayed" (4.x.x, still retried) is not one. */
export const isPermanentFailure = (r: DsnRecipient) => r.action === 'failed' || r.status.startsWith('5.');

/**
 * Records a DSN against the campaign recipient it names: one append-only `bounced` event (its
 * reason the status code and diagnostic) per recipient, and only for a permanent failure.
 * Returns whether a bounce was recorded.
 */
export async function recordDeliveryStatus(deps: Deps, dsn: DeliveryStatus): Promise<boolean> {
  const failed = dsn.recipients.filter(isPermanentFailure);
  if (!failed.length) return false;
  for (const token of dsn.tokens) {
    const r = await store.recipientByToken(deps.db, token);
    if (!r || !r.sent_at) continue;
    // With several recipients in one notice, the one that is ours; one recipient per mail is what we send.
    const ours = failed.find((f) => f.finalRecipient === r.email.toLowerCase()) ?? failed[0]!;
    if (await store.findEvent(deps.db, r.id, 'bounced')) return true;
    const reason = `${ours.status}${ours.diagnostic ? ` ${ours.diagnostic}` : ''}`.slice(0, 500);
    await store.appendEvent(deps.db, { id: eventId(), recipient_id: r.id, campaign_id: r.campaign_id, kind: 'bounced', at: iso(deps.now()), bot: 0, reason, fields_filled: null });
    return true;
  }
  return false;
}
