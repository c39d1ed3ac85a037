import { randomUUID } from 'node:crypto';
import sanitizeHtml from 'sanitize-html';
import type { PhishTemplate, TemplateBody } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import { ConsiliumError, notFound } from '../errors.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import { cueBand, detectionDifficulty, premiseBand } from './phish-scale.js';
import { findTemplate, htmlOf, templateLibrary, unknownMergeFields } from './templates.js';

/**
 * Custom templates, written by an organisation's admins and security officers. What makes them
 * safe to send and to show:
 * - merge fields are checked before anything else: an unknown one is refused with
 *   UNKNOWN_MERGE_FIELD naming it;
 * - the HTML is sanitised with sanitize-html (an allow-list: no script, style, iframe, form or
 *   event-handler attribute; links only http, https, mailto or the {{link}} merge field);
 * - each cue's excerpt must be in the mail, so the teachable moment can highlight it;
 * - the Phish Scale difficulty is computed (phish-scale.ts), never typed.
 * The web app previews the HTML only in an iframe with sandbox="" and srcdoc.
 */
const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img'],
  allowedAttributes: { a: ['href', 'title'], img: ['src', 'alt', 'width', 'height'], td: ['colspan', 'rowspan'], th: ['colspan', 'rowspan'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
};

export const sanitizeTemplateHtml = (html: string): string => sanitizeHtml(html, SANITIZE);

function buildCustom(id: string, body: TemplateBody): PhishTemplate {
  const unknown = unknownMergeFields(body.subject, body.fromName, body.text, body.html, body.linkText);
  if (unknown.length) throw new ConsiliumError('UNKNOWN_MERGE_FIELD', `unknown merge field ${unknown.map((f) => `{{${f}}}`).join(', ')}`);
  if (!/\{\{\s*link\s*\}\}/.test(body.text)) throw new ConsiliumError('VALIDATION_FAILED', 'the text must hold {{link}}');
  const visible = `${body.fromName}\n${body.subject}\n${body.text}\n${body.linkText}`;
  const missing = body.cues.find((c) => c.excerpt !== '' && !visible.includes(c.excerpt));
  if (missing) throw new ConsiliumError('VALIDATION_FAILED', `the cue "${missing.label}" points at text that is not in the mail`);
  const html = body.html.trim() ? sanitizeTemplateHtml(body.html) : htmlOf(body);
  return {
    id,
    ...body,
    html,
    cueCount: body.cues.length,
    cueBand: cueBand(body.cues.length),
    premiseBand: premiseBand(body.premise),
    difficulty: detectionDifficulty(body.cues, body.premise),
    custom: true,
  };
}

export async function listCustom(deps: Deps, organisationId: string): Promise<PhishTemplate[]> {
  const rows = await deps.db.selectFrom('phishing_template').select('body').where('organisation_id', '=', organisationId).orderBy('created_at').execute();
  return rows.map((r) => JSON.parse(r.body) as PhishTemplate);
}

/** A built-in template or one of this organisation's own; another organisation's is not found. */
export async function resolveTemplate(deps: Deps, organisationId: string, id: string): Promise<PhishTemplate | undefined> {
  const builtIn = findTemplate(id);
  if (builtIn) return builtIn;
  const row = await deps.db.selectFrom('phishing_template').select('body').where('organisation_id', '=', organisationId).where('id', '=', id).executeTakeFirst();
  return row ? (JSON.parse(row.body) as PhishTemplate) : undefined;
}

export async function allTemplates(deps: Deps, organisationId: string): Promise<PhishTemplate[]> {
  return [...templateLibrary, ...(await listCustom(deps, organisationId))];
}

export async function createTemplate(deps: Deps, actor: Actor, organisationId: string, body: TemplateBody): Promise<PhishTemplate> {
  const t = buildCustom(randomUUID(), body);
  await inTransaction(deps, async (tx) => {
    const now = iso(tx.now());
    const by = actor.accountId ?? '';
    await tx.db.insertInto('phishing_template').values({ id: t.id, organisation_id: organisationId, body: JSON.stringify(t), created_by: by, created_at: now, updated_by: by, updated_at: now }).execute();
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.template_created', 'C', { entity: { type: 'phishing_template', id: t.id }, detail: { name: t.name, difficulty: t.difficulty } }));
  });
  return t;
}

/** Edits a custom template. Campaigns already created keep the copy they were made with. */
export async function updateTemplate(deps: Deps, actor: Actor, organisationId: string, id: string, body: TemplateBody): Promise<PhishTemplate> {
  if (findTemplate(id)) throw new ConsiliumError('FORBIDDEN', 'built-in templates cannot be edited; create a custom one');
  const t = buildCustom(id, body);
  await inTransaction(deps, async (tx) => {
    const r = await tx.db
      .updateTable('phishing_template')
      .set({ body: JSON.stringify(t), updated_by: actor.accountId ?? '', updated_at: iso(tx.now()) })
      .where('organisation_id', '=', organisationId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw notFound('template');
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.template_updated', 'U', { entity: { type: 'phishing_template', id }, detail: { name: t.name, difficulty: t.difficulty } }));
  });
  return t;
}

/**
 * Deletes a custom template. Campaigns made with it keep their own copy (taken when each was
 * created), so their mails, results and lessons are unchanged; new campaigns can no longer pick it.
 */
export async function deleteTemplate(deps: Deps, actor: Actor, organisationId: string, id: string): Promise<void> {
  if (findTemplate(id)) throw new ConsiliumError('FORBIDDEN', 'built-in templates cannot be deleted');
  await inTransaction(deps, async (tx) => {
    const row = await tx.db.selectFrom('phishing_template').select('body').where('organisation_id', '=', organisationId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('template');
    await tx.db.deleteFrom('phishing_template').where('organisation_id', '=', organisationId).where('id', '=', id).execute();
    const { name } = JSON.parse(row.body) as PhishTemplate;
    await recordAudit(tx, auditEvent(tx, actor, 'phishing.template_deleted', 'D', { entity: { type: 'phishing_template', id }, detail: { name } }));
  });
}
