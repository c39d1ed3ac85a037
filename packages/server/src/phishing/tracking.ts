import { eventId } from './event-id.js';
import { iso, type Deps } from '../deps.js';
import * as store from './store.js';

/**
 * Bot-click rules (documented in docs/operations/phishing.md). Mail gateways and link-safety
 * services (Defender Safe Links, Proofpoint URL Defense, Mimecast, Barracuda ...) fetch every
 * link, often within seconds of delivery, with HEAD requests or non-browser user agents. A click
 * is recorded for every fetch, marked as bot or not by these rules; a click counts as a
 * PERSON's only when the landing page's script confirms it after a real interaction (pointer,
 * key, touch or scroll), and the dashboards' headline numbers count only those.
 *   1. HEAD (or any method but GET): bot, "head_request".
 *   2. No user agent, or one naming a scanner, HTTP library or headless browser: bot, "scanner_user_agent".
 *   3. Fetched within botWindowSeconds of delivery: bot, "too_soon_after_delivery" (a person who
 *      really was that fast is still counted when the script confirms).
 */
const SCANNER_UA =
  /bot\b|crawler|spider|slurp|preview|scan|curl|wget|python|java\/|okhttp|go-http-client|libwww|httpclient|axios|node-fetch|undici|headless|phantomjs|electron|safelinks|urldefense|proofpoint|mimecast|barracuda|symantec|messagelabs|forcepoint|zscaler|fortiguard|trendmicro|sophos|cisco|ironport|microsoft office|ms-office|outlook-|skypeuripreview|facebookexternalhit|slackbot|whatsapp|google-read-aloud|apache-httpclient|powershell|winhttp|ruby|perl|php/i;

export interface ClickClass {
  bot: boolean;
  reason: string | null;
}

export function classifyFetch(input: { method: string; userAgent: string | null; sentAt: string | null; now: Date; botWindowSeconds: number }): ClickClass {
  if (input.method !== 'GET') return { bot: true, reason: 'head_request' };
  const ua = input.userAgent?.trim() ?? '';
  if (!ua || SCANNER_UA.test(ua) || !/mozilla\/|opera\//i.test(ua)) return { bot: true, reason: 'scanner_user_agent' };
  if (input.sentAt && input.now.getTime() - Date.parse(input.sentAt) < input.botWindowSeconds * 1000) return { bot: true, reason: 'too_soon_after_delivery' };
  return { bot: false, reason: null };
}

type EventRow = Parameters<typeof store.appendEvent>[1];

/**
 * Group commit for the public tracking routes: opens and clicks that arrive together are written
 * in one transaction (one fsync) and each request is answered only after its row is committed.
 * Scanners fetch every link of a campaign within seconds; one commit per fetch would queue them.
 */
class EventBatcher {
  private pending: { row: EventRow; done: (err?: unknown) => void }[] = [];
  private scheduled = false;
  constructor(private readonly deps: Deps) {}
  write(row: EventRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ row, done: (err) => (err ? reject(err) : resolve()) });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }
  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending.splice(0);
    try {
      await this.deps.db.transaction().execute(async (trx) => {
        // Chunks keep SQLite under its bound-parameter limit.
        for (let i = 0; i < batch.length; i += 100) await trx.insertInto('phishing_event').values(batch.slice(i, i + 100).map((b) => b.row)).execute();
      });
      for (const b of batch) b.done();
    } catch (err) {
      for (const b of batch) b.done(err);
    }
  }
}
const batchers = new WeakMap<Deps, EventBatcher>();
const batcherOf = (deps: Deps) => {
  let b = batchers.get(deps);
  if (!b) batchers.set(deps, (b = new EventBatcher(deps)));
  return b;
};

/** Appends an event; `batched` (public routes only, never inside a transaction) group-commits it. */
async function append(deps: Deps, r: store.RecipientRow, kind: string, fields: { bot?: boolean; reason?: string | null; fieldsFilled?: string[] | null } = {}, batched = false): Promise<string> {
  const row: EventRow = {
    id: eventId(),
    recipient_id: r.id,
    campaign_id: r.campaign_id,
    kind,
    at: iso(deps.now()),
    bot: fields.bot ? 1 : 0,
    reason: fields.reason ?? null,
    fields_filled: fields.fieldsFilled ? JSON.stringify(fields.fieldsFilled) : null,
  };
  if (batched) await batcherOf(deps).write(row);
  else await store.appendEvent(deps.db, row);
  return row.id;
}

/** The recipient of a tracking id, if the mail was actually sent (a scheduled one has no link out yet). */
export async function trackedRecipient(deps: Deps, token: string): Promise<store.RecipientRow | null> {
  const r = await store.recipientByToken(deps.db, token);
  return r && r.sent_at ? r : null;
}

export async function recordOpen(deps: Deps, r: store.RecipientRow, userAgent: string | null): Promise<void> {
  const c = classifyFetch({ method: 'GET', userAgent, sentAt: r.sent_at, now: deps.now(), botWindowSeconds: deps.config.phishing.botWindowSeconds });
  await append(deps, r, 'opened', c, true);
}

/** Records a fetch of the link; returns the click's id, which the landing script echoes to confirm. */
export async function recordClick(deps: Deps, r: store.RecipientRow, method: string, userAgent: string | null): Promise<{ clickId: string; bot: ClickClass }> {
  const c = classifyFetch({ method, userAgent, sentAt: r.sent_at, now: deps.now(), botWindowSeconds: deps.config.phishing.botWindowSeconds });
  const clickId = await append(deps, r, 'click', c, true);
  return { clickId, bot: c };
}

/**
 * The landing script's confirmation that a person interacted. Accepted once per click, only for a
 * click of this recipient that was a GET by a browser-like agent (rules 1-2); rule 3 is lifted.
 */
export async function confirmClick(deps: Deps, r: store.RecipientRow, clickId: string): Promise<boolean> {
  const click = await store.getEvent(deps.db, clickId);
  if (!click || click.recipient_id !== r.id || click.kind !== 'click') return false;
  if (click.reason === 'head_request' || click.reason === 'scanner_user_agent') return false;
  const reason = `click:${clickId}`;
  if (await store.findEvent(deps.db, r.id, 'click_confirmed', reason)) return true;
  await append(deps, r, 'click_confirmed', { reason });
  return true;
}

/** Records THAT the form was submitted and which fields held something; the values are never stored. */
export async function recordSubmission(deps: Deps, r: store.RecipientRow, fieldsFilled: string[], confirmedByScript: boolean): Promise<void> {
  await append(deps, r, 'submitted', { bot: !confirmedByScript, reason: confirmedByScript ? null : 'no_script_confirmation', fieldsFilled });
}

export async function recordLessonCompleted(deps: Deps, r: store.RecipientRow): Promise<void> {
  if (await store.findEvent(deps.db, r.id, 'lesson_completed')) return;
  await append(deps, r, 'lesson_completed');
}

export async function recordReported(deps: Deps, r: store.RecipientRow, via: string): Promise<boolean> {
  if (await store.findEvent(deps.db, r.id, 'reported')) return false;
  await append(deps, r, 'reported', { reason: via });
  return true;
}
