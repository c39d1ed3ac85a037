import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TrackingToken } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import { templateLibrary } from './templates.js';
import { LANDING_CSS, LANDING_SCRIPT, PIXEL, landingPage, momentPage } from './pages.js';
import { confirmClick, recordClick, recordLessonCompleted, recordOpen, recordSubmission, trackedRecipient } from './tracking.js';
import { newTrackingToken, templateOfRow } from './campaigns.js';
import { findEvent, getCampaign } from './store.js';
import { randomUUID } from 'node:crypto';
import { merge } from './templates.js';
import { trackingUrls } from './sender.js';

/**
 * Per-address fixed-window limit for the public routes, in memory (each node limits on its own:
 * good enough to stop a client from hammering or enumerating; tokens are 128-bit anyway).
 */
export class PublicRateLimit {
  private windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly perMinute: number,
    private readonly now: () => Date,
  ) {}
  /** Seconds to wait, or 0 if the request may go ahead. */
  take(key: string): number {
    const t = this.now().getTime();
    if (this.windows.size > 50_000) this.windows.clear();
    const w = this.windows.get(key);
    if (!w || t - w.start >= 60_000) {
      this.windows.set(key, { start: t, count: 1 });
      return 0;
    }
    w.count++;
    return w.count > this.perMinute ? Math.max(1, Math.ceil((w.start + 60_000 - t) / 1000)) : 0;
  }
}

const uaOf = (request: FastifyRequest): string | null => {
  const ua = request.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 512) : null;
};

/** Unknown and malformed ids get the same answers as real ones, so the routes are no oracle. */
const tokenOf = (raw: string): string | null => (TrackingToken.safeParse(raw).success ? raw : null);

/**
 * The routes a simulated mail links to, outside /api: open pixel, link, landing page, the
 * script's confirmation, the form submission and the teachable moment. They never store a
 * submitted value, answer identically for unknown ids, and are rate-limited per address.
 */
export async function phishingPublicRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  await app.register(async (scope) => {
    const limit = new PublicRateLimit(deps.config.phishing.publicRateLimitPerMinute, deps.now);
    // Form posts from the landing page. Only field names survive parsing into the handler.
    // Not part of the API: hidden from the OpenAPI document; public (no session) by design.
    const hidden = { config: { access: 'public' as const }, schema: { hide: true } };
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
      try {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      } catch (err) {
        done(err as Error);
      }
    });
    scope.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('cache-control', 'no-store');
      reply.header('x-robots-tag', 'noindex, nofollow');
      const wait = limit.take(request.ip ?? 'unknown');
      if (wait) {
        reply.header('retry-after', String(wait));
        return reply.code(429).type('text/plain; charset=utf-8').send('Too many requests. Try again later.');
      }
    });

    scope.get('/t/landing.js', hidden, async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(LANDING_SCRIPT));
    scope.get('/t/landing.css', hidden, async (_req, reply) => reply.type('text/css; charset=utf-8').send(LANDING_CSS));

    scope.get<{ Params: { file: string } }>('/t/o/:file', hidden, async (request, reply) => {
      const token = tokenOf(request.params.file.replace(/\.gif$/, ''));
      const r = token && request.method === 'GET' ? await trackedRecipient(deps, token) : null;
      if (r) await recordOpen(deps, r, uaOf(request));
      return reply.type('image/gif').send(PIXEL);
    });

    scope.get<{ Params: { token: string } }>('/t/c/:token', hidden, async (request, reply) => {
      const token = tokenOf(request.params.token);
      const r = token ? await trackedRecipient(deps, token) : null;
      if (!r) return reply.type('text/html; charset=utf-8').send(landingPage(templateLibrary[0]!.landing, newTrackingToken(), randomUUID()));
      const campaign = await getCampaign(deps.db, r.campaign_id);
      const template = campaign ? templateOfRow(campaign) : templateLibrary[0]!;
      const { clickId } = await recordClick(deps, r, request.method, uaOf(request));
      return reply.type('text/html; charset=utf-8').send(landingPage(template.landing, r.token, clickId));
    });

    scope.post<{ Params: { token: string }; Body: unknown }>('/t/c/:token/confirm', hidden, async (request, reply) => {
      const token = tokenOf(request.params.token);
      const body = request.body as { click?: unknown } | undefined;
      const clickId = typeof body?.click === 'string' ? body.click : '';
      const r = token ? await trackedRecipient(deps, token) : null;
      if (r && clickId) await confirmClick(deps, r, clickId);
      return reply.code(204).send();
    });

    scope.post<{ Params: { token: string }; Body: unknown }>('/t/s/:token', hidden, async (request, reply) => {
      const token = tokenOf(request.params.token);
      const form = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
      const r = token ? await trackedRecipient(deps, token) : null;
      if (r) {
        const campaign = await getCampaign(deps.db, r.campaign_id);
        const template = campaign ? templateOfRow(campaign) : undefined;
        const known = template?.landing.fields ?? [];
        // Only names of the landing page's own fields, and only whether they held anything.
        const filled = known.filter((f) => typeof form[f] === 'string' && (form[f] as string).length > 0);
        const clickId = typeof form._click === 'string' ? form._click : '';
        const confirmed = form._js === '1' && clickId !== '' && (await confirmClick(deps, r, clickId));
        await recordSubmission(deps, r, filled, confirmed);
      }
      // The values go no further than this function's local variables.
      return reply.redirect(`/t/m/${token ?? newTrackingToken()}`, 303);
    });

    scope.get<{ Params: { token: string } }>('/t/m/:token', hidden, async (request, reply) => {
      const token = tokenOf(request.params.token) ?? newTrackingToken();
      const r = await trackedRecipient(deps, token);
      let mail = null;
      let completed = false;
      if (r) {
        const campaign = await getCampaign(deps.db, r.campaign_id);
        const t = campaign ? templateOfRow(campaign) : undefined;
        if (campaign && t) {
          const urls = trackingUrls(deps.config.publicUrl, r.token);
          const values = { firstName: r.display_name.split(/\s+/)[0] ?? '', name: r.display_name, email: r.email, orgName: '', department: '', date: new Date(r.scheduled_at).toUTCString(), link: `[${t.linkText}] -> ${urls.link}`, pixel: urls.pixel };
          mail = { subject: merge(t.subject, values, false), from: `${t.fromName} <${t.fromLocalPart}@${campaign.sender_domain}>`, text: merge(t.text, values, false), cues: t.cues };
        }
        completed = Boolean(await findEvent(deps.db, r.id, 'lesson_completed'));
      }
      return reply.type('text/html; charset=utf-8').send(momentPage(token, mail, completed));
    });

    scope.post<{ Params: { token: string } }>('/t/m/:token/done', hidden, async (request, reply) => {
      const token = tokenOf(request.params.token);
      const r = token ? await trackedRecipient(deps, token) : null;
      if (r) await recordLessonCompleted(deps, r);
      return reply.redirect(`/t/m/${token ?? newTrackingToken()}`, 303);
    });
  });
}
