import {
  API_PREFIX,
  Campaign,
  CampaignList,
  CampaignRecipients,
  CampaignMemberParams,
  CampaignResults,
  CampaignSharing,
  CreateCampaignBody,
  DecideTriageBody,
  IdParams,
  Lesson,
  LessonIdParams,
  LessonList,
  MAX_EML_BYTES,
  MailCheckBody,
  MailCheckResult,
  Ok,
  OrgPhishingOverview,
  PhishTemplate,
  PhishTemplateList,
  PhishingSettings,
  QuizAnswers,
  QuizResult,
  ReportOutcome,
  ReportPhishingBody,
  ShareCampaignBody,
  TemplateBody,
  TemplateIdParams,
  TriageItem,
  TriageList,
} from '@consilium/protocol';
import { z } from 'zod';
import type { Deps } from '../deps.js';
import { actorOf, authOf } from '../http/access.js';
import { errorResponses, type ZodApp } from '../http/route-types.js';
import { auditEvent, recordAudit } from '../audit/record.js';
import { createMailSender } from '../mail/transport.js';
import * as campaigns from './campaigns.js';
import * as results from './results.js';
import * as reports from './reports.js';
import * as lessons from './lessons.js';
import * as sharing from './sharing.js';
import * as customTemplates from './custom-templates.js';
import { requireCampaignRole } from './sharing.js';
import { phishingPublicRoutes } from './public-routes.js';
import { startPhishingRunner, type PhishingRunner } from './runner.js';

/** Room for a 2 MiB mail in a JSON string (escaping can grow it) plus the envelope. */
const EML_BODY_LIMIT = MAX_EML_BYTES * 2 + 64 * 1024;

/**
 * Security officers and admins run campaigns and read results ('auditor' access: the same two
 * roles), each campaign only as far as their role on it allows (owner / author / viewer,
 * sharing.ts); every member can report, check a mail and take the lessons.
 */
export async function phishingRoutes(app: ZodApp, deps: Deps): Promise<void> {
  const base = `${API_PREFIX}/phishing`;
  const org = (request: Parameters<typeof authOf>[0]) => authOf(request).organisation.id;
  const me = (request: Parameters<typeof authOf>[0]) => authOf(request).account.id;
  const tags = ['phishing'];

  app.get(`${base}/templates`, { config: { access: 'auditor' }, schema: { tags, response: { 200: PhishTemplateList, ...errorResponses } } }, async (request) => ({
    templates: await campaigns.listTemplates(deps, org(request)),
  }));
  app.get(
    `${base}/templates/:templateId`,
    { config: { access: 'auditor' }, schema: { tags, params: TemplateIdParams, response: { 200: PhishTemplate, ...errorResponses } } },
    async (request) => campaigns.getTemplate(deps, org(request), request.params.templateId),
  );
  // Custom templates: any admin or security officer of the organisation writes them (audited).
  app.post(
    `${base}/templates`,
    { config: { access: 'auditor' }, schema: { tags, body: TemplateBody, response: { 200: PhishTemplate, ...errorResponses } } },
    async (request) => customTemplates.createTemplate(deps, actorOf(request), org(request), request.body),
  );
  app.put(
    `${base}/templates/:templateId`,
    { config: { access: 'auditor' }, schema: { tags, params: TemplateIdParams, body: TemplateBody, response: { 200: PhishTemplate, ...errorResponses } } },
    async (request) => customTemplates.updateTemplate(deps, actorOf(request), org(request), request.params.templateId, request.body),
  );
  app.delete(
    `${base}/templates/:templateId`,
    { config: { access: 'auditor' }, schema: { tags, params: TemplateIdParams, response: { 200: Ok, ...errorResponses } } },
    async (request) => {
      await customTemplates.deleteTemplate(deps, actorOf(request), org(request), request.params.templateId);
      return { ok: true as const };
    },
  );

  app.get(`${base}/settings`, { config: { access: 'auditor' }, schema: { tags, response: { 200: PhishingSettings, ...errorResponses } } }, async (request) =>
    campaigns.getSettings(deps, org(request)),
  );
  app.put(
    `${base}/settings`,
    { config: { access: 'auditor' }, schema: { tags, body: PhishingSettings, response: { 200: PhishingSettings, ...errorResponses } } },
    async (request) => campaigns.updateSettings(deps, actorOf(request), org(request), request.body),
  );

  app.get(`${base}/campaigns`, { config: { access: 'auditor' }, schema: { tags, response: { 200: CampaignList, ...errorResponses } } }, async (request) => ({
    campaigns: await campaigns.listCampaigns(deps, org(request), me(request)),
  }));
  app.post(
    `${base}/campaigns`,
    { config: { access: 'auditor' }, schema: { tags, body: CreateCampaignBody, response: { 200: Campaign, ...errorResponses } } },
    async (request) => campaigns.createCampaign(deps, actorOf(request), org(request), request.body),
  );
  app.get(`${base}/campaigns/:id`, { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: Campaign, ...errorResponses } } }, async (request) =>
    campaigns.getCampaign(deps, org(request), me(request), request.params.id),
  );
  app.post(
    `${base}/campaigns/:id/launch`,
    { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: Campaign, ...errorResponses } } },
    async (request) => campaigns.launchCampaign(deps, actorOf(request), org(request), request.params.id),
  );
  app.post(
    `${base}/campaigns/:id/cancel`,
    { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: Campaign, ...errorResponses } } },
    async (request) => campaigns.cancelCampaign(deps, actorOf(request), org(request), request.params.id),
  );
  app.get(
    `${base}/campaigns/:id/results`,
    { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: CampaignResults, ...errorResponses } } },
    async (request) => {
      await requireCampaignRole(deps, org(request), me(request), request.params.id, 'viewer');
      return results.campaignResults(deps, org(request), request.params.id);
    },
  );
  app.get(
    `${base}/campaigns/:id/recipients`,
    { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: CampaignRecipients, ...errorResponses } } },
    async (request) => {
      await requireCampaignRole(deps, org(request), me(request), request.params.id, 'viewer');
      return results.campaignRecipients(deps, org(request), request.params.id);
    },
  );
  app.get(`${base}/campaigns/:id/export.csv`, { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: z.string().describe('CSV (text/csv)'), ...errorResponses } } }, async (request, reply) => {
    await requireCampaignRole(deps, org(request), me(request), request.params.id, 'viewer');
    const csv = await results.campaignCsv(deps, org(request), request.params.id);
    await recordAudit(deps, auditEvent(deps, actorOf(request), 'phishing.results_exported', 'R', { entity: { type: 'phishing_campaign', id: request.params.id } }));
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="campaign-${request.params.id}.csv"`)
      .send(csv);
  });
  app.get(`${base}/overview`, { config: { access: 'auditor' }, schema: { tags, response: { 200: OrgPhishingOverview, ...errorResponses } } }, async (request) =>
    results.overview(deps, org(request), me(request)),
  );

  // Sharing: members see the list; only the owner grants and revokes (sharing.ts).
  app.get(
    `${base}/campaigns/:id/members`,
    { config: { access: 'auditor' }, schema: { tags, params: IdParams, response: { 200: CampaignSharing, ...errorResponses } } },
    async (request) => sharing.getSharing(deps, org(request), me(request), request.params.id),
  );
  app.put(
    `${base}/campaigns/:id/members/:accountId`,
    { config: { access: 'auditor' }, schema: { tags, params: CampaignMemberParams, body: ShareCampaignBody, response: { 200: CampaignSharing, ...errorResponses } } },
    async (request) => sharing.shareCampaign(deps, actorOf(request), org(request), request.params.id, request.params.accountId, request.body.role),
  );
  app.delete(
    `${base}/campaigns/:id/members/:accountId`,
    { config: { access: 'auditor' }, schema: { tags, params: CampaignMemberParams, response: { 200: CampaignSharing, ...errorResponses } } },
    async (request) => sharing.unshareCampaign(deps, actorOf(request), org(request), request.params.id, request.params.accountId),
  );

  app.get(`${base}/triage`, { config: { access: 'auditor' }, schema: { tags, response: { 200: TriageList, ...errorResponses } } }, async (request) => ({
    items: await reports.triageQueue(deps, org(request)),
  }));
  app.post(
    `${base}/triage/:id`,
    { config: { access: 'auditor' }, schema: { tags, params: IdParams, body: DecideTriageBody, response: { 200: TriageItem, ...errorResponses } } },
    async (request) => reports.decideTriage(deps, actorOf(request), org(request), request.params.id, request.body.status),
  );

  app.post(
    `${base}/reports`,
    { config: { access: 'member' }, bodyLimit: EML_BODY_LIMIT, schema: { tags, body: ReportPhishingBody, response: { 200: ReportOutcome, ...errorResponses } } },
    async (request) => reports.reportPhishing(deps, actorOf(request), org(request), authOf(request).account.id, request.body),
  );
  app.post(
    `${base}/check`,
    { config: { access: 'member' }, bodyLimit: EML_BODY_LIMIT, schema: { tags, body: MailCheckBody, response: { 200: MailCheckResult, ...errorResponses } } },
    async (request) => reports.checkSuspiciousMail(deps, org(request), request.body.eml),
  );

  app.get(`${base}/lessons`, { config: { access: 'member' }, schema: { tags, response: { 200: LessonList, ...errorResponses } } }, async (request) => ({
    lessons: await lessons.listLessons(deps, authOf(request).account.id),
  }));
  app.get(
    `${base}/lessons/:lessonId`,
    { config: { access: 'member' }, schema: { tags, params: LessonIdParams, response: { 200: Lesson, ...errorResponses } } },
    async (request) => lessons.getLesson(request.params.lessonId),
  );
  app.post(
    `${base}/lessons/:lessonId/quiz`,
    { config: { access: 'member' }, schema: { tags, params: LessonIdParams, body: QuizAnswers, response: { 200: QuizResult, ...errorResponses } } },
    async (request) => lessons.submitQuiz(deps, authOf(request).account.id, request.params.lessonId, request.body.answers),
  );

  await phishingPublicRoutes(app, deps);

  const mailer = createMailSender(deps.config);
  let runner: PhishingRunner | null = null;
  app.addHook('onReady', async () => {
    runner = startPhishingRunner(deps, mailer, app.log);
  });
  app.addHook('onClose', async () => {
    await runner?.stop();
    mailer.close();
  });
}
